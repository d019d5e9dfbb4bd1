package org.workshopfleet.cli;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.FleetException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Refuses {@code -D} keys that look like options but are not: {@code -Dnmae=rehearsal} would otherwise be ignored and
 * the command would act on the default workshop. A key without a dot that is neither in {@link Options#PROPERTIES} nor
 * in {@link #FOREIGN} is bad input, reported with the closest option as a suggestion. Keys with a dot ({@code java.*},
 * {@code org.slf4j.*}, {@code exec.*}, {@code maven.*}, {@code surefire.*}) belong to the JVM and tools and pass.
 */
final class UnknownProperties {

    /**
     * Dot-less keys that other software sets or reads, so they may reach {@link Main} without being ours.
     * {@code mvn exec:java} runs in Maven's JVM and sees every {@code -D} of the Maven command line; Maven 3.8's own
     * system properties all have dots (checked with {@code mvn exec:java} printing {@code System.getProperties()}), but a
     * facilitator may add Maven or Surefire user properties to the same command ({@code -DskipTests}, {@code -Dtest},
     * {@code -DargLine}, {@code -DskipITs}, {@code -DfailIfNoTests}); Surefire and Failsafe set {@code basedir} and
     * {@code localRepository} in forked test JVMs; and the JDK's "Networking Properties" page documents
     * {@code socksProxyHost}, {@code socksProxyPort} and {@code socksProxyVersion}, which the AWS SDK and sshj honour.
     */
    static final Set<String> FOREIGN = Set.of("skipTests", "test", "argLine", "skipITs", "failIfNoTests", "basedir",
            "localRepository", "socksProxyHost", "socksProxyPort", "socksProxyVersion");

    /** Suggest an option only this close (Damerau-Levenshtein, ignoring case): typos, not other words. */
    private static final int MAX_DISTANCE = 2;

    private UnknownProperties() {
    }

    /**
     * @throws FleetException naming every unknown key, each with its closest option when there is one
     */
    static void refuse(Map<String, String> props) {
        List<String> unknown = new ArrayList<>();
        for (String key : new TreeSet<>(props.keySet())) {
            if (key.indexOf('.') < 0 && !Options.PROPERTIES.containsKey(key) && !FOREIGN.contains(key)) {
                String near = closest(key);
                unknown.add("-D" + key + (near == null ? "" : " (did you mean -D" + near + "?)"));
            }
        }
        if (!unknown.isEmpty()) {
            throw new BadInput("unknown option" + (unknown.size() == 1 ? " " : "s ") + String.join(", ", unknown)
                    + ": fix or remove it; nothing was done (-Dhelp lists every option)");
        }
    }

    /** The option nearest to {@code key}, or null when none is within {@link #MAX_DISTANCE}. */
    static String closest(String key) {
        String best = null;
        int bestDistance = MAX_DISTANCE + 1;
        for (String option : Options.PROPERTIES.keySet()) {
            int d = distance(key.toLowerCase(Locale.ROOT), option.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                best = option;
                bestDistance = d;
            }
        }
        return best;
    }

    /** Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
