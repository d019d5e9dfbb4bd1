package org.workshopfleet.ssh;

import java.io.IOException;
import java.net.ServerSocket;
import net.schmizz.sshj.connection.channel.direct.LocalPortForwarder;

/**
 * A local port on 127.0.0.1 that tunnels through the SSH connection to a port on the machine's own loopback,
 * e.g. Grafana on 127.0.0.1:3000 before the port is reachable from the facilitator. Closing it stops listening.
 */
public final class PortForward implements AutoCloseable {

    private final ServerSocket socket;
    private final LocalPortForwarder forwarder;
    private final Thread thread;

    PortForward(ServerSocket socket, LocalPortForwarder forwarder, String name) {
        this.socket = socket;
        this.forwarder = forwarder;
        this.thread = new Thread(() -> {
            // sshj's listen() ends when the machine refuses one forwarded connection (nothing listening there yet, e.g.
            // Grafana still starting); it closes that client socket, and we listen again, so the next poll can get
            // through. Closing our socket ends the loop.
            while (!socket.isClosed()) {
                try {
                    forwarder.listen();
                } catch (IOException e) {
                    // a refused channel, or our own close: the loop condition tells which
                }
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** The local port to connect to (on 127.0.0.1). */
    public int localPort() {
        return socket.getLocalPort();
    }

    @Override
    public void close() {
        try {
            forwarder.close();
        } catch (IOException ignored) {
            // already closed
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
