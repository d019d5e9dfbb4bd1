package org.workshopfleet.bake;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.FleetException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.BundleFile;
import org.workshopfleet.render.SetupStep;

/**
 * What a baked image holds, and its identity: the base image it started from, the image steps (the setup steps whose
 * script says {@code # phase: image}: the same on every machine) and the seal. Steps without that line are per-machine
 * and run on every machine launched from the image.
 *
 * <p>The hash is SHA-256 over the base image id, each image step's name and content hash, and the seal script with
 * {@code scripts/lib.sh}. Step content hashes cover only machine-independent files ({@code fleet.env}, the scripts,
 * their declared inputs), so every machine of a fleet, and every later workshop with the same inputs, computes the same
 * recipe, and changing any of those inputs changes it.
 *
 * @param baseImage  the cloud's stock image the builder starts from ({@code ec2:<region>:<ami>},
 *                   {@code lightsail:ubuntu_22_04}, {@code lab:<base image hash>})
 * @param imageSteps the image steps, in order; they come before every per-machine step
 * @param hash       lower-case hex SHA-256 of the recipe
 */
public record ImageRecipe(String baseImage, List<SetupStep> imageSteps, String hash) {

    /** The seal script, in the bundle (a plain script, not a numbered step). */
    public static final String SEAL_SCRIPT = "scripts/seal.sh";
    private static final String LIB = "scripts/lib.sh";
    private static final Pattern PHASE = Pattern.compile("(?m)^# phase:\\s*(\\S+)\\s*$");

    public ImageRecipe {
        imageSteps = List.copyOf(imageSteps);
    }

    /** The first 12 hex digits, as in image names ({@code workshop-fleet-<prefix>}). */
    public String shortHash() {
        return hash.substring(0, 12);
    }

    /**
     * The recipe of one machine's bundle (any machine of the fleet gives the same one).
     *
     * @throws FleetException when no step is an image step, a step's phase is unknown, an image step comes after a
     *                        per-machine one, or the seal script is missing
     */
    public static ImageRecipe of(String baseImage, Bundle bundle) {
        List<SetupStep> image = new ArrayList<>();
        String firstMachineStep = null;
        for (SetupStep step : bundle.steps()) {
            if (isImageStep(step, bundle)) {
                if (firstMachineStep != null) {
                    throw new BadInput(step.script() + " is an image step but comes after the per-machine step "
                            + firstMachineStep + ": number image steps first (a baked machine runs only the steps after them)");
                }
                image.add(step);
            } else if (firstMachineStep == null) {
                firstMachineStep = step.name();
            }
        }
        if (image.isEmpty()) {
            throw new BadInput("no setup step is marked '# phase: image': nothing to bake; mark the steps that are"
                    + " the same on every machine");
        }
        byte[] seal = content(bundle, SEAL_SCRIPT);
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            update(sha, "workshop-fleet image recipe 1");
            update(sha, "base " + baseImage);
            for (SetupStep s : image) {
                update(sha, "step " + s.name() + " " + s.contentHash());
            }
            update(sha, "seal");
            sha.update(seal);
            update(sha, "lib");
            sha.update(content(bundle, LIB));
            return new ImageRecipe(baseImage, image, HexFormat.of().formatHex(sha.digest()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The same bundle with only the image steps: what the builder runs. */
    public Bundle builderBundle(Bundle bundle) {
        return new Bundle(bundle.machineName(), bundle.files(), imageSteps);
    }

    static boolean isImageStep(SetupStep step, Bundle bundle) {
        String text = new String(content(bundle, step.script()), StandardCharsets.UTF_8);
        Matcher m = PHASE.matcher(text);
        if (!m.find()) {
            return false;
        }
        return switch (m.group(1)) {
            case "image" -> true;
            case "machine" -> false;
            default -> throw new BadInput(step.script() + " has '# phase: " + m.group(1)
                    + "': use '# phase: image' (the same on every machine, baked) or '# phase: machine'");
        };
    }

    private static byte[] content(Bundle bundle, String path) {
        return bundle.file(path).map(BundleFile::content).orElseThrow(() -> new BadInput(path
                + " is missing from the bundle: restore it from the repository"));
    }

    private static void update(MessageDigest sha, String line) {
        sha.update((line + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
