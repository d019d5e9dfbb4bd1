package org.workshopfleet;

import org.workshopfleet.cloud.AwsCredentials;
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
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default credential chain reaches the SSO provider for an IAM Identity Center profile (the {@code sso} and
 * {@code ssooidc} modules are on the class path), and {@link AwsCredentials} turns a missing or expired SSO
 * session into one line naming {@code aws sso login --profile …}. Run in a child JVM (the chain reads environment
 * variables) with a temporary home and {@code AWS_CONFIG_FILE}; every AWS endpoint points at a loopback listener that
 * must receive nothing: these failures are local.
 */
class SsoCredentialsTest {

    @TempDir
    Path home;
    HttpServer listener;
    final AtomicInteger requests = new AtomicInteger();

    @BeforeEach
    void listen() throws IOException {
        listener = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        listener.createContext("/", x -> {
            requests.incrementAndGet();
            x.sendResponseHeaders(500, -1);
            x.close();
        });
        listener.start();
    }

    @AfterEach
    void stop() {
        listener.stop(0);
    }

    @Test
    void anSsoSessionProfileWithoutATokenReachesTheSsoProvider() throws Exception {
        Path config = write("config", """
                [profile workshop]
                sso_session = venue
                sso_account_id = 123456789012
                sso_role_name = Facilitator
                region = ap-northeast-1

                [sso-session venue]
                sso_start_url = https://example.awsapps.com/start
                sso_region = ap-northeast-1
                sso_registration_scopes = sso:account:access
                """);

        String out = probe(config, "workshop");

        assertFalse(out.contains("'sso' service module") || out.contains("Sso related properties"),
                "the sso module is on the class path: " + out);
        assertTrue(out.contains("Unable to load SSO token"), "the SSO provider looked for the token cache: " + out);
        assertTrue(checkLine(out).contains("session of AWS profile 'workshop' has expired or was never started")
                && checkLine(out).contains("run 'aws sso login --profile workshop'"), out);
        assertEquals(0, requests.get(), "no request left the computer");
    }

    @Test
    void anExpiredLegacySsoTokenIsOneLineNamingTheLogin() throws Exception {
        String startUrl = "https://example.awsapps.com/start";
        Path config = write("config", """
                [profile legacy]
                sso_start_url = %s
                sso_region = ap-northeast-1
                sso_account_id = 123456789012
                sso_role_name = Facilitator
                region = ap-northeast-1
                """.formatted(startUrl));
        Path cache = home.resolve(".aws/sso/cache");
        Files.createDirectories(cache);
        String name = HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-1")
                .digest(startUrl.getBytes(StandardCharsets.UTF_8)));
        Files.writeString(cache.resolve(name + ".json"), "{\"accessToken\":\"expired-token-for-a-test\","
                + "\"expiresAt\":\"2020-01-01T00:00:00Z\",\"region\":\"ap-northeast-1\",\"startUrl\":\"" + startUrl + "\"}");

        String out = probe(config, "legacy");

        assertTrue(out.contains("has expired or is otherwise invalid"), "the SDK read the cached token: " + out);
        String check = checkLine(out);
        assertTrue(check.startsWith("no AWS credentials for ec2: the IAM Identity Center (SSO) session of AWS profile"
                + " 'legacy' has expired") && check.endsWith("run 'aws sso login --profile legacy' and re-run"), check);
        assertFalse(out.contains("expired-token-for-a-test"), "the token never appears in output");
        assertEquals(0, requests.get());
    }

    @Test
    void aProfileWithoutSsoKeepsTheGeneralLine() throws Exception {
        Path config = write("config", """
                [profile plain]
                region = ap-northeast-1
                """);
        String check = checkLine(probe(config, "plain"));
        assertTrue(check.startsWith("no AWS credentials for ec2: set AWS_ACCESS_KEY_ID"), check);
    }

    private static String checkLine(String out) {
        return out.lines().filter(l -> l.startsWith("check: ")).findFirst().orElse("(none)").substring(7);
    }

    private Path write(String name, String text) throws IOException {
        Path p = home.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    private String probe(Path config, String profile) throws IOException, InterruptedException {
        return ProbeJvm.run(CredentialsProbe.class, Map.of(
                "HOME", home.toString(),
                "AWS_CONFIG_FILE", config.toString(),
                "AWS_SHARED_CREDENTIALS_FILE", home.resolve("no-credentials").toString(),
                "AWS_PROFILE", profile,
                "AWS_EC2_METADATA_DISABLED", "true",
                "AWS_ENDPOINT_URL", "http://127.0.0.1:" + listener.getAddress().getPort()),
                "-Duser.home=" + home, "-Dorg.slf4j.simpleLogger.defaultLogLevel=off");
    }
}
