package org.workshopfleet.cloud.lab;

import org.workshopfleet.error.CloudFailure;
import org.workshopfleet.error.Interrupted;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One command run on the lab host (ip, iptables, mount, debootstrap...), its output captured. The lab only ever runs
 * fixed programs with argument lists, never a shell string, so names never need quoting.
 */
final class HostCommand {

    /** What a finished command printed (stdout and stderr together) and how it exited. */
    record Result(int exitCode, String output) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    private HostCommand() {
    }

    /** Runs the command; any exit code is returned. */
    static Result run(List<String> command) {
        return run(command, null, 600);
    }

    /** Runs the command, appending its output to {@code log} when given, and kills it after the timeout. */
    static Result run(List<String> command, Path log, long timeoutSeconds) {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("LC_ALL", "C");
        pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
        if (log != null) {
            pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        }
        try {
            Process p = pb.start();
            byte[] out = new byte[0];
            if (log == null) {
                try (InputStream in = p.getInputStream()) {
                    out = in.readAllBytes();
                }
            }
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                return new Result(124, "timed out after " + timeoutSeconds + " s");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8).strip());
        } catch (IOException e) {
            return new Result(127, command.get(0) + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Interrupted("running " + command.get(0), e);
        }
    }

    /** Runs the command and fails with a one-line error naming it when it exits non-zero. */
    static String check(String... command) {
        Result r = run(List.of(command));
        if (!r.ok()) {
            throw new CloudFailure("lab: '" + String.join(" ", command) + "' failed (exit " + r.exitCode() + "): "
                    + firstLine(r.output()));
        }
        return r.output();
    }

    /** Runs the command and ignores a failure (for removing things that may already be gone). */
    static Result quietly(String... command) {
        return run(List.of(command));
    }

    static String firstLine(String s) {
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl);
    }
}
