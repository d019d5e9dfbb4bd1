package org.workshopfleet.cloud.lightsail.fake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.workshopfleet.ssh.SshKeyPair;
import software.amazon.awssdk.services.lightsail.LightsailClient;
import software.amazon.awssdk.services.lightsail.model.Instance;
import software.amazon.awssdk.services.lightsail.model.InvalidInputException;
import software.amazon.awssdk.services.lightsail.model.LightsailException;
import software.amazon.awssdk.services.lightsail.model.NotFoundException;
import software.amazon.awssdk.services.lightsail.model.OperationFailureException;
import software.amazon.awssdk.services.lightsail.model.ServiceException;

/** The fake itself, seen through the real SDK and raw HTTP: wire format, errors, state rules. */
class LightsailFakeTest {

    private LightsailFake fake;
    private LightsailClient client;

    @BeforeEach
    void start() {
        fake = LightsailFake.start("ap-northeast-1").pendingPolls(1);
        client = fake.newClient();
    }

    @AfterEach
    void stop() {
        client.close();
        fake.close();
    }

    private void create(String name) {
        client.createInstances(b -> b.instanceNames(name).availabilityZone("ap-northeast-1a").blueprintId("ubuntu_22_04")
                .bundleId("small_3_0").ipAddressType("ipv4"));
    }

    @Test
    void wireFormatFollowsJsonOneOne() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> ok = http.send(HttpRequest.newBuilder(fake.endpoint().resolve("/"))
                .header("Content-Type", LightsailFake.JSON_TYPE)
                .header("X-Amz-Target", "Lightsail_20161128.GetInstances")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ok.statusCode());
        assertEquals(LightsailFake.JSON_TYPE, ok.headers().firstValue("Content-Type").orElseThrow());
        assertTrue(ok.headers().firstValue("x-amzn-RequestId").isPresent());
        assertEquals("{\"instances\":[]}", ok.body());

        HttpResponse<String> missing = http.send(HttpRequest.newBuilder(fake.endpoint().resolve("/"))
                .header("X-Amz-Target", "Lightsail_20161128.GetInstance")
                .POST(HttpRequest.BodyPublishers.ofString("{\"instanceName\":\"nope\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(400, missing.statusCode());
        assertTrue(missing.body().contains("\"__type\":\"NotFoundException\"") && missing.body().contains("\"code\""),
                missing.body());
    }

    @Test
    void errorsBecomeTheModeledSdkExceptions() {
        NotFoundException nf = assertThrows(NotFoundException.class, () -> client.getInstance(b -> b.instanceName("x")));
        assertEquals(400, nf.statusCode());
        assertEquals("DoesNotExist", nf.code());
        assertNotNull(nf.requestId());
        assertNotEquals("UNKNOWN", nf.requestId());

        for (int i = 0; i < 8; i++) {
            fake.failNext("GetInstances", Fault.SERVICE_ERROR);
        }
        ServiceException se = assertThrows(ServiceException.class, () -> client.getInstances(b -> { }));
        assertEquals(500, se.statusCode());
        assertEquals(8, fake.count("GetInstances"), "a 500 is retried up to the client's 8 attempts");

        fake.clearRequests();
        for (int i = 0; i < 8; i++) {
            fake.failNext("GetInstances", Fault.THROTTLING);
        }
        LightsailException th = assertThrows(LightsailException.class, () -> client.getInstances(b -> { }));
        assertTrue(th.isThrottlingException());
        assertEquals(400, th.statusCode());
        assertEquals(8, fake.count("GetInstances"));

        fake.clearRequests();
        fake.failNext("CreateInstances", Fault.QUOTA);
        assertThrows(OperationFailureException.class, () -> create("q-1"));
        assertEquals(1, fake.count("CreateInstances"), "4xx other than throttling is not retried");
    }

    @Test
    void namesAreUniqueAcrossResourceTypes() {
        client.importKeyPair(b -> b.keyPairName("shared").publicKeyBase64(SshKeyPair.generate("c").publicKeyLine()));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> create("shared"));
        assertEquals("NameExists", e.code());
        assertTrue(e.awsErrorDetails().errorMessage().contains("Some names are already in use: shared"));

        fake.addOtherResource("disk-1", "Disk");
        assertEquals("NameExists", assertThrows(InvalidInputException.class,
                () -> client.importKeyPair(b -> b.keyPairName("disk-1").publicKeyBase64(SshKeyPair.generate("c").publicKeyLine())))
                .code());
    }

    @Test
    void importKeyPairTakesTheRawOpenSshLineOnly() {
        String line = SshKeyPair.generate("c").publicKeyLine();
        String doubleEncoded = Base64.getEncoder().encodeToString(line.getBytes(StandardCharsets.UTF_8));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> client.importKeyPair(b -> b.keyPairName("kp").publicKeyBase64(doubleEncoded)));
        assertEquals("InvalidKey.Format", e.code());
        client.importKeyPair(b -> b.keyPairName("kp").publicKeyBase64(line));
        assertEquals(LightsailFake.fingerprint(line), client.getKeyPair(b -> b.keyPairName("kp")).keyPair().fingerprint());
    }

    @Test
    void instancesRunAfterThePendingPollsAndOnlyThenHaveAnAddress() {
        create("m-1");
        Instance first = client.getInstance(b -> b.instanceName("m-1")).instance();
        assertEquals("pending", first.state().name());
        assertNull(first.publicIpAddress());
        Instant created = first.createdAt();
        assertTrue(Duration.between(created, Instant.now()).abs().getSeconds() < 60, "epoch-second timestamp: " + created);
        Instance second = client.getInstances(b -> { }).instances().get(0);
        assertEquals("running", second.state().name());
        assertEquals(16, second.state().code());
        assertNotNull(second.publicIpAddress());
        assertEquals("ap-northeast-1a", second.location().availabilityZone());

        client.deleteInstance(b -> b.instanceName("m-1").forceDeleteAddOns(true));
        assertThrows(NotFoundException.class, () -> client.getInstance(b -> b.instanceName("m-1")));
        assertThrows(NotFoundException.class, () -> client.deleteInstance(b -> b.instanceName("m-1")));
    }

    @Test
    void getInstancesPagesWithATokenAndLosesNothing() {
        fake.pageSize(2);
        for (int i = 1; i <= 5; i++) {
            create("p-" + i);
        }
        var page1 = client.getInstances(b -> { });
        assertEquals(2, page1.instances().size());
        assertNotNull(page1.nextPageToken());
        var page2 = client.getInstances(b -> b.pageToken(page1.nextPageToken()));
        var page3 = client.getInstances(b -> b.pageToken(page2.nextPageToken()));
        assertEquals(1, page3.instances().size());
        assertNull(page3.nextPageToken());
        assertEquals(java.util.List.of("p-1", "p-2", "p-3", "p-4", "p-5"),
                java.util.stream.Stream.of(page1, page2, page3).flatMap(p -> p.instances().stream()).map(Instance::name).toList());
    }

    @Test
    void lostResponsePerformsTheCreateThenMakesTheRetryMeetNameExists() {
        fake.failNext("CreateInstances", Fault.LOST_RESPONSE);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> create("lost-1"));
        assertEquals("NameExists", e.code());
        assertTrue(fake.instance("lost-1").isPresent());
        assertEquals(URI.create("http://127.0.0.1:" + fake.endpoint().getPort()), fake.endpoint());
    }
}
