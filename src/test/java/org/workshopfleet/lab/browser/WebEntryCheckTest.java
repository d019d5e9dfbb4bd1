package org.workshopfleet.lab.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The attendee's web entry check against the loopback fixture ({@link LoopbackSite}): everything right gives no
 * problem and keeps both screenshots; each thing wrong (a card that names another certificate or password, a
 * terminal that does not answer, a dashboard that is not there) is named in the problems.
 */
class WebEntryCheckTest {

    @TempDir
    static Path tmp;
    private static BrowserFixture fixture;
    private static LoopbackSite site;
    private static Chromium browser;

    @BeforeAll
    static void start() throws Exception {
        // Loopback pages answer at once; 5 s keeps the cases that wait for what never comes short.
        fixture = BrowserFixture.start(tmp, ChromiumTest.quick().withTimeout(Duration.ofSeconds(5)));
        site = fixture.site();
        browser = fixture.browser();
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void anAttendeeGetsTheTerminalAndTheDashboardAndWrongPasswordsAreRefused() throws Exception {
        Path out = ChromiumTest.SCREENSHOTS.resolve("web-entry");
        WebEntryCheck.Seen seen = new WebEntryCheck(browser).run(site.entry(), out);

        assertEquals(List.of(), seen.problems(), seen::toString);
        assertEquals(LoopbackSite.BPFTRACE_ANSWER, seen.terminal().answer());
        assertTrue(seen.terminal().lines().contains("$ bpftrace --version"), "the typed command is echoed: "
                + seen.terminal().lines());
        assertEquals(401, seen.terminal().wrongPassword().status());
        assertEquals("Invalid username or password", seen.grafana().refusal());
        assertTrue(seen.grafana().loggedIn());
        assertTrue(seen.grafana().titleShown());
        assertEquals(site.entry().dashboardUrl(), seen.grafana().location());
        assertTrue(PinnedCertificate.sameFingerprint(site.pin().fingerprint(), seen.servedFingerprint()));
        assertEquals(out.resolve("terminal.png"), seen.terminal().screenshot());
        assertEquals(out.resolve("grafana.png"), seen.grafana().screenshot());
        ChromiumTest.assertIsPng(seen.terminal().screenshot());
        ChromiumTest.assertIsPng(seen.grafana().screenshot());
    }

    @Test
    void aCardThatDoesNotMatchTheMachineIsReportedPartByPart() {
        WebEntry right = site.entry();
        WebEntry wrong = new WebEntry(right.base(), right.terminal().withWrongPassword(),
                right.grafana().withWrongPassword(), "AB:".repeat(31) + "AB", right.dashboardUid(), right.dashboardTitle());
        WebEntryCheck.Seen seen = new WebEntryCheck(browser).run(wrong, tmp.resolve("wrong-card"));
        List<String> problems = seen.problems();

        assertTrue(problems.get(0).startsWith("certificate: the browser was served " + site.pin().fingerprint()
                + ", the card says AB:AB"), problems.toString());
        assertTrue(problems.get(1).startsWith("terminal: " + right.terminalUrl() + " answered HTTP 401"),
                problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("grafana: the login form with the card's password did"
                + " not log in")), problems.toString());
        assertEquals(3, problems.size(), problems.toString());
        assertTrue(problems.stream().noneMatch(p -> p.contains(right.terminal().password())
                || p.contains(right.grafana().password())), "a problem names a password");
        assertFalse(seen.toString().contains(right.grafana().password()), "what was seen names a password");
    }

    @Test
    void aTerminalWithoutBpftraceAndAMissingDashboardAreProblems() {
        WebEntry entry = site.entry();
        WebEntry otherDashboard = new WebEntry(entry.base(), entry.terminal(), entry.grafana(), entry.cardFingerprint(),
                entry.dashboardUid(), "Another dashboard");
        site.answersBpftrace(false);
        try {
            WebEntryCheck.Seen seen = new WebEntryCheck(browser).run(otherDashboard, tmp.resolve("no-bpftrace"));
            assertEquals(List.of("terminal: no line matching 'bpftrace v\\d+\\.\\d+' after typing 'bpftrace --version';"
                            + " lines: [$ bpftrace --version, ran: bpftrace --version (Enter Enter 13), $]",
                    "grafana: " + entry.dashboardUrl() + " (HTTP 200) does not show the dashboard's title"),
                    seen.problems());
        } finally {
            site.answersBpftrace(true);
        }
    }

    @Test
    void inItsOwnBrowserTheCheckTrustsTheCertificateTheCardNames() {
        WebEntryCheck.Seen seen = WebEntryCheck.inOwnBrowser(site.entry(), tmp.resolve("own-browser"));
        assertEquals(List.of(), seen.problems(), seen::toString);
    }

    @Test
    void aServedCertificateIsPinnedOnlyWhenTheCardNamesIt() {
        URI base = site.base();
        assertEquals(site.pin(), PinnedCertificate.servedMatching(base, site.pin().fingerprint()).orElseThrow());
        assertEquals(site.pin(), PinnedCertificate.servedMatching(base,
                site.pin().fingerprint().replace(":", "").toLowerCase(java.util.Locale.ROOT)).orElseThrow(),
                "the card's spelling of the fingerprint does not matter");
        assertTrue(PinnedCertificate.servedMatching(base, "AB:".repeat(31) + "AB").isEmpty());
        assertFalse(PinnedCertificate.sameFingerprint("", ""), "an empty fingerprint matches nothing");
    }

    @Test
    void aWebEntryIsAnHttpsOriginWithoutAPath() {
        WebEntry entry = site.entry();
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new WebEntry(
                URI.create("http://10.231.1.2"), entry.terminal(), entry.grafana(), "", "uid", "title"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new WebEntry(
                URI.create("https://10.231.1.2/terminal/"), entry.terminal(), entry.grafana(), "", "uid", "title"));
        WebEntry lab = new WebEntry(URI.create("https://10.231.1.2"), entry.terminal(), entry.grafana(), "", "php-usdt-uprobe",
                "t");
        assertEquals("https://10.231.1.2/terminal/", lab.terminalUrl());
        assertEquals("https://10.231.1.2/grafana/login", lab.grafanaLoginUrl());
        assertEquals("https://10.231.1.2/grafana/d/php-usdt-uprobe", lab.dashboardUrl());
        assertFalse(lab.toString().contains(entry.terminal().password()), "a web entry prints its passwords");
    }
}
