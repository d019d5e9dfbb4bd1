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
            try {
                forwarder.listen();
            } catch (IOException e) {
                // Closing the socket ends listen() with an exception; nothing to report.
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
