package org.workshopfleet.render;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * PLACEHOLDER for the contract (the content helper's branch replaces this file): every file one machine receives,
 * and its setup steps. {@link #toTar()} writes a plain ustar archive.
 */
public record Bundle(String machineName, List<BundleFile> files, List<SetupStep> steps) {

    public static final String REMOTE_ROOT = "/opt/workshop-fleet";

    public Bundle {
        files = List.copyOf(files);
        steps = List.copyOf(steps);
    }

    /** A ustar archive of the files (paths relative to the bundle root; directories implied). */
    public byte[] toTar() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (BundleFile f : files) {
            byte[] h = new byte[512];
            put(h, 0, f.path(), 100);
            put(h, 100, String.format("%07o", f.mode() & 07777), 8);
            put(h, 108, "0000000", 8);
            put(h, 116, "0000000", 8);
            put(h, 124, String.format("%011o", f.content().length), 12);
            put(h, 136, String.format("%011o", 0L), 12);
            for (int i = 148; i < 156; i++) {
                h[i] = ' ';
            }
            h[156] = '0';
            put(h, 257, "ustar", 6);
            h[263] = '0';
            h[264] = '0';
            int sum = 0;
            for (byte b : h) {
                sum += b & 0xff;
            }
            put(h, 148, String.format("%06o", sum), 7);
            h[155] = ' ';
            out.writeBytes(h);
            out.writeBytes(f.content());
            int pad = (512 - f.content().length % 512) % 512;
            out.writeBytes(new byte[pad]);
        }
        out.writeBytes(new byte[1024]);
        return out.toByteArray();
    }

    private static void put(byte[] h, int off, String s, int len) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        if (b.length > len) {
            throw new IllegalArgumentException("tar field too long: " + s);
        }
        System.arraycopy(b, 0, h, off, b.length);
    }
}
