package org.workshopfleet.lab.browser;


import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.BasicAuthenticator;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A loopback FIXTURE for the browser driver's tests, not a stand-in of any real program: an HTTPS server on
 * 127.0.0.1 with a self-signed certificate made for it by the JDK's {@code keytool}, serving
 * <ul>
 *   <li>{@code /plain}: a page with a button that reports whether its click came from real input;</li>
 *   <li>{@code /terminal/}: behind HTTP basic auth, a page shaped like ttyd's as a browser test reads it (a
 *       {@code window.term} with xterm.js's buffer API and a {@code textarea.xterm-helper-textarea} taking keys) that
 *       shows a prompt shortly after loading, echoes what is typed, and on Enter answers {@code bpftrace --version}
 *       with a version line and any other line with {@code ran: <line> (<key> <code> <keyCode>)};</li>
 *   <li>{@code /grafana/login}: a login form with inputs {@code user} and {@code password} that posts JSON as
 *       Grafana's does, answering a wrong password with an alert "Invalid username or password";
 *       {@code /grafana/d/<uid>}: the dashboard page with its title, for a logged-in session only.</li>
 * </ul>
 */
final class LoopbackSite implements AutoCloseable {

    static final String DASHBOARD_UID = "fixture-dashboard";
    static final String DASHBOARD_TITLE = "PHP USDT/uprobe SAMPLES";
    static final String BPFTRACE_ANSWER = "bpftrace v0.17.0";

    private final HttpsServer server;
    private final ExecutorService exchanges;
    private final PinnedCertificate pin;
    private final Login terminalLogin;
    private final Login grafanaLogin;
    private final Set<String> sessions = ConcurrentHashMap.newKeySet();
    private volatile boolean answersBpftrace = true;

    private LoopbackSite(HttpsServer server, ExecutorService exchanges, PinnedCertificate pin, Login terminalLogin,
                         Login grafanaLogin) {
        this.server = server;
        this.exchanges = exchanges;
        this.pin = pin;
        this.terminalLogin = terminalLogin;
        this.grafanaLogin = grafanaLogin;
    }

    /** Starts the site with a new certificate made in {@code folder}. */
    static LoopbackSite start(Path folder) throws Exception {
        Path keystore = folder.resolve("site-" + UUID.randomUUID() + ".p12");
        char[] storePassword = UUID.randomUUID().toString().toCharArray();
        keytool(keystore, storePassword);
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            keys.load(in, storePassword);
        }
        KeyManagerFactory managers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        managers.init(keys, storePassword);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(managers.getKeyManagers(), null, null);
        HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        // The JDK's server runs each exchange, TLS handshake and request read included, on its executor; without one
        // it uses its only dispatching thread, so one connection a browser opened and has not sent a request on yet
        // would hold up every other page until it is closed.
        ExecutorService exchanges = Executors.newCachedThreadPool(task -> {
            Thread thread = new Thread(task, "loopback-site");
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(exchanges);
        LoopbackSite site = new LoopbackSite(server, exchanges,
                PinnedCertificate.of((X509Certificate) keys.getCertificate("site")),
                new Login("ubuntu", "term-" + UUID.randomUUID()), new Login("admin", "graf-" + UUID.randomUUID()));
        site.routes();
        server.start();
        return site;
    }

    /** Makes an EC key and a self-signed certificate for 127.0.0.1; the store password goes by environment, not argv. */
    private static void keytool(Path keystore, char[] storePassword) throws IOException, InterruptedException {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        ProcessBuilder builder = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "site", "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass:env", "STOREPASS",
                "-keypass:env", "STOREPASS", "-noprompt").redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        builder.environment().put("STOREPASS", new String(storePassword));
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("keytool could not make the fixture's certificate: " + out);
        }
    }

    private void routes() {
        server.createContext("/plain", exchange -> html(exchange, 200, PLAIN));
        server.createContext("/terminal/", exchange -> html(exchange, 200,
                TERMINAL.replace("ANSWER_BPFTRACE", String.valueOf(answersBpftrace))))
                .setAuthenticator(new BasicAuthenticator("terminal") {
                    @Override
                    public boolean checkCredentials(String user, String password) {
                        return terminalLogin.user().equals(user) && terminalLogin.password().equals(password);
                    }
                });
        server.createContext("/grafana/", this::grafana);
    }

    private void grafana(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        if (path.equals("/grafana/login") && "POST".equals(exchange.getRequestMethod())) {
            JsonNode body = DevToolsConnection.JSON.readTree(exchange.getRequestBody());
            if (grafanaLogin.user().equals(body.path("user").asText())
                    && grafanaLogin.password().equals(body.path("password").asText())) {
                String session = UUID.randomUUID().toString();
                sessions.add(session);
                exchange.getResponseHeaders().add("Set-Cookie", "grafana_session=" + session + "; Path=/grafana; Secure; HttpOnly");
                json(exchange, 200, "{\"message\":\"Logged in\",\"redirectUrl\":\"/grafana/\"}");
            } else {
                json(exchange, 401, "{\"message\":\"Invalid username or password\"}");
            }
            return;
        }
        if (path.equals("/grafana/login")) {
            html(exchange, 200, LOGIN);
            return;
        }
        if (!loggedIn(exchange)) {
            exchange.getResponseHeaders().add("Location", "/grafana/login");
            html(exchange, 302, "");
            return;
        }
        if (path.equals("/grafana/d/" + DASHBOARD_UID)) {
            html(exchange, 200, "<!doctype html><title>" + DASHBOARD_TITLE + " - Dashboards - Grafana</title>"
                    + "<h1>" + DASHBOARD_TITLE + "</h1><p>panels would be here</p>");
        } else if (path.equals("/grafana/") || path.startsWith("/grafana/d/")) {
            html(exchange, path.equals("/grafana/") ? 200 : 404, "<!doctype html><title>Home - Grafana</title><h1>Home</h1>");
        } else {
            html(exchange, 404, "not found");
        }
    }

    private boolean loggedIn(HttpExchange exchange) {
        List<String> cookies = exchange.getRequestHeaders().getOrDefault("Cookie", List.of());
        return cookies.stream().flatMap(c -> java.util.Arrays.stream(c.split(";\\s*")))
                .anyMatch(c -> c.startsWith("grafana_session=") && sessions.contains(c.substring("grafana_session=".length())));
    }

    private static void html(HttpExchange exchange, int status, String body) throws IOException {
        send(exchange, status, "text/html; charset=utf-8", body);
    }

    private static void json(HttpExchange exchange, int status, String body) throws IOException {
        send(exchange, status, "application/json", body);
    }

    private static void send(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            exchange.getResponseBody().write(bytes);
        }
        exchange.close();
    }

    /** The site's address, {@code https://127.0.0.1:<port>}. */
    URI base() {
        return URI.create("https://127.0.0.1:" + server.getAddress().getPort());
    }

    PinnedCertificate pin() {
        return pin;
    }

    Login terminalLogin() {
        return terminalLogin;
    }

    Login grafanaLogin() {
        return grafanaLogin;
    }

    /** Whether the terminal page answers {@code bpftrace --version} (off: it answers like any other line). */
    void answersBpftrace(boolean answers) {
        answersBpftrace = answers;
    }

    /** What the card of this site would say. */
    WebEntry entry() {
        return new WebEntry(base(), terminalLogin, grafanaLogin, pin.fingerprint(), DASHBOARD_UID, DASHBOARD_TITLE);
    }

    @Override
    public void close() {
        server.stop(0);
        exchanges.shutdownNow();
    }

    private static final String PLAIN = """
            <!doctype html><title>plain</title>
            <button id="press" style="margin: 200px 0 0 300px; width: 160px; height: 40px">press</button>
            <p id="result">not pressed</p>
            <script>
            document.getElementById('press').addEventListener('click', event => {
              document.getElementById('result').textContent = event.isTrusted ? 'pressed by real input' : 'pressed by script';
            });
            </script>
            """;

    private static final String TERMINAL = """
            <!doctype html><title>terminal fixture</title>
            <pre id="screen"></pre>
            <textarea class="xterm-helper-textarea" aria-label="Terminal input"></textarea>
            <script>
            // Fixture of what a browser test reads in ttyd's page; no shell behind it.
            const answersBpftrace = ANSWER_BPFTRACE;
            const lines = [];
            const render = () => { document.getElementById('screen').textContent = lines.join('\\n'); };
            window.term = { buffer: { active: {
              get length() { return lines.length; },
              getLine(i) {
                return i < lines.length ? { translateToString(trim) { return trim ? lines[i].replace(/\\s+$/, '') : lines[i]; } } : undefined;
              }
            } } };
            const input = document.querySelector('textarea');
            // The prompt comes a moment after the page, as ttyd's does once its websocket is up.
            setTimeout(() => { lines.push('$ '); render(); }, 300);
            input.addEventListener('input', () => {
              if (lines.length) { lines[lines.length - 1] += input.value; }
              input.value = '';
              render();
            });
            input.addEventListener('keydown', event => {
              if (event.key !== 'Enter' || !lines.length) { return; }
              event.preventDefault();
              const typed = lines[lines.length - 1].slice(2);
              if (answersBpftrace && typed === 'bpftrace --version') {
                lines.push('BPFTRACE_ANSWER');
              } else {
                lines.push('ran: ' + typed + ' (' + event.key + ' ' + event.code + ' ' + event.keyCode + ')');
              }
              lines.push('$ ');
              render();
            });
            render();
            </script>
            """.replace("BPFTRACE_ANSWER", BPFTRACE_ANSWER);

    private static final String LOGIN = """
            <!doctype html><title>Grafana</title>
            <form id="login">
              <input name="user" autocomplete="username"> <input name="password" type="password">
              <button type="submit">Log in</button>
            </form>
            <div id="error"></div>
            <script>
            // Like Grafana's login form: the values go as JSON to POST login, then the page moves on or shows the error.
            document.getElementById('login').addEventListener('submit', async event => {
              event.preventDefault();
              const form = event.target;
              const answer = await fetch('/grafana/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ user: form.elements.user.value, password: form.elements.password.value }) });
              const body = await answer.json();
              if (answer.ok) { location.assign(body.redirectUrl); return; }
              const error = document.getElementById('error');
              error.setAttribute('role', 'alert');
              error.textContent = body.message;
            });
            </script>
            """;
}
