package org.workshopfleet.lab.standins;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Grafana HTTP API stand-in ({@code src/test/resources/standins/grafana/grafana}) run directly as a local python3
 * process on 127.0.0.1 and a port the OS picks, for tests of code that talks to Grafana (health, data source wait,
 * dashboard import) without a lab machine. It is started the way the deb's unit starts it ({@code grafana server
 * --config=... cfg:default.paths.data=... cfg:default.paths.provisioning=...}); the port comes from the real
 * {@code GF_SERVER_HTTP_PORT} override. Everything lives under one home directory, so starting again on the same
 * home is a restart with the same database.
 */
public final class LocalGrafana implements AutoCloseable {

    private static final Pattern LISTEN = Pattern.compile("msg=\"HTTP Server Listen\" address=([0-9.]+:[0-9]+)");

    private final Process process;
    private final URI baseUri;
    private final Path log;

    private LocalGrafana(Process process, URI baseUri, Path log) {
        this.process = process;
        this.baseUri = baseUri;
        this.log = log;
    }

    /**
     * Starts (or restarts) the stand-in and returns once its HTTP server listens; data sources are provisioned
     * {@code provisioningDelay} later, as in Grafana 11.6.3 and newer.
     *
     * @param home              directory for grafana.ini, {@code data/} and {@code provisioning/}
     * @param adminPassword     {@code GF_SECURITY_ADMIN_PASSWORD}, or null to leave it unset (then grafana.ini or
     *                          {@code admin}); only the first start on a home applies it
     * @param datasourcesYaml   written to {@code provisioning/datasources/workshop-fleet.yaml}, or null for none
     * @param provisioningDelay time between listening and provisioning data sources
     */
    public static LocalGrafana start(Path home, String adminPassword, String datasourcesYaml,
                                     Duration provisioningDelay) throws IOException {
        Path script = new StandInResource("grafana/grafana").copyTo(home.resolve("bin/grafana"), "rwxr-xr-x");
        Path datasources = Files.createDirectories(home.resolve("provisioning/datasources"));
        if (datasourcesYaml != null) {
            Files.writeString(datasources.resolve("workshop-fleet.yaml"), datasourcesYaml, StandardCharsets.UTF_8);
        }
        Path ini = home.resolve("grafana.ini");
        if (!Files.exists(ini)) {
            Files.write(ini, new StandInResource("grafana/grafana.ini").bytes());
        }
        Path log = Files.createTempFile(home, "grafana", ".log");
        ProcessBuilder builder = new ProcessBuilder(script.toString(), "server", "--config=" + ini,
                "--packaging=deb", "cfg:default.paths.data=" + home.resolve("data"),
                "cfg:default.paths.provisioning=" + home.resolve("provisioning"))
                .redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = builder.environment();
        env.put("GF_SERVER_HTTP_ADDR", "127.0.0.1");
        env.put("GF_SERVER_HTTP_PORT", "0");
        env.put("WORKSHOP_FLEET_STANDIN_PROVISIONING_DELAY", Double.toString(provisioningDelay.toMillis() / 1000.0));
        env.remove("GF_SECURITY_ADMIN_PASSWORD");
        if (adminPassword != null) {
            env.put("GF_SECURITY_ADMIN_PASSWORD", adminPassword);
        }
        Process process = builder.start();
        Instant deadline = Instant.now().plusSeconds(20);
        try {
            while (Instant.now().isBefore(deadline)) {
                Matcher m = LISTEN.matcher(Files.readString(log));
                if (m.find()) {
                    return new LocalGrafana(process, URI.create("http://" + m.group(1)), log);
                }
                if (!process.isAlive()) {
                    throw new IllegalStateException("Grafana stand-in exited: " + Files.readString(log));
                }
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process.destroyForcibly();
        throw new IllegalStateException("Grafana stand-in did not listen within 20 s: " + Files.readString(log));
    }

    /** E.g. {@code http://127.0.0.1:41234}. */
    public URI baseUri() {
        return baseUri;
    }

    /** The server's log so far (it never contains the admin password). */
    public String log() throws IOException {
        return Files.readString(log);
    }

    /** Stops the process (SIGTERM) and waits for it. */
    @Override
    public void close() {
        process.destroy();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
