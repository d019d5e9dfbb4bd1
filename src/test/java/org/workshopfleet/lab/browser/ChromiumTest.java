package org.workshopfleet.lab.browser;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.concurrent.Waiter;

/**
 * The DevTools driver against a loopback HTTPS fixture ({@link LoopbackSite}): one certificate trusted by its public
 * key and another refused, basic auth answered and a wrong password ending in 401, real mouse and keyboard input,
 * the terminal's lines read back, screenshots, and a browser that leaves no process and no profile behind.
 */
class ChromiumTest {

    static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static final Path SCREENSHOTS = Path.of("target", "surefire-reports", "browser");

    @TempDir
    static Path tmp;
    private static BrowserFixture fixture;
    private static LoopbackSite site;
    private static LoopbackSite otherSite;
    private static Chromium browser;

    @BeforeAll
    static void start() throws Exception {
        fixture = BrowserFixture.start(tmp, quick());
        site = fixture.site();
        browser = fixture.browser();
        otherSite = LoopbackSite.start(tmp);
    }

    @AfterAll
    static void stop() {
        try {
            if (fixture != null) {
                fixture.close();
            }
        } finally {
            if (otherSite != null) {
                otherSite.close();
            }
        }
    }

    static Waiter quick() {
        return new Waiter(Duration.ofMillis(20), Duration.ofMillis(200), 1.5, 0.0, Duration.ofSeconds(20));
    }

    @Test
    void trustsThePinnedCertificateAndRefusesAnother() {
        try (BrowserTab tab = browser.newTab()) {
            Navigation page = tab.navigate(site.base() + "/plain");
            assertEquals(new Navigation(site.base() + "/plain", 200, ""), page);
            assertEquals(site.pin(), PinnedCertificate.of(tab.servedCertificate(site.entry().origin()).orElseThrow()),
                    "the certificate the page was served is the pinned one");
        }
        try (BrowserTab tab = browser.newTab()) {
            Navigation other = tab.navigate(otherSite.base() + "/plain");
            assertTrue(other.error().startsWith("net::ERR_CERT_"), "a certificate not in the SPKI list loads: " + other);
            assertFalse(other.ok());
        }
    }

    @Test
    void answersBasicAuthAndAWrongPasswordEndsIn401() {
        try (BrowserTab tab = browser.newTab()) {
            tab.answerBasicAuth(site.terminalLogin());
            Navigation page = tab.navigate(site.base() + "/terminal/");
            assertEquals(200, page.status(), page::toString);
            assertEquals(Boolean.TRUE, tab.evaluate("typeof window.term === 'object'"));
        }
        try (BrowserTab tab = browser.newTab()) {
            tab.answerBasicAuth(site.terminalLogin().withWrongPassword());
            Navigation refused = tab.navigate(site.base() + "/terminal/");
            assertEquals(401, refused.status(), refused::toString);
            // The fixture's 401 has no body, so Chromium shows its own error page instead.
            assertEquals("net::ERR_HTTP_RESPONSE_CODE_FAILURE", refused.error());
            assertEquals(Boolean.FALSE, tab.evaluate("typeof window.term === 'object'"), "the terminal page loaded");
        }
        try (BrowserTab tab = browser.newTab()) {
            Navigation unasked = tab.navigate(site.base() + "/terminal/");
            assertEquals(401, unasked.status(), "a tab without credentials got the terminal: " + unasked);
        }
    }

    @Test
    void typesIntoTheTerminalAndReadsItBack() throws Exception {
        try (BrowserTab tab = browser.newTab()) {
            tab.answerBasicAuth(site.terminalLogin());
            assertTrue(tab.navigate(site.base() + "/terminal/").ok());
            assertTrue(tab.waitFor("window.term.buffer.active.length > 0", "the prompt"));
            assertTrue(tab.focus("textarea.xterm-helper-textarea"), "the terminal's input takes the focus");
            assertFalse(tab.focus("textarea.no-such-input"));
            tab.type("echo hello");
            tab.pressEnter();
            assertTrue(tab.waitFor("window.term.buffer.active.length >= 3", "the echoed line"), tab.text());
            Object lines = tab.evaluate("[0, 1, 2].map(i => window.term.buffer.active.getLine(i).translateToString(true))");
            assertEquals(List.of("$ echo hello", "ran: echo hello (Enter Enter 13)", "$"), lines);
            Path shot = tab.screenshot(SCREENSHOTS.resolve("driver").resolve("terminal-fixture.png"));
            assertIsPng(shot);
        }
    }

    @Test
    void clicksWithRealMouseInputAndFillsInputs() {
        try (BrowserTab tab = browser.newTab()) {
            assertTrue(tab.navigate(site.base() + "/plain").ok());
            assertEquals("not pressed", tab.evaluate("document.getElementById('result').textContent"));
            assertTrue(tab.click("#press"));
            assertTrue(tab.waitFor("document.getElementById('result').textContent !== 'not pressed'", "the click"));
            assertEquals("pressed by real input", tab.evaluate("document.getElementById('result').textContent"));
            assertFalse(tab.click("#no-such-button"));
        }
        try (BrowserTab tab = browser.newTab()) {
            assertTrue(tab.navigate(site.base() + "/grafana/login").ok());
            assertTrue(tab.fill("input[name=\"user\"]", "first"));
            assertTrue(tab.fill("input[name=\"user\"]", "admin"), "filling again replaces the value");
            assertEquals("admin", tab.evaluate("document.querySelector('input[name=\"user\"]').value"));
        }
    }

    @Test
    void evaluateReportsAThrowingScript() {
        try (BrowserTab tab = browser.newTab()) {
            assertEquals(List.of(1, "two", true), tab.evaluate("[1, 'two', true]"));
            IllegalStateException thrown = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> tab.evaluate("(() => { throw new Error('boom'); })()"));
            assertTrue(thrown.getMessage().contains("boom"), thrown.getMessage());
            assertEquals(Boolean.FALSE, tab.evaluate("Promise.resolve(false)"), "promises are awaited");
        }
    }

    @Test
    void closeEndsEveryProcessAndDeletesTheProfile() throws Exception {
        Chromium own = Chromium.start(List.of(), quick());
        Path home = own.home();
        ProcessHandle main = own.processHandle();
        List<ProcessHandle> tree;
        try (BrowserTab tab = own.newTab()) {
            assertTrue(own.version().contains("Chrome/"), own.version());
            tab.navigate("about:blank");
            tree = main.descendants().toList();
        } finally {
            own.close();
        }
        assertFalse(tree.isEmpty(), "a running Chromium has helper processes");
        assertFalse(main.isAlive(), "the browser process still runs");
        assertEquals(List.of(), tree.stream().filter(ProcessHandle::isAlive).toList(), "helpers left running");
        assertEquals(List.of(), Chromium.namingFolder(home), "processes naming the profile left running");
        assertFalse(Files.exists(home), "the profile folder is left: " + home);
        own.close();
    }

    static void assertIsPng(Path file) throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        assertTrue(bytes.length > 1000, file + " is too small for a screenshot: " + bytes.length + " bytes");
        assertArrayEquals(PNG_SIGNATURE, Arrays.copyOf(bytes, 8), file + " is not a PNG");
    }
}
