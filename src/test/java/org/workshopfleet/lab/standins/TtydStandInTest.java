package org.workshopfleet.lab.standins;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ttyd stand-in ({@code standins/ttyd/ttyd}, run with python3 on loopback as the machines' unit runs it) speaks
 * ttyd's protocol: the page with what a browser test reads, the token, and the {@code tty} websocket that starts the
 * command on a pty only after the client's first JSON message.
 */
class TtydStandInTest {

    private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)/terminal/");

    @TempDir
    Path dir;

    private Path script() throws Exception {
        return new StandInResource("ttyd/ttyd").copyTo(dir.resolve("ttyd"), "rwxr-xr-x");
    }

    private static ProcessResult run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        return new ProcessResult(p.exitValue(), out);
    }

    private record ProcessResult(int exit, String output) {
    }

    @Test
    void reportsVersionOneSixThreeAndRefusesOptionsItDoesNotHave() throws Exception {
        Path ttyd = script();
        assertEquals(new ProcessResult(0, "ttyd version 1.6.3-standin\n"), run(List.of("python3", ttyd.toString(), "--version")));
        ProcessResult writable = run(List.of("python3", ttyd.toString(), "-W", "bash"));
        assertEquals(1, writable.exit(), "1.6.3 has no -W");
        assertTrue(writable.output().contains("invalid option -- 'W'"), writable.output());
        ProcessResult noCommand = run(List.of("python3", ttyd.toString(), "-p", "0"));
        assertEquals(1, noCommand.exit());
    }

    @Test
    void servesThePageTheTokenAndATerminalOverTheTtyWebsocket() throws Exception {
        Process server = new ProcessBuilder("python3", script().toString(), "-i", "lo", "-p", "0", "-b", "/terminal",
                "/bin/sh", "-c", "echo ready; read line; echo \"got:$line\"; sleep 5").redirectErrorStream(true).start();
        try {
            BufferedReader log = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String first = log.readLine();
            Matcher m = LISTENING.matcher(first == null ? "" : first);
            assertTrue(m.find(), "no listening line: " + first);
            String base = "127.0.0.1:" + m.group(1) + "/terminal";
            HttpClient http = HttpClient.newHttpClient();

            HttpResponse<String> page = http.send(java.net.http.HttpRequest.newBuilder(URI.create("http://" + base + "/"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode());
            for (String needed : List.of("<title>ttyd - Terminal</title>", "class=\"xterm-helper-textarea\"",
                    "window.term", "getLine", "translateToString", "[\"tty\"]")) {
                assertTrue(page.body().contains(needed), "page lacks " + needed);
            }
            HttpResponse<String> token = http.send(java.net.http.HttpRequest.newBuilder(URI.create("http://" + base
                    + "/token")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("{\"token\": \"\"}", token.body());
            HttpResponse<String> bare = http.send(java.net.http.HttpRequest.newBuilder(URI.create("http://" + base))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(301, bare.statusCode());
            assertEquals("/terminal/", bare.headers().firstValue("Location").orElse(""));

            BlockingQueue<String> frames = new LinkedBlockingQueue<>();
            WebSocket ws = http.newWebSocketBuilder().subprotocols("tty")
                    .buildAsync(URI.create("ws://" + base + "/ws"), new WebSocket.Listener() {
                        private final StringBuilder partial = new StringBuilder();

                        @Override
                        public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
                            byte[] b = new byte[data.remaining()];
                            data.get(b);
                            partial.append(new String(b, StandardCharsets.UTF_8));
                            if (last) {
                                frames.add(partial.toString());
                                partial.setLength(0);
                            }
                            w.request(1);
                            return null;
                        }
                    }).get(10, TimeUnit.SECONDS);
            assertEquals("tty", ws.getSubprotocol());
            assertEquals(null, frames.poll(500, TimeUnit.MILLISECONDS), "nothing starts before the first message");
            ws.sendBinary(ByteBuffer.wrap("{\"AuthToken\":\"\",\"columns\":100,\"rows\":30}"
                    .getBytes(StandardCharsets.UTF_8)), true).get(5, TimeUnit.SECONDS);
            String title = frames.poll(10, TimeUnit.SECONDS);
            assertTrue(title != null && title.startsWith("1/bin/sh -c "), "window title frame: " + title);
            assertEquals("2{}", frames.poll(10, TimeUnit.SECONDS), "preferences frame");
            StringBuilder output = new StringBuilder();
            waitFor(frames, output, "ready");
            ws.sendBinary(ByteBuffer.wrap("1{\"columns\":120,\"rows\":40}".getBytes(StandardCharsets.UTF_8)), true)
                    .get(5, TimeUnit.SECONDS);
            ws.sendBinary(ByteBuffer.wrap("0abc\r".getBytes(StandardCharsets.UTF_8)), true).get(5, TimeUnit.SECONDS);
            waitFor(frames, output, "got:abc");
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
        } finally {
            server.destroy();
            server.waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** Reads output frames ('0' + bytes) into {@code output} until it holds {@code text}. */
    private static void waitFor(BlockingQueue<String> frames, StringBuilder output, String text) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!output.toString().contains(text)) {
            String f = frames.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            assertTrue(f != null, "no '" + text + "' in the terminal's output: " + output);
            if (f.startsWith("0")) {
                output.append(f.substring(1));
            }
        }
    }
}
