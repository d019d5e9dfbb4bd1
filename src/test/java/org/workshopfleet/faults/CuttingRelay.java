package org.workshopfleet.faults;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fault injector: a loopback TCP relay in front of a machine's sshd that cuts the first connection whose
 * client→server traffic reaches {@code cutAfter} bytes, after forwarding exactly that many bytes (both sockets reset,
 * as a dropped Wi-Fi or a NAT timeout would look to both ends). Later connections pass untouched. With a bundle much
 * larger than everything the client sends before the upload (handshake, login, one command: a few KB), a cut point
 * inside the bundle's size lands in the middle of the bundle's transfer (on the provisioning command's stdin).
 */
final class CuttingRelay implements AutoCloseable {

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final long cutAfter;
    private final AtomicBoolean cutDone = new AtomicBoolean();
    private final AtomicInteger cuts;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    /**
     * @param listen   address and port to accept on
     * @param target   the sshd to relay to
     * @param cutAfter client→server bytes after which the first connection to reach them is cut
     * @param cuts     incremented once when the cut happens
     */
    CuttingRelay(InetSocketAddress listen, InetSocketAddress target, long cutAfter, AtomicInteger cuts) {
        this.target = target;
        this.cutAfter = cutAfter;
        this.cuts = cuts;
        try {
            server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(listen);
        } catch (IOException e) {
            throw new UncheckedIOException("relay cannot listen on " + listen, e);
        }
        daemon("relay-accept-" + listen, this::acceptLoop).start();
    }

    int port() {
        return server.getLocalPort();
    }

    boolean hasCut() {
        return cutDone.get();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket();
                upstream.connect(target, 5000);
                sockets.add(client);
                sockets.add(upstream);
                daemon("relay-up", () -> pumpUp(client, upstream)).start();
                daemon("relay-down", () -> pump(upstream, client)).start();
            } catch (IOException e) {
                if (!closed) {
                    continue; // one failed connection does not stop the relay
                }
            }
        }
    }

    /** Client → server, counting bytes and cutting at {@link #cutAfter} (once per relay). */
    private void pumpUp(Socket from, Socket to) {
        boolean mayCut = !cutDone.get();
        long sent = 0;
        byte[] buf = new byte[8192];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                if (mayCut && sent + n >= cutAfter && cutDone.compareAndSet(false, true)) {
                    out.write(buf, 0, (int) (cutAfter - sent));
                    out.flush();
                    cuts.incrementAndGet();
                    reset(from);
                    reset(to);
                    return;
                }
                out.write(buf, 0, n);
                sent += n;
            }
            to.shutdownOutput();
        } catch (IOException e) {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private static void pump(Socket from, Socket to) {
        byte[] buf = new byte[8192];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
            }
            to.shutdownOutput();
        } catch (IOException e) {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    /** Closes with an RST (linger 0): the peer sees "connection reset", not an orderly end. */
    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (SocketException ignored) {
            // already closed
        }
        closeQuietly(s);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    private static Thread daemon(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // nothing to do
        }
        sockets.forEach(CuttingRelay::closeQuietly);
    }
}
