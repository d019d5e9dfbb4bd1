package org.workshopfleet.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.workshopfleet.command.MachineRendering;
import org.workshopfleet.cloud.UserDataFormat;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.BundleFile;
import org.workshopfleet.render.MachineModel;
import org.workshopfleet.render.Renderer;
import org.workshopfleet.render.SetupStep;

/**
 * The benchmark's light profile: the real {@link Renderer} renders the real user data and the FULL bundle (every
 * template, sample and script), then each setup step's script is swapped for a quick stand-in that sleeps and writes
 * a file, under the same step name (so markers and resume work as for real). The step's hash is derived from the
 * real hash and the stand-in script, so a real run on the same machine never mistakes a stand-in marker for its own.
 * Every bundle handed out is remembered, so the Ansible side uploads byte-identical bundles with identical hashes.
 */
final class QuickSteps {

    /** Where the stand-in steps leave their proof of having run, one file per step. */
    static final String PROOF_DIR = "/var/lib/workshop-fleet-bench";

    private final double sleepSeconds;
    private final Map<String, Bundle> rendered = new ConcurrentHashMap<>();

    QuickSteps(double sleepSeconds) {
        this.sleepSeconds = sleepSeconds;
    }

    /** For {@code Wiring.withRendering}: renders from {@code projectRoot}, whatever root Fleet passes. */
    Function<Path, MachineRendering> rendering(Path projectRoot) {
        Renderer renderer = new Renderer(projectRoot);
        return ignored -> new MachineRendering() {
            @Override
            public String userData(MachineModel m, UserDataFormat format) {
                return renderer.userData(m, format);
            }

            @Override
            public Bundle bundle(MachineModel m) {
                Bundle quick = swapSteps(renderer.bundle(m));
                rendered.put(quick.machineName(), quick);
                return quick;
            }
        };
    }

    /** The last bundle rendered for {@code machine} (what Fleet uploaded to it). */
    Bundle bundleOf(String machine) {
        Bundle b = rendered.get(machine);
        if (b == null) {
            throw new IllegalStateException("no bundle was rendered for " + machine);
        }
        return b;
    }

    Bundle swapSteps(Bundle real) {
        Map<String, byte[]> scripts = new ConcurrentHashMap<>();
        List<SetupStep> steps = new ArrayList<>();
        for (SetupStep s : real.steps()) {
            byte[] script = quickScript(s.name()).getBytes(StandardCharsets.UTF_8);
            scripts.put(s.script(), script);
            steps.add(new SetupStep(s.name(), s.script(), sha256(s.contentHash() + "\n" + new String(script,
                    StandardCharsets.UTF_8))));
        }
        List<BundleFile> files = new ArrayList<>();
        for (BundleFile f : real.files()) {
            byte[] swapped = scripts.get(f.path());
            files.add(swapped == null ? f : new BundleFile(f.path(), swapped, f.mode()));
        }
        if (files.stream().filter(f -> scripts.containsKey(f.path())).count() != scripts.size()) {
            throw new IllegalStateException("a step's script is not in the bundle of " + real.machineName());
        }
        return new Bundle(real.machineName(), files, steps);
    }

    private String quickScript(String step) {
        return "#!/bin/bash\n"
                + "# Benchmark stand-in for setup step " + step + " (FleetBenchmark): sleeps, then leaves a proof file.\n"
                // One program besides bash itself (sleep): the stand-in's own CPU is not what is measured, and on a
                // shared 2-core host every extra exec is paid 30 times over, by us and by Ansible alike.
                + "set -euo pipefail\n"
                + "test -r \"$BUNDLE_DIR/fleet.env\"\n"
                + "sleep " + sleepSeconds + "\n"
                + "[ -d " + PROOF_DIR + " ] || mkdir -p " + PROOF_DIR + "\n"
                + "printf '%s\\n' \"$EPOCHREALTIME\" > " + PROOF_DIR + "/" + step + "\n";
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
