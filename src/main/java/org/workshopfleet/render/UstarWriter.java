package org.workshopfleet.render;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes a POSIX.1-1988 ustar archive in memory: 512-byte headers, content padded to 512 bytes, two zero blocks at
 * the end. Only regular files and directories, owner root (0/0), one fixed modification time.
 */
final class UstarWriter {

    private static final int BLOCK = 512;
    /** 2026-01-01T00:00:00Z: fixed so that equal bundles give equal bytes (and GNU tar sees a plausible date). */
    static final long MTIME = 1_767_225_600L;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    void directory(String path, int mode) {
        header(path + "/", 0, mode, '5');
    }

    void file(String path, byte[] content, int mode) {
        header(path, content.length, mode, '0');
        out.writeBytes(content);
        pad(content.length);
    }

    byte[] finish() {
        out.writeBytes(new byte[2 * BLOCK]);
        return out.toByteArray();
    }

    private void header(String path, long size, int mode, char type) {
        byte[] h = new byte[BLOCK];
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        String prefix = "";
        if (name.length > 100) {
            int cut = path.lastIndexOf('/', path.length() - 2);
            while (cut > 0 && (path.substring(0, cut).getBytes(StandardCharsets.UTF_8).length > 155
                    || path.substring(cut + 1).getBytes(StandardCharsets.UTF_8).length > 100)) {
                cut = path.lastIndexOf('/', cut - 1);
            }
            if (cut <= 0) {
                throw new IllegalArgumentException("path too long for ustar: " + path);
            }
            prefix = path.substring(0, cut);
            name = path.substring(cut + 1).getBytes(StandardCharsets.UTF_8);
        }
        System.arraycopy(name, 0, h, 0, name.length);
        octal(h, 100, 8, mode);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        octal(h, 124, 12, size);
        octal(h, 136, 12, MTIME);
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        h[156] = (byte) type;
        ascii(h, 257, "ustar\0");
        ascii(h, 263, "00");
        ascii(h, 265, "root");
        ascii(h, 297, "root");
        byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(p, 0, h, 345, p.length);
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        // Checksum: six octal digits, NUL, space.
        byte[] c = String.format("%06o", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(c, 0, h, 148, 6);
        h[154] = 0;
        h[155] = ' ';
        out.writeBytes(h);
    }

    private void pad(long size) {
        int rest = (int) (size % BLOCK);
        if (rest != 0) {
            out.writeBytes(new byte[BLOCK - rest]);
        }
    }

    /** Zero-padded octal, NUL-terminated, filling the field. */
    private static void octal(byte[] h, int offset, int length, long value) {
        String s = Long.toOctalString(value);
        if (s.length() > length - 1) {
            throw new IllegalArgumentException("value too large for a ustar field: " + value);
        }
        ascii(h, offset, "0".repeat(length - 1 - s.length()) + s);
    }

    private static void ascii(byte[] h, int offset, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, offset, b.length);
    }
}
