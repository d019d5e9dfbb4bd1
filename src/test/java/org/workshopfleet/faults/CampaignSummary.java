package org.workshopfleet.faults;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The figures of a seeded fault campaign (EC2's {@link FaultCampaign}, {@link LightsailCampaign}): every seed's outcome
 * summed, violations named by seed.
 *
 * @param title         what the campaign is, first words of {@link #text()}
 * @param injectedLabel how {@link #text()} introduces the injected-fault counts
 */
record CampaignSummary(String title, String injectedLabel, int runs, int upRuns, int refusals, Map<String, Long> injected,
                       List<String> violations, long millis) {

    /** One seed's result, as both campaigns' {@code Outcome} records report it. */
    interface SeedOutcome {
        Object draw();

        int upRuns();

        boolean refused();

        List<String> violations();

        Map<String, Long> injected();
    }

    /** Runs one seed. */
    interface Seeds {
        SeedOutcome run(long seed) throws IOException;
    }

    /** Runs seeds {@code firstSeed … firstSeed + runs - 1}; seeds with violations are printed to {@code progress}. */
    static CampaignSummary run(String title, String injectedLabel, long firstSeed, int runs, Seeds seeds,
                               PrintStream progress) throws IOException {
        Map<String, Long> injected = new TreeMap<>();
        List<String> violations = new ArrayList<>();
        int upRuns = 0;
        int refusals = 0;
        long start = System.nanoTime();
        for (long seed = firstSeed; seed < firstSeed + runs; seed++) {
            SeedOutcome o = seeds.run(seed);
            upRuns += o.upRuns();
            refusals += o.refused() ? 1 : 0;
            o.injected().forEach((k, v) -> injected.merge(k, v, Long::sum));
            for (String v : o.violations()) {
                violations.add("seed " + seed + ": " + v);
            }
            if (progress != null && !o.violations().isEmpty()) {
                progress.println("seed " + seed + " " + o.draw() + ": " + o.violations());
            }
        }
        return new CampaignSummary(title, injectedLabel, runs, upRuns, refusals, injected, violations,
                (System.nanoTime() - start) / 1_000_000);
    }

    String text() {
        return String.format(Locale.ROOT, "%s: %d runs (%d up runs, %d expected quota refusals) in %.1f s; %s: %s;"
                + " invariant violations: %d", title, runs, upRuns, refusals, millis / 1000.0, injectedLabel, injected,
                violations.size());
    }
}
