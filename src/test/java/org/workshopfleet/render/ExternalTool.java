package org.workshopfleet.render;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command-line tool the content checks rely on (shellcheck, promtool, systemd-analyze, python3, tar, bash).
 * A missing tool skips the test on a laptop but fails it when {@code CI=true}: CI must have every checker.
 */
record ExternalTool(String name, String debianPackage) {

    static final ExternalTool SHELLCHECK = new ExternalTool("shellcheck", "shellcheck");
    static final ExternalTool PROMTOOL = new ExternalTool("promtool", "prometheus");
    static final ExternalTool SYSTEMD_ANALYZE = new ExternalTool("systemd-analyze", "systemd");
    static final ExternalTool BASH = new ExternalTool("bash", "bash");
    static final ExternalTool TAR = new ExternalTool("tar", "tar");
    static final ExternalTool PYTHON3 = new ExternalTool("python3", "python3-yaml");

    /** What a run printed (stdout and stderr merged) and its exit code. */
    record Result(int exitCode, String output) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    /** Skips (laptop) or fails (CI=true) when the tool is not on the PATH. */
    ExternalTool require() {
        boolean present = name.contains("/") && Files.isExecutable(Path.of(name));
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                present = true;
                break;
            }
        }
        if (!present) {
            missing(name + " (Debian package " + debianPackage + ")");
        }
        return this;
    }

    /** Skips the test, or fails it when {@code CI=true}. */
    static void missing(String what) {
        String why = what + " is not installed";
        if ("true".equals(System.getenv("CI"))) {
            fail(why + ": CI must install it (.ci/run)");
        }
        assumeTrue(false, why);
    }

    Result run(Path dir, String stdin, Map<String, String> env, String... args) {
        require();
        List<String> cmd = new ArrayList<>();
        cmd.add(name);
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            if (stdin != null) {
                p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail(name + " did not finish in 120 s");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new AssertionError("cannot run " + name + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    Result run(Path dir, String... args) {
        return run(dir, null, Map.of(), args);
    }
}
