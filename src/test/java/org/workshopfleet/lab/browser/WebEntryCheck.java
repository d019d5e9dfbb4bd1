package org.workshopfleet.lab.browser;

import java.nio.file.Path;
import java.security.cert.CertificateEncodingException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An attendee's way into a machine over HTTPS, walked in a real browser: the browser terminal at {@code /terminal/}
 * (basic auth with the card's password, {@code bpftrace --version} typed and its answer read back from the terminal,
 * a wrong password refused with 401) and Grafana at {@code /grafana/} (its login form filled and submitted, the
 * workshop dashboard found by its title, a wrong password shown Grafana's login error). Each part runs in a browser
 * context of its own, so no cookie or cached password helps the next. What it saw is returned for the test to assert
 * on ({@link Seen#problems()}); screenshots {@code terminal.png} and {@code grafana.png} go to the output folder.
 */
public final class WebEntryCheck {

    /** What the terminal must answer to {@code bpftrace --version}. */
    public static final Pattern BPFTRACE_VERSION = Pattern.compile("bpftrace v\\d+\\.\\d+");
    static final String COMMAND = "bpftrace --version";
    /** The textarea xterm.js takes keyboard input through (ttyd's page is xterm.js). */
    static final String TERMINAL_INPUT = "textarea.xterm-helper-textarea";

    /** The terminal's lines through xterm.js's buffer API, which ttyd's page exposes as {@code window.term}. */
    private static final String TERMINAL_LINES = "(() => { const t = window.term; if (!t || !t.buffer || !t.buffer.active)"
            + " return [];"
            + " const b = t.buffer.active; const out = [];"
            + " for (let i = 0; i < b.length; i++) { const l = b.getLine(i); if (l) out.push(l.translateToString(true)); }"
            + " return out; })()";
    /** Grafana shows a failed login as an alert; its text is "Invalid username or password". */
    private static final String LOGIN_REFUSAL = "(() => { const a = [...document.querySelectorAll('[role=\"alert\"]')]"
            + ".map(e => e.innerText.trim()).filter(t => t); if (a.length) return a.join(' / ');"
            + " const m = (document.body ? document.body.innerText : '').match(/invalid username or password/i);"
            + " return m ? m[0] : ''; })()";
    private static final String LOGIN_FORM = "!!(document.querySelector('input[name=\"user\"]')"
            + " && document.querySelector('input[name=\"password\"]') && document.querySelector('button[type=\"submit\"]'))";

    private final Chromium browser;

    /** A check driving {@code browser}, which must trust the machine's certificate (see {@link #inOwnBrowser}). */
    public WebEntryCheck(Chromium browser) {
        this.browser = Objects.requireNonNull(browser, "browser");
    }

    /**
     * Runs the check in a Chromium of its own that trusts exactly the certificate the card names: the machine's
     * served certificate is pinned only if its SHA-256 is the card's fingerprint, otherwise nothing is trusted and
     * every page fails as it would for an attendee whose card does not match (the problems say so).
     */
    public static Seen inOwnBrowser(WebEntry entry, Path outputDir) {
        Optional<PinnedCertificate> pin = PinnedCertificate.servedMatching(entry.base(), entry.cardFingerprint());
        try (Chromium browser = Chromium.start(pin.map(p -> List.of(p.spkiSha256())).orElse(List.of()),
                Chromium.defaultWaiter())) {
            return new WebEntryCheck(browser).run(entry, outputDir);
        }
    }

    /** Walks the terminal and Grafana parts; screenshots go to {@code outputDir}. */
    public Seen run(WebEntry entry, Path outputDir) {
        TerminalSeen terminal = terminal(entry, outputDir.resolve("terminal.png"));
        GrafanaSeen grafana = grafana(entry, outputDir.resolve("grafana.png"));
        return new Seen(entry.cardFingerprint(), terminal, grafana);
    }

    private TerminalSeen terminal(WebEntry entry, Path screenshot) {
        Navigation refused;
        try (BrowserTab tab = browser.newTab()) {
            tab.answerBasicAuth(entry.terminal().withWrongPassword());
            refused = tab.navigate(entry.terminalUrl());
        }
        try (BrowserTab tab = browser.newTab()) {
            tab.answerBasicAuth(entry.terminal());
            Navigation page = tab.navigate(entry.terminalUrl());
            String served = servedFingerprint(tab, entry.origin());
            if (!page.ok()) {
                return new TerminalSeen(page, served, false, List.of(), "", refused, tab.screenshot(screenshot));
            }
            // ttyd shows the shell's prompt once its websocket is up; keys typed before that would be lost.
            boolean prompt = tab.waitFor("(" + TERMINAL_LINES + ").some(l => l.trim() !== '') && !!document"
                    + ".querySelector('" + TERMINAL_INPUT + "')", "the terminal's prompt");
            boolean focused = prompt && tab.focus(TERMINAL_INPUT);
            if (focused) {
                tab.type(COMMAND);
                tab.pressEnter();
                tab.waitFor("(" + TERMINAL_LINES + ").some(l => /" + BPFTRACE_VERSION.pattern() + "/.test(l))",
                        "bpftrace's version in the terminal");
            }
            List<String> lines = terminalLines(tab);
            String answer = lines.stream().filter(l -> BPFTRACE_VERSION.matcher(l).find()).findFirst().orElse("");
            return new TerminalSeen(page, served, focused, lines, answer, refused, tab.screenshot(screenshot));
        }
    }

    private GrafanaSeen grafana(WebEntry entry, Path screenshot) {
        String refusal;
        try (BrowserTab tab = browser.newTab()) {
            Navigation page = tab.navigate(entry.grafanaLoginUrl());
            refusal = page.ok() ? refusal(tab, entry.grafana().withWrongPassword()) : "";
        }
        try (BrowserTab tab = browser.newTab()) {
            Navigation page = tab.navigate(entry.grafanaLoginUrl());
            String served = servedFingerprint(tab, entry.origin());
            if (!page.ok() || !logIn(tab, entry.grafana())) {
                return new GrafanaSeen(page, served, false, "", false, refusal, tab.screenshot(screenshot));
            }
            // Grafana's login form sends the password with a script, then moves the page off /login.
            boolean loggedIn = tab.waitFor("!/\\/login\\/?$/.test(location.pathname)", "Grafana to leave /login");
            boolean titleShown = false;
            Navigation dashboard = page;
            if (loggedIn) {
                dashboard = tab.navigate(entry.dashboardUrl());
                String title = jsString(entry.dashboardTitle());
                titleShown = dashboard.ok() && tab.waitFor("!!document.body && document.body.innerText.includes(" + title + ")",
                        "the dashboard's title");
            }
            return new GrafanaSeen(dashboard, served, loggedIn, tab.location(), titleShown, refusal,
                    tab.screenshot(screenshot));
        }
    }

    /** Grafana's error after logging in with {@code wrong}: text that was not on the page before, or "". */
    private static String refusal(BrowserTab tab, Login wrong) {
        if (!tab.waitFor(LOGIN_FORM, "Grafana's login form")) {
            return "";
        }
        String before = String.valueOf(tab.evaluate(LOGIN_REFUSAL));
        if (!logIn(tab, wrong) || !tab.waitFor("(" + LOGIN_REFUSAL + ") !== " + jsString(before), "Grafana's login error")) {
            return "";
        }
        return String.valueOf(tab.evaluate(LOGIN_REFUSAL));
    }

    /** Fills Grafana's login form as a person does and clicks its submit button. */
    private static boolean logIn(BrowserTab tab, Login login) {
        return tab.waitFor(LOGIN_FORM, "Grafana's login form") && tab.fill("input[name=\"user\"]", login.user())
                && tab.fill("input[name=\"password\"]", login.password()) && tab.click("button[type=\"submit\"]");
    }

    private static String servedFingerprint(BrowserTab tab, String origin) {
        try {
            return tab.servedCertificate(origin).map(c -> {
                try {
                    return PinnedCertificate.fingerprintOf(c);
                } catch (CertificateEncodingException e) {
                    return "";
                }
            }).orElse("");
        } catch (RuntimeException e) {
            return ""; // no certificate for a page that never loaded
        }
    }

    /** The terminal's non-blank lines; a page whose terminal cannot be read gives one line saying why. */
    private static List<String> terminalLines(BrowserTab tab) {
        Object value;
        try {
            value = tab.evaluate(TERMINAL_LINES);
        } catch (IllegalStateException e) {
            return List.of("(the terminal's lines could not be read: " + e.getMessage() + ")");
        }
        List<String> out = new ArrayList<>();
        if (value instanceof List<?> list) {
            for (Object line : list) {
                String text = String.valueOf(line).stripTrailing();
                if (!text.isBlank()) {
                    out.add(text);
                }
            }
        }
        return List.copyOf(out);
    }

    private static String jsString(String text) {
        try {
            return DevToolsConnection.JSON.writeValueAsString(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /**
     * What the terminal part saw.
     *
     * @param page              opening {@code /terminal/} with the card's password
     * @param servedFingerprint the SHA-256 fingerprint of the certificate that page was served ("" if none)
     * @param typed             whether the terminal showed a prompt and its input took the focus, so the command was typed
     * @param lines             the terminal's non-blank lines after the command, as xterm.js holds them
     * @param answer            the first line matching {@link #BPFTRACE_VERSION}, or ""
     * @param wrongPassword     opening {@code /terminal/} with a wrong password (must be 401)
     * @param screenshot        {@code terminal.png}
     */
    public record TerminalSeen(Navigation page, String servedFingerprint, boolean typed, List<String> lines, String answer,
                               Navigation wrongPassword, Path screenshot) {
    }

    /**
     * What the Grafana part saw.
     *
     * @param page              the last page opened: the dashboard after a login, else the login page
     * @param servedFingerprint the SHA-256 fingerprint of the certificate the login page was served ("" if none)
     * @param loggedIn          whether the login form with the card's password left the login page
     * @param location          where the page was at the end
     * @param titleShown        whether the dashboard page showed the dashboard's title
     * @param refusal           Grafana's error after a wrong password ("" when none was shown)
     * @param screenshot        {@code grafana.png}
     */
    public record GrafanaSeen(Navigation page, String servedFingerprint, boolean loggedIn, String location,
                              boolean titleShown, String refusal, Path screenshot) {
    }

    /**
     * What the whole check saw.
     *
     * @param cardFingerprint the fingerprint the card gives
     * @param terminal        the terminal part
     * @param grafana         the Grafana part
     */
    public record Seen(String cardFingerprint, TerminalSeen terminal, GrafanaSeen grafana) {

        /**
         * The fingerprint of the certificate the browser was served ("" when no page loaded): Chromium names the
         * certificate of the page it shows, which is its own error page when the terminal refused the password.
         */
        public String servedFingerprint() {
            return terminal.servedFingerprint().isEmpty() ? grafana.servedFingerprint() : terminal.servedFingerprint();
        }

        /** Every way in which what was seen differs from what an attendee must see; empty when all is right. */
        public List<String> problems() {
            List<String> problems = new ArrayList<>();
            if (!PinnedCertificate.sameFingerprint(servedFingerprint(), cardFingerprint)) {
                problems.add("certificate: the browser was served " + (servedFingerprint().isEmpty() ? "no certificate"
                        : servedFingerprint()) + ", the card says " + cardFingerprint);
            }
            if (!terminal.page().ok()) {
                problems.add("terminal: " + terminal.page().url() + " answered " + describe(terminal.page()));
            } else if (!terminal.typed()) {
                problems.add("terminal: no prompt or no " + TERMINAL_INPUT + " to type into; lines: " + terminal.lines());
            } else if (terminal.answer().isEmpty()) {
                problems.add("terminal: no line matching '" + BPFTRACE_VERSION.pattern() + "' after typing '" + COMMAND
                        + "'; lines: " + terminal.lines());
            }
            if (terminal.wrongPassword().status() != 401) {
                problems.add("terminal: a wrong password got " + describe(terminal.wrongPassword()) + ", not 401");
            }
            if (!grafana.loggedIn()) {
                problems.add("grafana: the login form with the card's password did not log in ("
                        + describe(grafana.page()) + ", at " + grafana.location() + ")");
            } else if (!grafana.titleShown()) {
                problems.add("grafana: " + grafana.page().url() + " (" + describe(grafana.page())
                        + ") does not show the dashboard's title");
            }
            if (grafana.refusal().isEmpty()) {
                problems.add("grafana: a wrong password showed no login error");
            }
            return List.copyOf(problems);
        }

        private static String describe(Navigation n) {
            if (n.status() == 0) {
                return n.error();
            }
            return "HTTP " + n.status() + (n.error().isEmpty() ? "" : " (" + n.error() + ")");
        }
    }
}
