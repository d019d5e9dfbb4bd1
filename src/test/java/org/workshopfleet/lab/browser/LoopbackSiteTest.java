package org.workshopfleet.lab.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fixture itself: a browser keeps connections open that it has not sent a request on yet (speculative or idle
 * ones), and such a connection must not hold up the pages the browser does ask for.
 */
class LoopbackSiteTest {

    @Test
    void aConnectionThatSendsNoRequestDoesNotHoldUpTheNextOne(@TempDir Path tmp) throws Exception {
        try (LoopbackSite site = LoopbackSite.start(tmp);
             SSLSocket idle = connect(site.base(), site.pin().fingerprint())) {
            idle.startHandshake(); // and then nothing, as a browser's preconnected socket

            try (SSLSocket next = connect(site.base(), site.pin().fingerprint())) {
                OutputStream out = next.getOutputStream();
                out.write(("GET /plain HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String status = new BufferedReader(new InputStreamReader(next.getInputStream(),
                        StandardCharsets.US_ASCII)).readLine();
                assertEquals("HTTP/1.1 200 OK", status);
            }
        }
    }

    /** A TLS socket to {@code base} that trusts exactly the certificate with {@code fingerprint}; reads time out. */
    private static SSLSocket connect(URI base, String fingerprint) throws Exception {
        SSLSocket socket = (SSLSocket) PinnedCertificate.trusting(fingerprint, false).getSocketFactory()
                .createSocket(base.getHost(), base.getPort());
        socket.setSoTimeout(10_000); // a held-up server fails the read, not the test run
        return socket;
    }
}
