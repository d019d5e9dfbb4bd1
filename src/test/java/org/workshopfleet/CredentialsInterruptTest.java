package org.workshopfleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.cloud.AwsCredentials;
import org.workshopfleet.error.Interrupted;

/**
 * Ctrl-C while {@link AwsCredentials} resolves the AWS credentials ends as {@link Interrupted} (exit 130, re-run to
 * continue), not as missing credentials (exit 2) telling the facilitator to run {@code aws sso login}: the default
 * chain turns the SDK's aborted call into its own "unable to load credentials" error and drops the cause, so only the
 * thread's interrupt flag tells. The real chain, in a child JVM ({@link CredentialsInterruptProbe}) whose environment
 * holds only an IAM Identity Center profile with a live cached token: the interrupt lands while the SSO portal's
 * answer, on a loopback listener of the probe, is held.
 */
class CredentialsInterruptTest {

    private static final String START_URL = "https://example.awsapps.com/start";
    private static final String TOKEN = "live-token-for-a-test";

    @TempDir
    Path home;
    /** Where {@code AWS_ENDPOINT_URL} points: every request must go to the probe's own listener instead. */
    HttpServer stray;
    final AtomicInteger strayRequests = new AtomicInteger();

    @BeforeEach
    void listen() throws IOException {
        stray = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        stray.createContext("/", x -> {
            strayRequests.incrementAndGet();
            x.sendResponseHeaders(500, -1);
            x.close();
        });
        stray.start();
    }

    @AfterEach
    void stop() {
        stray.stop(0);
    }

    @Test
    void ctrlCWhileTheSsoPortalAnswersIsInterruptedNotMissingCredentials() throws Exception {
        Path config = home.resolve("config");
        Files.writeString(config, """
                [profile workshop]
                sso_start_url = %s
                sso_region = ap-northeast-1
                sso_account_id = 123456789012
                sso_role_name = Facilitator
                region = ap-northeast-1
                """.formatted(START_URL));
        Path cache = Files.createDirectories(home.resolve(".aws/sso/cache"));
        String name = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1")
                .digest(START_URL.getBytes(StandardCharsets.UTF_8)));
        Files.writeString(cache.resolve(name + ".json"), "{\"accessToken\":\"" + TOKEN + "\","
                + "\"expiresAt\":\"2099-01-01T00:00:00Z\",\"region\":\"ap-northeast-1\",\"startUrl\":\"" + START_URL + "\"}");

        String out = ProbeJvm.run(CredentialsInterruptProbe.class, Map.of(
                "HOME", home.toString(),
                "AWS_CONFIG_FILE", config.toString(),
                "AWS_SHARED_CREDENTIALS_FILE", home.resolve("no-credentials").toString(),
                "AWS_PROFILE", "workshop",
                "AWS_REGION", "ap-northeast-1",
                "AWS_EC2_METADATA_DISABLED", "true",
                "AWS_ENDPOINT_URL", "http://127.0.0.1:" + stray.getAddress().getPort()),
                "-Duser.home=" + home, "-Dorg.slf4j.simpleLogger.defaultLogLevel=off");

        assertTrue(out.contains("held: true"), "the SSO portal's answer was held while the check waited: " + out);
        assertTrue(out.contains("alive: false"), "the check ended: " + out);
        assertTrue(out.contains("thrown: Interrupted exit 130: interrupted while resolving the AWS credentials: re-run"
                + " the same command to continue"), out);
        assertTrue(out.contains("flag: true"), "the interrupt flag is set again for the callers further up: " + out);
        assertTrue(out.contains("Caused by: software.amazon.awssdk.core.exception.SdkClientException (message not"
                + " shown)"), "-Dverbose shows where the interrupt was seen: " + out);
        assertFalse(out.contains(TOKEN) || out.contains(CredentialsInterruptProbe.ROLE_SECRET),
                "neither the SSO token nor the role's credentials appear: " + out);
        assertEquals(0, strayRequests.get(), "no request left for AWS_ENDPOINT_URL");
    }
}
