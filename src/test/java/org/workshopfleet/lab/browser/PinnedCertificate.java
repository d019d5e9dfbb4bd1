package org.workshopfleet.lab.browser;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The one self-signed certificate a browser check trusts: its SHA-256 fingerprint (the form a browser's certificate
 * viewer and the attendee card show) and the SHA-256 of its SubjectPublicKeyInfo, base64, which is what Chromium's
 * {@code --ignore-certificate-errors-spki-list} takes.
 *
 * @param fingerprint SHA-256 of the DER certificate, upper-case hex pairs joined by colons
 * @param spkiSha256  base64 SHA-256 of the certificate's SubjectPublicKeyInfo
 */
public record PinnedCertificate(String fingerprint, String spkiSha256) {

    /** The pin of {@code certificate}. */
    public static PinnedCertificate of(X509Certificate certificate) {
        try {
            return new PinnedCertificate(fingerprintOf(certificate),
                    Base64.getEncoder().encodeToString(sha256(certificate.getPublicKey().getEncoded())));
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("cannot encode the certificate of " + certificate.getSubjectX500Principal(), e);
        }
    }

    /**
     * The pin of the certificate {@code https} serves, only if its fingerprint is {@code cardFingerprint}: the card is
     * what an attendee checks, so a browser check trusts the served certificate only when the card names it. The
     * certificate is read in a TLS handshake that accepts any certificate to look at it; nothing is sent after it.
     *
     * @return the pin, or empty when the server presents another certificate than the card's
     */
    public static Optional<PinnedCertificate> servedMatching(URI https, String cardFingerprint) {
        PinnedCertificate served = of(served(https));
        return sameFingerprint(served.fingerprint(), cardFingerprint) ? Optional.of(served) : Optional.empty();
    }

    /** Whether two SHA-256 fingerprints are equal, whatever their case and separators. */
    public static boolean sameFingerprint(String a, String b) {
        String x = a.replaceAll("[^0-9A-Fa-f]", "").toUpperCase(Locale.ROOT);
        String y = b.replaceAll("[^0-9A-Fa-f]", "").toUpperCase(Locale.ROOT);
        return x.length() == 64 && x.equals(y);
    }

    /**
     * The SHA-256 fingerprint of the certificate {@code address}:443 presents to a client asking for {@code serverName}
     * (SNI), as a browser opening {@code https://serverName/} does once DNS points that name at {@code address}.
     */
    public static String servedFor(String address, String serverName) {
        try {
            return fingerprintOf(served(address, 443, serverName));
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("cannot encode the certificate of " + serverName, e);
        }
    }

    /**
     * TLS that trusts exactly the certificate with SHA-256 {@code fingerprint}, as an attendee who compares it with the
     * card. With {@code checkName} the JDK's https clients also require it to name the host they connect to (a
     * per-machine certificate names the address); without, only the fingerprint counts (a certificate for the seats'
     * DNS names, reached here by address).
     */
    public static SSLContext trusting(String fingerprint, boolean checkName) {
        Pin pin = new Pin(fingerprint);
        // A plain X509TrustManager is wrapped by the JDK, which then adds the host name check; an extended one is not.
        TrustManager manager = !checkName ? pin : new X509TrustManager() {
            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                pin.checkServerTrusted(chain, authType);
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                pin.checkClientTrusted(chain, authType);
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return pin.getAcceptedIssuers();
            }
        };
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {manager}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS in this JVM: " + e, e);
        }
    }

    /** The certificate the server at {@code https} (port 443 unless given) presents first. */
    static X509Certificate served(URI https) {
        return served(https.getHost(), https.getPort() == -1 ? 443 : https.getPort(), null);
    }

    /** The certificate {@code host}:{@code port} presents first, asked for {@code serverName} (null: none). */
    private static X509Certificate served(String host, int port, String serverName) {
        X509Certificate[][] seen = new X509Certificate[1][];
        try {
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, new TrustManager[] {new Recorder(seen)}, null);
            try (Socket raw = new Socket()) {
                raw.connect(new InetSocketAddress(host, port), 10_000);
                try (SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(raw, host, port, true)) {
                    if (serverName != null) {
                        SSLParameters parameters = socket.getSSLParameters();
                        parameters.setServerNames(List.of(new SNIHostName(serverName)));
                        socket.setSSLParameters(parameters);
                    }
                    socket.setSoTimeout(10_000);
                    socket.startHandshake();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the certificate of " + host + ":" + port + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS in this JVM: " + e, e);
        }
        if (seen[0] == null || seen[0].length == 0) {
            throw new IllegalStateException(host + ":" + port + " presented no certificate");
        }
        return seen[0][0];
    }

    static String fingerprintOf(X509Certificate certificate) throws CertificateEncodingException {
        return HexFormat.ofDelimiter(":").withUpperCase().formatHex(sha256(certificate.getEncoded()));
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
    }

    /** Trusts a server whose first certificate has the pinned SHA-256, whatever it names. */
    private static final class Pin extends X509ExtendedTrustManager {
        private final String fingerprint;

        Pin(String fingerprint) {
            this.fingerprint = fingerprint;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            String served = fingerprintOf(chain[0]);
            if (!sameFingerprint(served, fingerprint)) {
                throw new CertificateException("served " + served + ", the card says " + fingerprint);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            checkServerTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            checkServerTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("this trusts a server; it trusts no client");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    /** Keeps the server's chain to compare it with the card; trust is decided by that comparison, not here. */
    private static final class Recorder implements X509TrustManager {
        private final X509Certificate[][] seen;

        Recorder(X509Certificate[][] seen) {
            this.seen = seen;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
            seen[0] = chain.clone();
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("this reads a server's certificate; it trusts no client");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
