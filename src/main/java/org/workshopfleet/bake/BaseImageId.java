package org.workshopfleet.bake;

import java.nio.file.Path;
import org.workshopfleet.cloud.ec2.AmiCatalog;
import org.workshopfleet.cloud.lab.BaseImage;
import org.workshopfleet.cloud.lightsail.LightsailCloud;
import org.workshopfleet.spec.WorkshopSpec;

/** The stock image a fleet's builder starts from, as it enters the {@link ImageRecipe}. */
public final class BaseImageId {

    private BaseImageId() {
    }

    /**
     * {@code ec2:<region>:<pinned AMI>} ({@code ami.properties}; a region without a pin names Canonical's latest jammy
     * image, resolved at launch, which the recipe cannot see: pin it to make the recipe follow it),
     * {@code lightsail:ubuntu_22_04}, or {@code lab:<base image hash>}.
     */
    public static String of(WorkshopSpec spec, Path projectRoot) {
        return switch (spec.provider()) {
            case EC2 -> "ec2:" + spec.region() + ":" + AmiCatalog.load(projectRoot.resolve("ami.properties"))
                    .pinned(spec.region()).orElse("latest-jammy");
            case LIGHTSAIL -> "lightsail:" + LightsailCloud.BLUEPRINT;
            case LAB -> "lab:" + BaseImage.hash();
        };
    }
}
