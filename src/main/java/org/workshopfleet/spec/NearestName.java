package org.workshopfleet.spec;

import java.util.Collection;
import java.util.Locale;

/**
 * The known name a mistyped one most likely meant, for "did you mean" hints on {@code -D} options and on the keys of a
 * {@code -Dsources} file. Only typos count: a name further than {@link #MAX_DISTANCE} edits away has no suggestion.
 */
public final class NearestName {

    /** Suggest a name only this close (Damerau-Levenshtein, ignoring case): typos, not other words. */
    public static final int MAX_DISTANCE = 2;

    private NearestName() {
    }

    /** The name of {@code known} nearest to {@code key}, or null when none is within {@link #MAX_DISTANCE}. */
    public static String closest(String key, Collection<String> known) {
        String best = null;
        int bestDistance = MAX_DISTANCE + 1;
        for (String name : known) {
            int d = distance(key.toLowerCase(Locale.ROOT), name.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                best = name;
                bestDistance = d;
            }
        }
        return best;
    }

    /** Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions. */
    public static int distance(String a, String b) {
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
