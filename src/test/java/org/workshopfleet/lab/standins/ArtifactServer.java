package org.workshopfleet.lab.standins;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Test stand-in for the download hosts a machine cannot reach from the lab (GitHub release downloads, Grafana's apt
 * repository, a GitHub git remote): a plain HTTP/1.1 static file server over one directory, so the files keep the
 * real URL layout ({@code /<owner>/<repo>/releases/download/<tag>/<file>}, {@code dists/stable/...}, a git
 * repository for git's dumb HTTP protocol).
 *
 * <p>Like github.com, a release download ({@code /<owner>/<repo>/releases/download/<tag>/<file>}) answers
 * {@code 302 Found} pointing elsewhere ({@value #RELEASE_ASSETS}{@code /<same path>}), so a client that does not follow
 * redirects ({@code curl} without {@code -L}) fails here as it would against GitHub.
 *
 * <p>GET and HEAD only; no ranges or conditional requests (a full 200 is always a valid answer to those). Paths that
 * are {@linkplain #tamper(String, boolean) tampered} are served with their last byte flipped, same length, so a
 * checksum check on the client must refuse them.
 */
public final class ArtifactServer implements AutoCloseable {

    /** Prefix of the URL a release download redirects to (GitHub redirects to its release-asset host). */
    public static final String RELEASE_ASSETS = "/release-assets";
    private static final java.util.regex.Pattern RELEASE_DOWNLOAD =
            java.util.regex.Pattern.compile("/[^/]+/[^/]+/releases/download/[^/]+/[^/]+");
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

    private final Path root;
    private final HttpServer server;
    private final ExecutorService executor;
    private final Set<String> tampered = ConcurrentHashMap.newKeySet();
    private final List<String> requests = new CopyOnWriteArrayList<>();

    private ArtifactServer(Path root, HttpServer server, ExecutorService executor) {
        this.root = root;
        this.server = server;
        this.executor = executor;
    }

    /**
     * Starts serving {@code root}.
     *
     * @param bind address to listen on (the lab's host address, or loopback in unit tests)
     * @param port port, 0 for any free port
     * @param root directory whose files are served; URL path {@code /a/b} maps to {@code root/a/b}
     */
    public static ArtifactServer start(InetAddress bind, int port, Path root) throws IOException {
        Path absoluteRoot = root.toAbsolutePath().normalize();
        HttpServer server = HttpServer.create(new InetSocketAddress(bind, port), 64);
        ExecutorService executor = Executors.newFixedThreadPool(8, r -> {
            Thread t = new Thread(r, "artifact-server");
            t.setDaemon(true);
            return t;
        });
        ArtifactServer artifacts = new ArtifactServer(absoluteRoot, server, executor);
        server.createContext("/", artifacts::handle);
        server.setExecutor(executor);
        server.start();
        return artifacts;
    }

    /** Base URL without a trailing slash, e.g. {@code http://10.231.0.1:38211}. */
    public URI baseUri() {
        InetSocketAddress address = server.getAddress();
        String host = address.getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return URI.create("http://" + host + ":" + address.getPort());
    }

    /** The port actually bound. */
    public int port() {
        return server.getAddress().getPort();
    }

    /** The served directory. */
    public Path root() {
        return root;
    }

    /**
     * Serves {@code urlPath} with altered bytes (or, with {@code false}, as it is again).
     *
     * @param urlPath absolute URL path such as {@code /cloudflare/ebpf_exporter/releases/download/v2.4.2/ebpf_exporter.x86_64}
     */
    public void tamper(String urlPath, boolean on) {
        if (on) {
            tampered.add(urlPath);
        } else {
            tampered.remove(urlPath);
        }
    }

    /** Every request so far as {@code "METHOD /path STATUS"}, oldest first; lets a test see what a machine fetched. */
    public List<String> requests() {
        return List.copyOf(requests);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath();
            int status = respond(exchange, method, path);
            requests.add(method + " " + path + " " + status);
        }
    }

    private int respond(HttpExchange exchange, String method, String path) throws IOException {
        boolean head = method.equals("HEAD");
        if (!head && !method.equals("GET")) {
            exchange.getResponseHeaders().set("Allow", "GET, HEAD");
            return plain(exchange, 405, "method not allowed\n", false);
        }
        if (RELEASE_DOWNLOAD.matcher(path).matches()) {
            String host = exchange.getRequestHeaders().getFirst("Host");
            String origin = host != null && !host.isBlank() ? "http://" + host : baseUri().toString();
            exchange.getResponseHeaders().set("Location", origin + RELEASE_ASSETS + path);
            return plain(exchange, 302, "Found\n", head);
        }
        if (path.startsWith(RELEASE_ASSETS + "/")) {
            path = path.substring(RELEASE_ASSETS.length());
        }
        Path file = resolve(path);
        if (file == null || !Files.isRegularFile(file)) {
            return plain(exchange, 404, "not found\n", head);
        }
        long length = Files.size(file);
        boolean tamper = tampered.contains(path) && length > 0;
        exchange.getResponseHeaders().set("Content-Type", contentType(file.getFileName().toString()));
        exchange.getResponseHeaders().set("Last-Modified",
                HTTP_DATE.format(Files.getLastModifiedTime(file).toInstant()));
        if (head) {
            exchange.getResponseHeaders().set("Content-Length", Long.toString(length));
            exchange.sendResponseHeaders(200, -1);
            return 200;
        }
        exchange.sendResponseHeaders(200, length);
        try (InputStream in = Files.newInputStream(file); OutputStream out = exchange.getResponseBody()) {
            if (!tamper) {
                in.transferTo(out);
            } else {
                // Same length, last byte flipped: what a corrupted or substituted download looks like to sha256sum.
                byte[] buffer = new byte[64 * 1024];
                long remaining = length - 1;
                while (remaining > 0) {
                    int n = in.read(buffer, 0, (int) Math.min(buffer.length, remaining));
                    if (n < 0) {
                        throw new IOException("file shrank while serving: " + file);
                    }
                    out.write(buffer, 0, n);
                    remaining -= n;
                }
                out.write(in.read() ^ 0xff);
            }
        }
        return 200;
    }

    private Path resolve(String urlPath) {
        if (urlPath == null || !urlPath.startsWith("/") || urlPath.contains("\0")) {
            return null;
        }
        Path candidate = root.resolve(urlPath.substring(1)).normalize();
        return candidate.startsWith(root) ? candidate : null;
    }

    private static int plain(HttpExchange exchange, int status, String body, boolean head) throws IOException {
        byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        if (head) {
            exchange.sendResponseHeaders(status, -1);
        } else {
            exchange.sendResponseHeaders(status, bytes.length);
            exchange.getResponseBody().write(bytes);
        }
        return status;
    }

    private static String contentType(String name) {
        if (name.endsWith(".gz")) {
            return "application/gzip";
        }
        if (name.endsWith(".txt") || name.equals("Release") || name.equals("InRelease") || name.equals("Packages")
                || name.equals("HEAD") || name.equals("refs") || name.equals("packs")) {
            return "text/plain; charset=utf-8";
        }
        if (name.endsWith(".key") || name.endsWith(".asc") || name.endsWith(".gpg")) {
            return "application/pgp-keys";
        }
        if (name.endsWith(".deb")) {
            return "application/vnd.debian.binary-package";
        }
        return "application/octet-stream";
    }
}
