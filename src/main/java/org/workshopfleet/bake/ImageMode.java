package org.workshopfleet.bake;

import org.workshopfleet.error.BadInput;
import java.util.Locale;

/** How {@code up} launches attendee machines ({@code -Dimage}). */
public enum ImageMode {
    /** From the cloud's stock Ubuntu 22.04 (or lab base) image; every machine runs every step. */
    STOCK("stock"),
    /**
     * From a baked image of this recipe: found, or made first from one builder machine; every attendee machine then runs
     * only the per-machine steps.
     */
    BAKE("bake");

    private final String id;

    ImageMode(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** {@code stock} or {@code bake}; anything else is bad input. */
    public static ImageMode parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        for (ImageMode m : values()) {
            if (m.id.equals(t)) {
                return m;
            }
        }
        throw new BadInput("-Dimage=" + text + " is not an image mode: use -Dimage=bake (launch from a baked image,"
                + " baking it first if needed) or -Dimage=stock (the default)");
    }
}
