package org.workshopfleet.lab.browser;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.workshopfleet.concurrent.Waiter;
import org.junit.jupiter.api.Assumptions;
import org.workshopfleet.error.Interrupted;

/**
 * Debian's {@code chromium}, headless, driven over the Chrome DevTools Protocol: the browser process with a new
 * profile folder, and one DevTools connection to it. {@link #newTab} opens a page in a browser context of its own, so
 * cookies and cached HTTP credentials never pass from one check to the next. {@link #close} always ends the whole
 * process tree and deletes the profile, also when the JVM exits without closing it.
 */
public final class Chromium implements AutoCloseable {

    /** Where Debian's {@code chromium} package puts the browser (a script that execs the real binary). */
    public static final Path BINARY = Path.of("/usr/bin/chromium");

    private static final Duration STARTUP = Duration.ofSeconds(30);

    /**
     * Skips the calling test when the browser is missing, saying why; with {@code CI=true} it fails instead (CI must
     * install Debian's {@code chromium} package).
     */
    public static void requireInstalled() {
        if (Files.isExecutable(BINARY)) {
            return;
        }
        String why = BINARY + " is missing (Debian package chromium)";
        if ("true".equals(System.getenv("CI"))) {
            throw new AssertionError(why + ": CI must install it (apt-get install chromium)");
        }
        Assumptions.assumeTrue(false, why + ": the tests that drive a browser need it");
    }

    private final Process process;
    private final Path home;
    private final DevToolsConnection devTools;
    private final Waiter waiter;
    private final Thread killOnExit;
    private final List<String> trustedSpki;
    private boolean closed;

    private Chromium(Process process, Path home, DevToolsConnection devTools, Waiter waiter, Thread killOnExit,
                     List<String> trustedSpki) {
        this.process = process;
        this.home = home;
        this.devTools = devTools;
        this.waiter = waiter;
        this.killOnExit = killOnExit;
        this.trustedSpki = trustedSpki;
    }

    /**
     * Starts Chromium with a new profile and connects to it.
     *
     * @param trustedSpki base64 SHA-256 hashes of the SubjectPublicKeyInfo of the only self-signed certificates to
     *                    accept ({@link PinnedCertificate#spkiSha256()}); any other certificate fails to load as a
     *                    browser without the flag would fail it
     * @param waiter      how to wait for pages and what they show (the start itself may take at least 30 s)
     */
    public static Chromium start(List<String> trustedSpki, Waiter waiter) {
        Path home;
        try {
            home = Files.createTempDirectory("workshop-fleet-chromium");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a folder for Chromium's profile", e);
        }
        Path profile = home.resolve("profile");
        Path log = home.resolve("chromium.log");
        List<String> command = new ArrayList<>(List.of(BINARY.toString(), "--headless", "--no-sandbox",
                "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-proxy-server", "--window-size=1280,800",
                "--user-data-dir=" + profile, "--remote-debugging-port=0"));
        // Chromium reads this list only together with --user-data-dir; the network service then accepts a certificate
        // whose public key hash is listed, whatever else is wrong with it, and verifies every other one as usual.
        if (!trustedSpki.isEmpty()) {
            command.add("--ignore-certificate-errors-spki-list=" + String.join(",", trustedSpki));
        }
        command.add("about:blank");
        Process process;
        try {
            Files.createDirectories(profile);
            process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        } catch (IOException e) {
            deleteTree(home);
            throw new UncheckedIOException("cannot start " + BINARY + " (install Debian's chromium package): "
                    + e.getMessage(), e);
        }
        Thread killOnExit = new Thread(() -> killTree(process, home), "chromium-kill-on-exit");
        Runtime.getRuntime().addShutdownHook(killOnExit);
        try {
            URI endpoint = awaitEndpoint(process, profile, log, waiter);
            return new Chromium(process, home, DevToolsConnection.open(endpoint), waiter, killOnExit,
                    List.copyOf(trustedSpki));
        } catch (RuntimeException e) {
            killTree(process, home);
            removeHook(killOnExit);
            deleteTree(home);
            throw e;
        }
    }

    /**
     * With {@code --remote-debugging-port=0} Chromium picks a free port and writes it, with the browser endpoint's
     * path, to {@code DevToolsActivePort} in the profile folder.
     */
    private static URI awaitEndpoint(Process process, Path profile, Path log, Waiter waiter) {
        Path portFile = profile.resolve("DevToolsActivePort");
        // Starting takes seconds on a busy host, whatever the pages' own timeout is.
        Waiter startup = waiter.timeout().compareTo(STARTUP) >= 0 ? waiter : waiter.withTimeout(STARTUP);
        Optional<List<String>> lines = startup.until(() -> readPortFile(portFile),
                l -> l.size() >= 2 || !process.isAlive(), p -> { }, "waiting for Chromium to start");
        if (lines.isEmpty() || lines.get().size() < 2) {
            throw new IllegalStateException("Chromium did not start (" + (process.isAlive() ? "no DevToolsActivePort"
                    + " within " + startup.timeout().toSeconds() + " s" : "exited " + process.exitValue()) + "): "
                    + tail(log));
        }
        return URI.create("ws://127.0.0.1:" + lines.get().get(0).strip() + lines.get().get(1).strip());
    }

    private static List<String> readPortFile(Path portFile) {
        try {
            return Files.readAllLines(portFile, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            return List.of(); // not written yet
        }
    }

    /** The profile folder and log, deleted by {@link #close}. */
    public Path home() {
        return home;
    }

    /** The browser's main process; its children are the renderers and helpers {@link #close} ends too. */
    public ProcessHandle processHandle() {
        return process.toHandle();
    }

    /** The SPKI hashes this browser was told to trust. */
    public List<String> trustedSpki() {
        return trustedSpki;
    }

    /** The browser's version line, e.g. {@code Chrome/156.0.8078.114}, from {@code Browser.getVersion}. */
    public String version() {
        return devTools.call(null, "Browser.getVersion", null).path("product").asText();
    }

    /** Opens a blank page in a new browser context (its own cookies, cache and HTTP credentials). */
    public BrowserTab newTab() {
        String context = devTools.call(null, "Target.createBrowserContext", null).path("browserContextId").asText();
        try {
            ObjectNode target = DevToolsConnection.JSON.createObjectNode().put("url", "about:blank")
                    .put("browserContextId", context);
            String targetId = devTools.call(null, "Target.createTarget", target).path("targetId").asText();
            ObjectNode attach = DevToolsConnection.JSON.createObjectNode().put("targetId", targetId).put("flatten", true);
            JsonNode attached = devTools.call(null, "Target.attachToTarget", attach);
            return BrowserTab.open(devTools, context, attached.path("sessionId").asText(), waiter);
        } catch (RuntimeException e) {
            disposeContext(devTools, context);
            throw e;
        }
    }

    static void disposeContext(DevToolsConnection devTools, String context) {
        try {
            devTools.call(null, "Target.disposeBrowserContext",
                    DevToolsConnection.JSON.createObjectNode().put("browserContextId", context));
        } catch (RuntimeException e) {
            // the browser is going away or already gone; close() kills it anyway
        }
    }

    /** Ends Chromium and every process it started, and deletes its profile; safe to call twice. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            devTools.close();
            killTree(process, home);
        } finally {
            removeHook(killOnExit);
            deleteTree(home);
        }
    }

    /**
     * Kills the browser and its descendants (zygotes, renderers, utility processes), collected before the parent
     * dies so none is orphaned out of reach, plus any process that names this browser's own folder and left the tree
     * (a helper that forked away), and waits for them to be gone.
     */
    private static void killTree(Process process, Path home) {
        List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
        tree.add(process.toHandle());
        tree.addAll(namingFolder(home));
        tree.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle p : tree) {
            try {
                p.onExit().get(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Interrupted("waiting for Chromium to exit", e);
            } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
                // a process that will not die is reported by the caller's own checks; keep ending the rest
            }
        }
    }

    /** Processes whose command line names {@code home}: only this browser's, since the folder is new and its own. */
    static List<ProcessHandle> namingFolder(Path home) {
        String folder = home.toString();
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains(folder)).orElse(false)).toList();
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is already exiting: the hook runs anyway
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete Chromium's profile " + root, e);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** How long the driver waits by default: quick polls, 60 s in all (a page on a busy lab host). */
    public static Waiter defaultWaiter() {
        return new Waiter(Duration.ofMillis(50), Duration.ofMillis(500), 1.5, 0.0, Duration.ofSeconds(60));
    }
}
