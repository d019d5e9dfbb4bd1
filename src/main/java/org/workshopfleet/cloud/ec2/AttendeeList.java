package org.workshopfleet.cloud.ec2;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * The attendees one {@code RunInstances} call launched, in launch-index order, written compactly ({@code 7},
 * {@code 1-5,8,10-12}) into the instance's {@code Attendee} tag. One call tags all its instances alike, so an instance
 * finds its own attendee number at its {@code amiLaunchIndex} in this list.
 */
record AttendeeList(List<Integer> attendees) {

    /** EC2 tag values are limited to 256 characters. */
    static final int MAX_TAG_LENGTH = 255;

    AttendeeList {
        attendees = List.copyOf(attendees);
    }

    String encode() {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < attendees.size()) {
            int j = i;
            while (j + 1 < attendees.size() && attendees.get(j + 1) == attendees.get(j) + 1) {
                j++;
            }
            if (out.length() > 0) {
                out.append(',');
            }
            out.append(attendees.get(i));
            if (j > i) {
                out.append('-').append(attendees.get(j));
            }
            i = j + 1;
        }
        return out.toString();
    }

    /** The attendee at this launch index, if the tag parses and the index is inside it. */
    static OptionalInt attendeeAt(String tagValue, Integer launchIndex) {
        if (tagValue == null || launchIndex == null || launchIndex < 0) {
            return OptionalInt.empty();
        }
        List<Integer> list = new ArrayList<>();
        try {
            for (String part : tagValue.split(",")) {
                int dash = part.indexOf('-');
                int from = Integer.parseInt(part.substring(0, dash < 0 ? part.length() : dash).trim());
                int to = dash < 0 ? from : Integer.parseInt(part.substring(dash + 1).trim());
                for (int a = from; a <= to && list.size() <= launchIndex; a++) {
                    list.add(a);
                }
                if (list.size() > launchIndex) {
                    return OptionalInt.of(list.get(launchIndex));
                }
            }
        } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
            return OptionalInt.empty();
        }
        return OptionalInt.empty();
    }
}
