package org.workshopfleet.cloud.ec2;

import org.workshopfleet.error.BadInput;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.DescribeImagesRequest;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Image;

/**
 * Which Ubuntu 22.04 amd64 image to boot: the AMI pinned for the region in {@code ami.properties}, otherwise Canonical's
 * newest available jammy image found by name (docs/aws-facts.md, "Ubuntu images").
 */
public final class AmiCatalog {

    /** Canonical's AWS account, the owner of the official Ubuntu images. */
    public static final String CANONICAL_OWNER = "099720109477";
    /** Canonical publishes jammy under both volume-type prefixes. */
    public static final List<String> JAMMY_NAME_PATTERNS = List.of(
            "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*",
            "ubuntu/images/hvm-ssd-gp3/ubuntu-jammy-22.04-amd64-server-*");

    private final Map<String, String> pinned;

    /** @param pinned region → AMI id */
    public AmiCatalog(Map<String, String> pinned) {
        this.pinned = Map.copyOf(pinned);
    }

    /** Reads {@code ami.properties} ({@code region=ami-…} lines). */
    public static AmiCatalog load(Path file) {
        Properties props = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            props.load(in);
        } catch (IOException e) {
            throw new BadInput("cannot read " + file + " (" + e.getClass().getSimpleName()
                    + "): restore ami.properties from the repository");
        }
        Map<String, String> map = new TreeMap<>();
        for (String region : props.stringPropertyNames()) {
            String ami = props.getProperty(region).trim();
            if (!ami.matches("ami-[0-9a-f]{8,17}")) {
                throw new BadInput(file + " maps " + region + " to '" + ami + "', which is not an AMI id: fix the line");
            }
            map.put(region.trim(), ami);
        }
        return new AmiCatalog(map);
    }

    public Optional<String> pinned(String region) {
        return Optional.ofNullable(pinned.get(region));
    }

    /**
     * The stock image to boot, always Canonical's: the pinned AMI once one {@code DescribeImages} showed Canonical owns
     * it, or the newest matching image that a {@code DescribeImages} restricted to Canonical's account finds. A pinned
     * AMI of any other owner (a typo, or a look-alike image someone published under Canonical's name) is refused with
     * one line, before anything is created.
     */
    public String imageFor(String region, Ec2Client ec2) {
        Optional<String> pin = pinned(region);
        if (pin.isPresent()) {
            return checkedPin(region, pin.get(), ec2);
        }
        DescribeImagesRequest request = DescribeImagesRequest.builder()
                .owners(CANONICAL_OWNER)
                .filters(Filter.builder().name("name").values(JAMMY_NAME_PATTERNS).build(),
                        Filter.builder().name("state").values("available").build(),
                        Filter.builder().name("architecture").values("x86_64").build())
                .build();
        return ec2.describeImagesPaginator(request).images().stream()
                .filter(i -> i.creationDate() != null)
                .max(Comparator.comparing(Image::creationDate))
                .map(Image::imageId)
                .orElseThrow(() -> new BadInput("no available Ubuntu 22.04 amd64 image from Canonical in " + region
                        + ": add '" + region + "=ami-…' to ami.properties or choose another -Dregion"));
    }

    private static String checkedPin(String region, String ami, Ec2Client ec2) {
        String fix = ": fix the line '" + region + "=' in ami.properties with Canonical's Ubuntu 22.04 amd64 AMI for "
                + region + " (owner " + CANONICAL_OWNER + "), or remove the line to use Canonical's newest";
        List<Image> found;
        try {
            found = ec2.describeImages(r -> r.imageIds(ami)).images();
        } catch (Ec2Exception e) {
            String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
            if (code == null || !code.startsWith("InvalidAMIID.")) {
                throw e;
            }
            found = List.of();
        }
        if (found.isEmpty()) {
            throw new BadInput("the AMI " + ami + " pinned for " + region + " in ami.properties does not exist"
                    + " there or is not visible to this account" + fix);
        }
        String owner = found.get(0).ownerId();
        if (!CANONICAL_OWNER.equals(owner)) {
            throw new BadInput("the AMI " + ami + " pinned for " + region + " in ami.properties belongs to account "
                    + owner + ", not Canonical (" + CANONICAL_OWNER + ")" + fix);
        }
        return ami;
    }
}
