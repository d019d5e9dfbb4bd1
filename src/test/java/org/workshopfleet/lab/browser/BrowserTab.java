package org.workshopfleet.lab.browser;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.lab.browser.DevToolsConnection.DevToolsError;
import org.workshopfleet.lab.browser.DevToolsConnection.Event;

/**
 * One page of a {@link Chromium}, in a browser context of its own: navigate and wait for the load, answer HTTP basic
 * auth, run JavaScript, focus and click elements, type text and Enter, take a screenshot. Every wait goes through the
 * browser's {@link Waiter}.
 */
public final class BrowserTab implements AutoCloseable {

    private final DevToolsConnection devTools;
    private final String context;
    private final String session;
    private final Waiter waiter;
    private final Consumer<Event> listener = this::onEvent;
    /** The navigations (by loader id) whose document has fired its load event. */
    private final Set<String> loaded = ConcurrentHashMap.newKeySet();
    /** The HTTP status of each navigation's document, by loader id. */
    private final Map<String, Integer> documentStatus = new ConcurrentHashMap<>();
    private final AtomicReference<Login> credentials = new AtomicReference<>();
    /** Requests already answered with credentials once: a second challenge means they were refused. */
    private final Set<String> authAnswered = ConcurrentHashMap.newKeySet();
    private volatile String mainFrame = "";

    private BrowserTab(DevToolsConnection devTools, String context, String session, Waiter waiter) {
        this.devTools = devTools;
        this.context = context;
        this.session = session;
        this.waiter = waiter;
    }

    static BrowserTab open(DevToolsConnection devTools, String context, String session, Waiter waiter) {
        BrowserTab tab = new BrowserTab(devTools, context, session, waiter);
        devTools.onEvent(tab.listener);
        tab.call("Page.enable", null);
        tab.call("Page.setLifecycleEventsEnabled", DevToolsConnection.JSON.createObjectNode().put("enabled", true));
        tab.call("Network.enable", null);
        tab.mainFrame = tab.call("Page.getFrameTree", null).path("frameTree").path("frame").path("id").asText();
        return tab;
    }

    /**
     * From now on, answers HTTP basic auth challenges with {@code login}, once per request: a request challenged
     * again (the server refused the credentials) is answered with {@code CancelAuth}, so the page shows the server's
     * 401 answer as a browser does after a refused login. Every request pauses for this (Fetch domain with
     * {@code handleAuthRequests}) and is continued unchanged.
     */
    public void answerBasicAuth(Login login) {
        credentials.set(login);
        ObjectNode params = DevToolsConnection.JSON.createObjectNode().put("handleAuthRequests", true);
        params.putArray("patterns").addObject().put("urlPattern", "*");
        call("Fetch.enable", params);
    }

    /**
     * Opens {@code url} and waits until its document has loaded (the {@code load} lifecycle event of this very
     * navigation, then {@code document.readyState} complete), or until the navigation failed.
     *
     * @return the document's HTTP status, or the browser's error (e.g. {@code net::ERR_CERT_AUTHORITY_INVALID})
     */
    public Navigation navigate(String url) {
        JsonNode answer = call("Page.navigate", DevToolsConnection.JSON.createObjectNode().put("url", url));
        String error = answer.path("errorText").asText("");
        String loader = answer.path("loaderId").asText("");
        if (!error.isEmpty()) {
            // An error answer with an empty body (a bare 401) fails as net::ERR_HTTP_RESPONSE_CODE_FAILURE; its
            // status arrived before the failure did.
            return new Navigation(url, documentStatus.getOrDefault(loader, 0), error);
        }
        boolean done = waiter.until(() -> (loader.isEmpty() || loaded.contains(loader))
                && "complete".equals(evaluateQuietly("document.readyState").orElse(null)), ok -> ok, p -> { },
                "waiting for " + url + " to load").isPresent();
        return new Navigation(url, documentStatus.getOrDefault(loader, 0), done ? "" : "did not load within "
                + waiter.timeout().toSeconds() + " s");
    }

    /**
     * Waits until the JavaScript expression {@code predicate} is true in the page (errors while the page changes count
     * as false).
     *
     * @return whether it became true within the waiter's timeout
     */
    public boolean waitFor(String predicate, String what) {
        return waiter.until(() -> Boolean.TRUE.equals(evaluateQuietly(predicate).orElse(null)), done -> done,
                p -> { }, "waiting for " + what).isPresent();
    }

    /**
     * Evaluates {@code expression} in the page ({@code Runtime.evaluate}, promises awaited) and returns its value as
     * JSON turns it into Java: String, Boolean, Integer/Double, List, Map, or null.
     *
     * @throws IllegalStateException when the expression throws
     */
    public Object evaluate(String expression) {
        ObjectNode params = DevToolsConnection.JSON.createObjectNode().put("expression", expression)
                .put("returnByValue", true).put("awaitPromise", true);
        JsonNode answer = call("Runtime.evaluate", params);
        if (answer.has("exceptionDetails")) {
            JsonNode details = answer.path("exceptionDetails");
            throw new IllegalStateException("the page's JavaScript threw: "
                    + details.path("exception").path("description").asText(details.path("text").asText()));
        }
        return DevToolsConnection.JSON.convertValue(answer.path("result").path("value"), Object.class);
    }

    private Optional<Object> evaluateQuietly(String expression) {
        try {
            return Optional.ofNullable(evaluate(expression));
        } catch (IllegalStateException | DevToolsError e) {
            return Optional.empty(); // e.g. the execution context was replaced by a navigation under way
        }
    }

    /** The page's visible text ({@code document.body.innerText}), "" before there is a body. */
    public String text() {
        return String.valueOf(evaluateQuietly("document.body ? document.body.innerText : ''").orElse(""));
    }

    /** The page's current address ({@code location.href}). */
    public String location() {
        return String.valueOf(evaluateQuietly("location.href").orElse(""));
    }

    /**
     * Focuses the first element matching the CSS {@code selector}.
     *
     * @return whether such an element exists and now has the focus
     */
    public boolean focus(String selector) {
        return Boolean.TRUE.equals(evaluate("(() => { const e = document.querySelector(" + quoted(selector)
                + "); if (!e) return false; e.focus(); return document.activeElement === e; })()"));
    }

    /**
     * Clicks the middle of the first element matching {@code selector} with the mouse ({@code mousePressed} and
     * {@code mouseReleased}, left button), as a person does: the page sees real mouse events, not a script's click.
     *
     * @return whether the element was found
     */
    public boolean click(String selector) {
        Object box = evaluate("(() => { const e = document.querySelector(" + quoted(selector) + "); if (!e) return null;"
                + " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
                + " return [r.left + r.width / 2, r.top + r.height / 2]; })()");
        if (!(box instanceof java.util.List<?> xy) || xy.size() != 2) {
            return false;
        }
        double x = ((Number) xy.get(0)).doubleValue();
        double y = ((Number) xy.get(1)).doubleValue();
        mouse("mouseMoved", x, y);
        mouse("mousePressed", x, y);
        mouse("mouseReleased", x, y);
        return true;
    }

    private void mouse(String type, double x, double y) {
        ObjectNode params = DevToolsConnection.JSON.createObjectNode().put("type", type).put("x", x).put("y", y);
        if (!"mouseMoved".equals(type)) {
            params.put("button", "left").put("clickCount", 1);
        }
        call("Input.dispatchMouseEvent", params);
    }

    /**
     * Replaces the value of the first input matching {@code selector} by typing: focus, select what it holds, type.
     * Frameworks that watch input events (Grafana's React forms) see the value as if typed.
     *
     * @return whether the input was found and focused
     */
    public boolean fill(String selector, String text) {
        if (!focus(selector)) {
            return false;
        }
        evaluate("(() => { const e = document.activeElement; if (e && e.select) e.select(); return true; })()");
        type(text);
        return true;
    }

    /** Types {@code text} into the focused element ({@code Input.insertText}: one input event, as from a keyboard). */
    public void type(String text) {
        call("Input.insertText", DevToolsConnection.JSON.createObjectNode().put("text", text));
    }

    /** Presses and releases Enter on the focused element, as the keyboard sends it (key code 13, text CR). */
    public void pressEnter() {
        ObjectNode down = DevToolsConnection.JSON.createObjectNode().put("type", "keyDown").put("key", "Enter")
                .put("code", "Enter").put("windowsVirtualKeyCode", 13).put("nativeVirtualKeyCode", 13)
                .put("text", "\r").put("unmodifiedText", "\r");
        call("Input.dispatchKeyEvent", down);
        ObjectNode up = DevToolsConnection.JSON.createObjectNode().put("type", "keyUp").put("key", "Enter")
                .put("code", "Enter").put("windowsVirtualKeyCode", 13).put("nativeVirtualKeyCode", 13);
        call("Input.dispatchKeyEvent", up);
    }

    /** Saves what the page shows as a PNG file at {@code file} (its folder is made). */
    public Path screenshot(Path file) {
        JsonNode shot = call("Page.captureScreenshot", DevToolsConnection.JSON.createObjectNode().put("format", "png"));
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            Files.write(file, Base64.getDecoder().decode(shot.path("data").asText()));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the screenshot " + file, e);
        }
    }

    /**
     * The certificate the server of {@code origin} (e.g. {@code https://10.231.1.2}) presented to this page
     * ({@code Network.getCertificate}); empty before the page has loaded anything from there.
     */
    public Optional<X509Certificate> servedCertificate(String origin) {
        JsonNode chain = call("Network.getCertificate", DevToolsConnection.JSON.createObjectNode().put("origin", origin))
                .path("tableNames");
        if (!chain.isArray() || chain.isEmpty()) {
            return Optional.empty();
        }
        try {
            byte[] der = Base64.getDecoder().decode(chain.get(0).asText());
            return Optional.of((X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der)));
        } catch (CertificateException | IllegalArgumentException e) {
            throw new IllegalStateException("Chromium reported a certificate for " + origin + " that does not parse: " + e);
        }
    }

    private void onEvent(Event event) {
        if (!session.equals(event.sessionId())) {
            return;
        }
        JsonNode p = event.params();
        switch (event.method()) {
            case "Page.lifecycleEvent" -> {
                if ("load".equals(p.path("name").asText()) && mainFrame.equals(p.path("frameId").asText())) {
                    loaded.add(p.path("loaderId").asText());
                }
            }
            case "Network.responseReceived" -> {
                if ("Document".equals(p.path("type").asText()) && mainFrame.equals(p.path("frameId").asText())) {
                    documentStatus.put(p.path("loaderId").asText(), p.path("response").path("status").asInt());
                }
            }
            case "Fetch.requestPaused" -> devTools.send(session, "Fetch.continueRequest",
                    DevToolsConnection.JSON.createObjectNode().put("requestId", p.path("requestId").asText()));
            case "Fetch.authRequired" -> answerChallenge(p.path("requestId").asText());
            default -> {
            }
        }
    }

    private void answerChallenge(String requestId) {
        Login login = credentials.get();
        ObjectNode response = DevToolsConnection.JSON.createObjectNode();
        if (login != null && authAnswered.add(requestId)) {
            response.put("response", "ProvideCredentials").put("username", login.user()).put("password", login.password());
        } else {
            response.put("response", "CancelAuth");
        }
        ObjectNode params = DevToolsConnection.JSON.createObjectNode().put("requestId", requestId);
        params.set("authChallengeResponse", response);
        devTools.send(session, "Fetch.continueWithAuth", params);
    }

    private JsonNode call(String method, ObjectNode params) {
        return devTools.call(session, method, params);
    }

    private static String quoted(String text) {
        try {
            return DevToolsConnection.JSON.writeValueAsString(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot quote " + text, e);
        }
    }

    /** Closes the page and forgets its browser context (cookies, credentials). */
    @Override
    public void close() {
        devTools.removeListener(listener);
        Chromium.disposeContext(devTools, context);
    }
}
