package org.workshopfleet.lab.browser;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.workshopfleet.error.Interrupted;

/**
 * One WebSocket to Chromium's browser endpoint, speaking the Chrome DevTools Protocol with flattened sessions: each
 * command is {@code {id, method, params, sessionId?}}, answered by a message with the same id; messages without an id
 * are events, handed to every listener. Pages are driven through their {@code sessionId} on this one socket
 * (Chrome DevTools Protocol documentation, Target domain: {@code attachToTarget} with {@code flatten}).
 */
final class DevToolsConnection implements AutoCloseable {

    /** An event Chromium sent: its session (empty for the browser itself), method and parameters. */
    record Event(String sessionId, String method, JsonNode params) {
    }

    /** A command Chromium answered with an error, or did not answer in time. */
    static final class DevToolsError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        DevToolsError(String message) {
            super(message);
        }
    }

    static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(30);

    private final WebSocket socket;
    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();
    /** The JDK's WebSocket allows one text send at a time: each send starts when the one before has finished. */
    private CompletableFuture<?> sending = CompletableFuture.completedFuture(null);
    private volatile boolean closed;

    /** A command waiting for its answer; the method is kept for the error message (never the parameters: secrets). */
    private record Pending(String method, CompletableFuture<JsonNode> answer) {
    }

    private DevToolsConnection(WebSocket socket, Receiver receiver) {
        this.socket = socket;
        receiver.connection = this;
    }

    /** Connects to a DevTools WebSocket URL ({@code ws://127.0.0.1:<port>/devtools/browser/<id>}). */
    static DevToolsConnection open(URI webSocketUrl) {
        Receiver receiver = new Receiver();
        try {
            WebSocket socket = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()
                    .newWebSocketBuilder().buildAsync(webSocketUrl, receiver)
                    .get(ANSWER_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            return new DevToolsConnection(socket, receiver);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Interrupted("connecting to Chromium's DevTools", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new DevToolsError("cannot connect to Chromium's DevTools at " + webSocketUrl + ": " + e);
        }
    }

    /** Adds a listener for every event; it runs on the socket's thread, so it must not wait for an answer. */
    void onEvent(Consumer<Event> listener) {
        listeners.add(listener);
    }

    void removeListener(Consumer<Event> listener) {
        listeners.remove(listener);
    }

    /** Sends a command and waits for its result (at most 30 s). */
    JsonNode call(String sessionId, String method, ObjectNode params) {
        CompletableFuture<JsonNode> answer = send(sessionId, method, params);
        try {
            return answer.get(ANSWER_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Interrupted("waiting for Chromium to answer " + method, e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof DevToolsError d ? d
                    : new DevToolsError(method + " failed: " + e.getCause());
        } catch (TimeoutException e) {
            throw new DevToolsError("Chromium did not answer " + method + " within " + ANSWER_TIMEOUT.toSeconds() + " s");
        }
    }

    /** Sends a command without waiting: for answers to events, given from the socket's own thread. */
    CompletableFuture<JsonNode> send(String sessionId, String method, ObjectNode params) {
        long id = ids.incrementAndGet();
        ObjectNode message = JSON.createObjectNode().put("id", id).put("method", method);
        message.set("params", params == null ? JSON.createObjectNode() : params);
        if (sessionId != null) {
            message.put("sessionId", sessionId);
        }
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        if (closed) {
            answer.completeExceptionally(new DevToolsError("the DevTools connection is closed (" + method + ")"));
            return answer;
        }
        pending.put(id, new Pending(method, answer));
        String text;
        try {
            text = JSON.writeValueAsString(message);
        } catch (JsonProcessingException e) {
            pending.remove(id);
            answer.completeExceptionally(new DevToolsError("cannot encode " + method));
            return answer;
        }
        synchronized (this) {
            sending = sending.handle((ignored, failure) -> null)
                    .thenCompose(ignored -> socket.sendText(text, true))
                    .whenComplete((ignored, failure) -> {
                        if (failure != null) {
                            pending.remove(id);
                            answer.completeExceptionally(new DevToolsError("cannot send " + method + ": " + failure));
                        }
                    });
        }
        return answer;
    }

    private void received(String text) {
        JsonNode message;
        try {
            message = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            return; // Chromium sends JSON only; a broken frame would fail the command waiting for it by its timeout
        }
        if (message.has("id")) {
            Pending p = pending.remove(message.get("id").asLong());
            if (p == null) {
                return;
            }
            if (message.has("error")) {
                p.answer().completeExceptionally(new DevToolsError(p.method() + " failed: "
                        + message.path("error").path("message").asText("") + " "
                        + message.path("error").path("data").asText("")));
            } else {
                p.answer().complete(message.path("result"));
            }
            return;
        }
        Event event = new Event(message.path("sessionId").asText(""), message.path("method").asText(""),
                message.path("params"));
        for (Consumer<Event> listener : listeners) {
            listener.accept(event);
        }
    }

    private void lost(String why) {
        closed = true;
        for (Long id : List.copyOf(pending.keySet())) {
            Pending p = pending.remove(id);
            if (p != null) {
                p.answer().completeExceptionally(new DevToolsError(p.method() + ": " + why));
            }
        }
    }

    @Override
    public void close() {
        if (!closed) {
            lost("the DevTools connection was closed");
            socket.abort();
        }
    }

    /** Reassembles text messages that arrive in parts (screenshots are megabytes) and hands each whole one on. */
    private static final class Receiver implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();
        private volatile DevToolsConnection connection;

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                DevToolsConnection c = connection;
                if (c != null) {
                    c.received(text);
                }
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            DevToolsConnection c = connection;
            if (c != null) {
                c.lost("Chromium closed the DevTools connection (" + statusCode + ")");
            }
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            DevToolsConnection c = connection;
            if (c != null) {
                c.lost("the DevTools connection failed: " + error);
            }
        }
    }
}
