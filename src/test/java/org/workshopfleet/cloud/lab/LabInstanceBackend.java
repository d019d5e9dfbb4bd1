package org.workshopfleet.cloud.lab;

import org.workshopfleet.error.FleetException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.cloud.ec2.fake.InstanceBackend;

/**
 * Real lab machines behind the EC2 STAND-IN's instances ({@link org.workshopfleet.cloud.ec2.fake.Ec2Fake#backend}), so
 * the EC2 code path runs end to end: RunInstances boots a Debian 12 lab machine named after the instance id and
 * configured by cloud-init from the user data EC2 was sent; TerminateInstances destroys it.
 *
 * <p>It also stands in for the EBS snapshot behind the account's own AMIs: CreateImage powers the instance's machine off
 * and keeps its upper layer as a {@link LabImages} image (what {@code LabImageCapture.captureImage} does for the lab
 * provider), RunInstances with that AMI mounts the layer under the new machine's own, and deleting the AMI's snapshot
 * removes the layer (once no machine launched from it is left: on EC2 those have volumes of their own, in the lab they
 * share the layer read-only). The layers are keyed by a hash of this backend's random salt and the AMI id (the stand-in hands
 * out the same ids in every run), so an image left by an interrupted run is never mistaken for one of this run;
 * {@link #releaseAll} removes what is left.
 */
public final class LabInstanceBackend implements InstanceBackend {

    private final LabMachines machines;
    private final LabImages images;
    private final String salt = UUID.randomUUID().toString();
    /** Images whose snapshot was deleted while a machine launched from them still existed; guarded by itself. */
    private final java.util.Set<String> releaseWhenUnused = new java.util.HashSet<>();

    /** @param scope the lab scope the machines are recorded under ({@link LabMachines#destroyAll} removes them) */
    public LabInstanceBackend(String scope) {
        this.machines = new LabMachines(scope);
        this.images = machines.images();
    }

    @Override
    public String boot(String instanceId, String rawUserData) {
        return machines.boot(instanceId, rawUserData).ip();
    }

    @Override
    public void terminate(String instanceId) {
        machines.destroy(instanceId);
        // Under the same lock as release: a release that found this machine still mounting the layer has been noted.
        synchronized (releaseWhenUnused) {
            List.copyOf(releaseWhenUnused).forEach(this::releaseNow);
        }
    }

    @Override
    public String bootFromImage(String instanceId, String imageId, String rawUserData) {
        String key = key(imageId);
        return machines.bootFromImage(instanceId, rawUserData, key, images.layer(key)).ip();
    }

    @Override
    public void capture(String instanceId, String imageId) {
        String key = key(imageId);
        Path staging = images.staging(key);
        try {
            machines.takeLayer(instanceId, staging.resolve("layer"));
            images.adopt(key, staging.resolve("layer"), "lab:" + BaseImage.hash());
        } finally {
            HostCommand.quietly("rm", "-rf", "--one-file-system", staging.toString());
        }
    }

    @Override
    public void release(String imageId) {
        synchronized (releaseWhenUnused) {
            releaseNow(imageId);
        }
    }

    private void releaseNow(String imageId) {
        Optional<MachineImage> image = images.find(key(imageId));
        if (image.isEmpty()) {
            releaseWhenUnused.remove(imageId);
            return;
        }
        try {
            images.remove(image.get());
            releaseWhenUnused.remove(imageId);
        } catch (FleetException inUse) {
            releaseWhenUnused.add(imageId); // a machine launched from it still mounts the layer
        }
    }

    /**
     * The lab image that stands behind this AMI, if its layer exists. After its snapshot is deleted the layer goes
     * once the machines launched from it are destroyed, which TerminateInstances does in the background.
     */
    public Optional<MachineImage> layerOf(String imageId) {
        return images.find(key(imageId));
    }

    /** Removes the layers of these AMIs that are still there (after a failed run; the machines must be gone). */
    public void releaseAll(Iterable<String> imageIds) {
        imageIds.forEach(this::release);
    }

    /** Destroys every machine of this backend's scope. */
    public void destroyAll() {
        machines.destroyAll();
    }

    private String key(String imageId) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest((salt + "\n" + imageId).getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
