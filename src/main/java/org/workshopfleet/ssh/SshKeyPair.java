package org.workshopfleet.ssh;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * An Ed25519 key pair in OpenSSH's formats: the login key of a workshop, or the pinned host key of one machine.
 * Generated locally with the JDK's Ed25519 so host keys can be pinned before a machine exists.
 *
 * <p>{@link #toString()} shows only the fingerprint: the private half never reaches a log by accident.
 */
public final class SshKeyPair {

    private static final String TYPE = "ssh-ed25519";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] publicKey;  // 32 bytes
    private final byte[] seed;       // 32 bytes
    private final String comment;

    private SshKeyPair(byte[] publicKey, byte[] seed, String comment) {
        this.publicKey = publicKey.clone();
        this.seed = seed.clone();
        this.comment = Objects.requireNonNull(comment);
    }

    /** A fresh key pair with the given comment (e.g. {@code workshop-fleet@ebpf-php}). */
    public static SshKeyPair generate(String comment) {
        try {
            KeyPair kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            byte[] x509 = kp.getPublic().getEncoded();   // 12-byte SubjectPublicKeyInfo prefix + 32-byte key
            byte[] pkcs8 = kp.getPrivate().getEncoded(); // ends with OCTET STRING(32-byte seed)
            return new SshKeyPair(Arrays.copyOfRange(x509, x509.length - 32, x509.length),
                    Arrays.copyOfRange(pkcs8, pkcs8.length - 32, pkcs8.length), comment);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no Ed25519", e);
        }
    }

    /** Reads a key written by {@link #privateKeyOpenSsh()} (unencrypted {@code openssh-key-v1}, Ed25519). */
    public static SshKeyPair parsePrivateKey(String pem) {
        String body = pem.replace("-----BEGIN OPENSSH PRIVATE KEY-----", "")
                .replace("-----END OPENSSH PRIVATE KEY-----", "").replaceAll("\\s", "");
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(body));
        byte[] magic = new byte[15];
        b.get(magic);
        if (!new String(magic, StandardCharsets.US_ASCII).equals("openssh-key-v1\0")) {
            throw new IllegalArgumentException("not an openssh-key-v1 private key");
        }
        if (!str(b).equals("none") || !str(b).equals("none")) {
            throw new IllegalArgumentException("encrypted private keys are not supported");
        }
        bytes(b); // kdf options
        if (b.getInt() != 1) {
            throw new IllegalArgumentException("expected exactly one key");
        }
        bytes(b); // public blob
        ByteBuffer p = ByteBuffer.wrap(bytes(b));
        if (p.getInt() != p.getInt()) {
            throw new IllegalArgumentException("corrupt private key (check ints differ)");
        }
        if (!str(p).equals(TYPE)) {
            throw new IllegalArgumentException("only ssh-ed25519 keys are supported");
        }
        byte[] pub = bytes(p);
        byte[] secret = bytes(p);
        String comment = str(p);
        return new SshKeyPair(pub, Arrays.copyOf(secret, 32), comment);
    }

    /** The public key as one {@code authorized_keys} line: {@code ssh-ed25519 AAAA… comment}. */
    public String publicKeyLine() {
        return TYPE + " " + Base64.getEncoder().encodeToString(publicBlob()) + " " + comment;
    }

    /** The public key without its comment: {@code ssh-ed25519 AAAA…} (the form known_hosts and host-key pins use). */
    public String publicKeyNoComment() {
        return TYPE + " " + Base64.getEncoder().encodeToString(publicBlob());
    }

    /** {@code SHA256:…} as {@code ssh-keygen -l} prints it. */
    public String fingerprint() {
        return fingerprintOf(publicBlob());
    }

    /** The SHA-256 fingerprint of a public key blob (the SSH wire encoding). */
    public static String fingerprintOf(byte[] blob) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(blob);
            return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The SSH wire encoding of the public key. */
    public byte[] publicBlob() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        putString(out, TYPE.getBytes(StandardCharsets.US_ASCII));
        putString(out, publicKey);
        return out.toByteArray();
    }

    /** The private key in OpenSSH's own format ({@code -----BEGIN OPENSSH PRIVATE KEY-----}). Secret: write it 0600. */
    public String privateKeyOpenSsh() {
        ByteArrayOutputStream priv = new ByteArrayOutputStream();
        int check = RANDOM.nextInt();
        putInt(priv, check);
        putInt(priv, check);
        putString(priv, TYPE.getBytes(StandardCharsets.US_ASCII));
        putString(priv, publicKey);
        byte[] secret = new byte[64];
        System.arraycopy(seed, 0, secret, 0, 32);
        System.arraycopy(publicKey, 0, secret, 32, 32);
        putString(priv, secret);
        putString(priv, comment.getBytes(StandardCharsets.UTF_8));
        for (int pad = 1; priv.size() % 8 != 0; pad++) {
            priv.write(pad);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("openssh-key-v1\0".getBytes(StandardCharsets.US_ASCII));
        putString(out, "none".getBytes(StandardCharsets.US_ASCII));
        putString(out, "none".getBytes(StandardCharsets.US_ASCII));
        putString(out, new byte[0]);
        putInt(out, 1);
        putString(out, publicBlob());
        putString(out, priv.toByteArray());
        String b64 = Base64.getEncoder().encodeToString(out.toByteArray());
        StringBuilder pem = new StringBuilder("-----BEGIN OPENSSH PRIVATE KEY-----\n");
        for (int i = 0; i < b64.length(); i += 70) {
            pem.append(b64, i, Math.min(b64.length(), i + 70)).append('\n');
        }
        return pem.append("-----END OPENSSH PRIVATE KEY-----\n").toString();
    }

    public String comment() {
        return comment;
    }

    @Override
    public String toString() {
        return "SshKeyPair[" + fingerprint() + " " + comment + "]";
    }

    private static void putInt(ByteArrayOutputStream out, int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
    }

    private static void putString(ByteArrayOutputStream out, byte[] s) {
        putInt(out, s.length);
        out.writeBytes(s);
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] s = new byte[b.getInt()];
        b.get(s);
        return s;
    }

    private static String str(ByteBuffer b) {
        return new String(bytes(b), StandardCharsets.UTF_8);
    }
}
