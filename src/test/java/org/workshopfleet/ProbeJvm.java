package org.workshopfleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a probe's {@code main} in a fresh JVM on this class path, with none of this process's {@code AWS_*} variables,
 * so a test can see how the SDK reads the environment (endpoints, profiles) exactly as a facilitator's shell sets it.
 */
public final class ProbeJvm {

    private ProbeJvm() {
    }

    /**
     * @param probe      class whose {@code main} to run
     * @param env        variables to set (after every inherited {@code AWS_*} one is removed)
     * @param jvmOptions options before the class name, e.g. {@code -Duser.home=…}
     * @return the probe's stdout and stderr; fails the test unless it exits 0 within 60 s
     */
    public static String run(Class<?> probe, Map<String, String> env, String... jvmOptions)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path")));
        command.addAll(List.of(jvmOptions));
        command.add(probe.getName());
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().keySet().removeIf(k -> k.startsWith("AWS_"));
        pb.environment().putAll(env);
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    /** Stand-in credentials, a region, no instance metadata and no profile files, plus {@code extra}. */
    public static Map<String, String> standInAccount(Map<String, String> extra) {
        Map<String, String> env = new java.util.HashMap<>(Map.of(
                "AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKEFAKE",
                "AWS_SECRET_ACCESS_KEY", "fake-secret-for-the-stand-ins",
                "AWS_REGION", "ap-northeast-1",
                "AWS_EC2_METADATA_DISABLED", "true",
                "AWS_CONFIG_FILE", "/nonexistent/aws-config",
                "AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials"));
        env.putAll(extra);
        return env;
    }
}
