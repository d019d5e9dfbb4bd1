package org.workshopfleet.lab.standins;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One host command the stand-ins need while building their files (tar, dpkg-deb, apt-ftparchive, gpg, git).
 * Fails loudly with the command's own output, since a half-built stand-in would only surface later as a confusing
 * failure on a lab machine.
 *
 * @param directory working directory
 * @param environment extra environment variables
 * @param argv the command and its arguments
 */
record ExternalCommand(Path directory, Map<String, String> environment, List<String> argv) {

    ExternalCommand {
        environment = Map.copyOf(environment);
        argv = List.copyOf(argv);
    }

    static ExternalCommand in(Path directory, String... argv) {
        return new ExternalCommand(directory, Map.of(), List.of(argv));
    }

    ExternalCommand withEnvironment(Map<String, String> extra) {
        return new ExternalCommand(directory, extra, argv);
    }

    /** Runs the command and returns its standard output; stderr is kept for the error message only. */
    String run() {
        return new String(runBytes(null), StandardCharsets.UTF_8);
    }

    /** Runs the command writing its standard output to {@code stdout}. */
    void runTo(Path stdout) {
        runBytes(stdout);
    }

    private byte[] runBytes(Path stdout) {
        ProcessBuilder builder = new ProcessBuilder(argv).directory(directory.toFile());
        builder.environment().putAll(environment);
        builder.environment().put("LC_ALL", "C");
        Path errors = null;
        try {
            errors = Files.createTempFile("standin-cmd", ".err");
            builder.redirectError(errors.toFile());
            if (stdout != null) {
                builder.redirectOutput(stdout.toFile());
            }
            builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            Process process = builder.start();
            byte[] out = stdout == null ? process.getInputStream().readAllBytes() : new byte[0];
            int rc = process.waitFor();
            if (rc != 0) {
                String err = Files.readString(errors, StandardCharsets.UTF_8).strip();
                throw new IllegalStateException("stand-in build step failed (exit " + rc + "): "
                        + String.join(" ", argv) + "\n" + err);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + argv.get(0) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + argv.get(0), e);
        } finally {
            if (errors != null) {
                try {
                    Files.deleteIfExists(errors);
                } catch (IOException ignored) {
                    // a leftover temp file is harmless
                }
            }
        }
    }
}
