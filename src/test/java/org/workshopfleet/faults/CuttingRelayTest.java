package org.workshopfleet.faults;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The fault injector itself: the first connection is cut after exactly K client bytes; later ones pass whole. */
class CuttingRelayTest {

    @Test
    void cutsTheFirstConnectionAfterExactlyKBytesAndPassesLaterOnes() throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (ServerSocket sink = new ServerSocket(0, 50, lo)) {
            AtomicInteger cuts = new AtomicInteger();
            byte[] data = new byte[50_000];
            new java.util.Random(3).nextBytes(data);
            try (CuttingRelay relay = new CuttingRelay(new InetSocketAddress(lo, 0), new InetSocketAddress(lo, sink.getLocalPort()),
                    12_345, cuts)) {
                int relayPort = relay.port();
                for (int round = 0; round < 2; round++) {
                    CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> readAll(sink));
                    try (Socket client = new Socket(lo, relayPort)) {
                        OutputStream out = client.getOutputStream();
                        if (round == 0) {
                            assertThrows(IOException.class, () -> {
                                for (int i = 0; i < 200; i++) { // keep writing until the reset reaches the writer
                                    out.write(data);
                                    out.flush();
                                    Thread.sleep(5);
                                }
                            });
                        } else {
                            out.write(data);
                            client.shutdownOutput();
                        }
                    }
                    byte[] got = received.get(10, TimeUnit.SECONDS);
                    if (round == 0) {
                        assertArrayEquals(Arrays.copyOf(data, 12_345), got, "exactly the first K bytes reach the server");
                    } else {
                        assertArrayEquals(data, got, "a later connection passes whole");
                    }
                }
                assertEquals(1, cuts.get());
            }
        }
    }

    private static byte[] readAll(ServerSocket sink) {
        try (Socket s = sink.accept(); InputStream in = s.getInputStream()) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            byte[] b = new byte[4096];
            int n;
            try {
                while ((n = in.read(b)) >= 0) {
                    buf.write(b, 0, n);
                }
            } catch (IOException reset) {
                // the cut: what arrived before it is the answer
            }
            return buf.toByteArray();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
