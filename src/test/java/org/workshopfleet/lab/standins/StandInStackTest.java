package org.workshopfleet.lab.standins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.grafana.GrafanaClient;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Prometheus from the stand-in tarball, run with the workshop's flags and scrape config (scrape interval shortened
 * for the test), scrapes the ebpf_exporter stand-in: the target is up, the relabel rule drops client_golang's own
 * series, and the dashboard's histogram query returns a value; the Grafana stand-in on that Prometheus returns data
 * for every panel of the workshop dashboard through its data source query API.
 */
class StandInStackTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build();

    @TempDir
    Path tmp;

    @Test
    void prometheusFromTheTarballScrapesTheExporterStandIn() throws Exception {
        List<Process> processes = new ArrayList<>();
        try (StandIns standIns = StandIns.start(InetAddress.getLoopbackAddress(), Path.of("target/standins-stack-test"))) {
            Path tarball = download(standIns.sources().releaseBase() + PrometheusRelease.TARBALL_PATH,
                    tmp.resolve("prometheus.tar.gz"));
            Path home = Files.createDirectories(tmp.resolve("usr-local-prometheus"));
            ExternalCommand.in(home, "tar", "-xzf", tarball.toString(), "--strip-components=1").run();
            Path exporter = tmp.resolve("ebpf_exporter");
            download(standIns.sources().releaseBase() + EbpfExporterRelease.BINARY_PATH, exporter);
            Files.setPosixFilePermissions(exporter, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.createDirectories(tmp.resolve("examples"));
            Files.write(tmp.resolve("examples/php.yaml"), new StandInResource("attendee/php.yaml").bytes());

            // The stand-in counts PHP's probes with bpftrace; this host has no PHP, so recorded output stands in.
            RecordedBpftrace.writeObject(tmp.resolve("examples"));
            Path exporterLog = tmp.resolve("exporter.log");
            ProcessBuilder exporterProcess = new ProcessBuilder(exporter.toString(), "--config.dir=examples",
                    "--config.names=php", "--web.listen-address=127.0.0.1:0").directory(tmp.toFile())
                    .redirectErrorStream(true).redirectOutput(exporterLog.toFile());
            exporterProcess.environment().putAll(RecordedBpftrace.install(tmp.resolve("bpftrace")).environment());
            processes.add(exporterProcess.start());
            String exporterAddress = ProcessLog.await(processes.get(0), exporterLog, Pattern.compile("Listening on ([0-9.]+:[0-9]+)"));

            Files.writeString(home.resolve("prometheus.yml"), """
                    global:
                      scrape_interval: 1s
                      evaluation_interval: 30s
                    scrape_configs:
                      - job_name: ebpf
                        static_configs:
                          - targets: ['%s']
                        metric_relabel_configs:
                          - source_labels: [__name__]
                            regex: '^(promhttp_|go_|process_|prometheus_|http_).+$'
                            action: drop
                    """.formatted(exporterAddress));
            int port;
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            Path prometheusLog = tmp.resolve("prometheus.log");
            processes.add(new ProcessBuilder(home.resolve("prometheus").toString(),
                    "--config.file=" + home.resolve("prometheus.yml"), "--storage.tsdb.path=" + home.resolve("data"),
                    "--web.listen-address=127.0.0.1:" + port,
                    "--storage.tsdb.retention.time=40d", "--query.timeout=10s", "--web.read-timeout=30s",
                    "--query.lookback-delta=30m", "--enable-feature=promql-experimental-functions")
                    .directory(home.toFile()).redirectErrorStream(true).redirectOutput(prometheusLog.toFile()).start());
            URI prometheus = URI.create("http://127.0.0.1:" + port);

            Instant deadline = Instant.now().plusSeconds(60);
            JsonNode target = null;
            while (Instant.now().isBefore(deadline)) {
                if (!processes.get(1).isAlive()) {
                    fail("prometheus exited: " + Files.readString(prometheusLog));
                }
                try {
                    JsonNode targets = get(prometheus.resolve("/api/v1/targets")).path("data").path("activeTargets");
                    if (targets.size() == 1 && targets.get(0).path("health").asText().equals("up")) {
                        target = targets.get(0);
                        break;
                    }
                } catch (java.io.IOException notYetListening) {
                    // keep polling
                }
                Thread.sleep(250);
            }
            assertTrue(target != null, "ebpf target not up: " + Files.readString(prometheusLog));
            assertEquals("ebpf", target.path("scrapePool").asText());
            Thread.sleep(3000); // several scrapes, so rate() has two samples that differ

            assertEquals(0, query(prometheus, "count({__name__=~\"go_.+|promhttp_.+|process_.+\"})").size(),
                    "metric_relabel_configs drops client_golang's series");
            assertEquals(3, query(prometheus, "ebpf_exporter_php_compile_file_total").size());
            JsonNode p99 = query(prometheus,
                    "histogram_quantile(0.99, sum(rate(ebpf_exporter_php_request_time_sec_bucket[1m])) by (le))");
            assertEquals(1, p99.size());
            double seconds = Double.parseDouble(p99.get(0).path("value").get(1).asText());
            assertTrue(seconds > 0 && seconds < 1, "p99 request time " + seconds);

            // The Grafana stand-in on this Prometheus (the workshop's data source, its scrape interval set to this
            // Prometheus' 1 s): every panel of the workshop dashboard returns data through the data source query
            // API, with the macros expanded for a one-minute window.
            String datasource = Files.readString(Path.of("templates/grafana/datasource.yaml.ftl"))
                    .replace("http://127.0.0.1:9090", prometheus.toString()).replace("timeInterval: 15s", "timeInterval: 1s");
            try (LocalGrafana grafana = LocalGrafana.start(Files.createDirectories(tmp.resolve("grafana")), "pw",
                    datasource, Duration.ofMillis(100))) {
                GrafanaClient client = new GrafanaClient(grafana.baseUri(), "pw", Duration.ofMillis(50));
                client.installDashboards(List.of(Path.of("dashboards/php-usdt-uprobe.json")), Duration.ofSeconds(20));
                GrafanaClient.PanelCheck panels = client.queryPanels("php-usdt-uprobe", Duration.ofMinutes(1));
                assertEquals(List.of(), panels.failing());
                assertEquals(5, panels.withData().size(), panels.withData().toString());
            }
        } finally {
            for (Process p : processes) {
                p.destroy();
                p.waitFor();
            }
        }
    }

    private static Path download(String url, Path target) throws Exception {
        HttpResponse<Path> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofFile(target));
        assertEquals(200, r.statusCode(), url);
        return r.body();
    }

    private static JsonNode query(URI prometheus, String promql) throws Exception {
        JsonNode body = get(prometheus.resolve("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)));
        assertEquals("success", body.path("status").asText(), body.toString());
        return body.path("data").path("result");
    }

    private static JsonNode get(URI uri) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

}
