package org.workshopfleet.ssh;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import javax.net.SocketFactory;

/**
 * The socket factory of one SSH connection attempt (sshj's {@code SocketClient.setSocketFactory}): {@link #cancel()}
 * closes the sockets it made and refuses any later one, so the attempt fails at once wherever it is: still making its
 * client (before it has a socket), connecting, or waiting for the server. Neither a socket connect nor a blocking read
 * reacts to {@link Thread#interrupt()}, and sshj's {@code disconnect()} does nothing before the client has a socket;
 * closing the socket from another thread ends both. Thread-safe.
 */
final class AttemptSockets extends SocketFactory {

    private final List<Socket> made = new ArrayList<>();
    private boolean cancelled;

    /** An unconnected socket (sshj connects it with its own timeout), or a refusal once cancelled. */
    @Override
    public synchronized Socket createSocket() throws SocketException {
        if (cancelled) {
            throw new SocketException("connection attempt stopped");
        }
        Socket socket = new Socket();
        made.add(socket);
        return socket;
    }

    /** Ends the attempt: closes its sockets and refuses new ones. Idempotent. */
    void cancel() {
        List<Socket> open;
        synchronized (this) {
            cancelled = true;
            open = List.copyOf(made);
        }
        for (Socket socket : open) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // the attempt ends either way
            }
        }
    }

    // sshj's SocketClient asks only for unconnected sockets; connected ones would bypass its connect timeout.

    @Override
    public Socket createSocket(String host, int port) throws SocketException {
        throw unconnectedOnly();
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws SocketException {
        throw unconnectedOnly();
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws SocketException {
        throw unconnectedOnly();
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws SocketException {
        throw unconnectedOnly();
    }

    private static SocketException unconnectedOnly() {
        return new SocketException("only unconnected sockets are made for an SSH attempt");
    }
}
