package org.workshopfleet.cloud.ec2;

import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.cloud.ec2.fake.RecordedCall;
import software.amazon.awssdk.services.ec2.Ec2Client;

class AmiCatalogTest {

    @Test
    void thePinnedImageCostsOneDescribeThatChecksCanonicalOwnsIt() {
        try (Ec2Fake fake = Ec2Fake.start(); Ec2Client ec2 = fake.client()) {
            AmiCatalog catalog = AmiCatalog.load(Path.of("ami.properties"));
            assertEquals("ami-08f191dd81ec3a3de", catalog.imageFor("ap-northeast-1", ec2));
            assertEquals(List.of("DescribeImages"), fake.calls().stream().map(RecordedCall::operation).toList());
            assertEquals(List.of("ami-08f191dd81ec3a3de"), fake.calls().get(0).list("ImageId"));
        }
    }

    @Test
    void aPinnedImageOfAnotherOwnerIsRefusedNamingImageOwnerAndFix() {
        try (Ec2Fake fake = Ec2Fake.start(); Ec2Client ec2 = fake.client()) {
            fake.addImage(Ec2Fake.STOCK_AMI, "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20250112",
                    "2025-01-12T00:00:00.000Z", "111122223333", "available");
            FleetException e = assertThrows(FleetException.class,
                    () -> AmiCatalog.load(Path.of("ami.properties")).imageFor("ap-northeast-1", ec2));
            assertTrue(e.getMessage().contains(Ec2Fake.STOCK_AMI) && e.getMessage().contains("111122223333")
                    && e.getMessage().contains(AmiCatalog.CANONICAL_OWNER) && e.getMessage().contains("fix the line")
                    && !e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void aPinnedImageThatDoesNotExistIsAOneLineError() {
        try (Ec2Fake fake = Ec2Fake.start(); Ec2Client ec2 = fake.client()) {
            fake.removeImage(Ec2Fake.STOCK_AMI);
            FleetException e = assertThrows(FleetException.class,
                    () -> AmiCatalog.load(Path.of("ami.properties")).imageFor("ap-northeast-1", ec2));
            assertTrue(e.getMessage().contains("does not exist") && e.getMessage().contains("ami.properties")
                    && !e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void anUnlistedRegionGetsCanonicalsNewestAvailableJammyOfEitherVolumeType() {
        try (Ec2Fake fake = Ec2Fake.start(); Ec2Client ec2 = fake.client()) {
            fake.addImage("ami-00000000000000001", "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240101",
                            "2024-01-01T00:00:00.000Z", AmiCatalog.CANONICAL_OWNER, "available")
                    .addImage("ami-00000000000000002", "ubuntu/images/hvm-ssd-gp3/ubuntu-jammy-22.04-amd64-server-20250301",
                            "2025-03-01T00:00:00.000Z", AmiCatalog.CANONICAL_OWNER, "available")
                    .addImage("ami-00000000000000003", "ubuntu/images/hvm-ssd-gp3/ubuntu-jammy-22.04-amd64-server-20250401",
                            "2025-04-01T00:00:00.000Z", AmiCatalog.CANONICAL_OWNER, "pending")
                    .addImage("ami-00000000000000004", "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20250501",
                            "2025-05-01T00:00:00.000Z", "111122223333", "available")
                    .addImage("ami-00000000000000005", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250601",
                            "2025-06-01T00:00:00.000Z", AmiCatalog.CANONICAL_OWNER, "available");

            assertEquals("ami-00000000000000002", new AmiCatalog(Map.of()).imageFor("eu-west-1", ec2));

            RecordedCall call = fake.calls("DescribeImages").get(0);
            assertEquals(List.of(AmiCatalog.CANONICAL_OWNER), call.list("Owner"));
            assertEquals("name", call.param("Filter.1.Name"));
            assertEquals(AmiCatalog.JAMMY_NAME_PATTERNS, call.list("Filter.1.Value"));
            assertEquals("available", call.param("Filter.2.Value.1"));
            assertEquals("x86_64", call.param("Filter.3.Value.1"));
        }
    }

    @Test
    void noImageIsAOneLineErrorNamingTheFix() {
        try (Ec2Fake fake = Ec2Fake.start(); Ec2Client ec2 = fake.client()) {
            fake.removeImage(Ec2Fake.STOCK_AMI); // the stand-in is one region; this one has no jammy at all
            FleetException e = assertThrows(FleetException.class,
                    () -> new AmiCatalog(Map.of()).imageFor("eu-west-1", ec2));
            assertTrue(e.getMessage().contains("eu-west-1=ami-") && !e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void aMalformedLineIsRejected(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("ami.properties");
        Files.writeString(file, "eu-west-1=ubuntu\n");
        assertThrows(FleetException.class, () -> AmiCatalog.load(file));
    }
}
