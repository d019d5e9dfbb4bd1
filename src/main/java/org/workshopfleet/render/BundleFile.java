package org.workshopfleet.render;

import java.util.Arrays;
import java.util.Objects;

/**
 * One file of a machine's bundle.
 *
 * @param path    relative to {@link Bundle#REMOTE_ROOT}, with {@code /} separators, e.g. {@code files/prometheus/prometheus.yml}
 * @param content the bytes
 * @param mode    Unix permission bits: 0755 scripts, 0644 files, 0600 secrets
 */
public record BundleFile(String path, byte[] content, int mode) {

    public BundleFile {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(content, "content");
        if (path.isEmpty() || path.startsWith("/") || path.contains("..") || path.contains("\\")) {
            throw new IllegalArgumentException("bundle paths are relative and plain: " + path);
        }
        if ((mode & ~0777) != 0) {
            throw new IllegalArgumentException("mode " + Integer.toOctalString(mode) + " has bits beyond 0777");
        }
        content = content.clone();
    }

    @Override
    public byte[] content() {
        return content.clone();
    }

    /** True for files only root may read (passwords). */
    public boolean secret() {
        return (mode & 0077) == 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BundleFile f && f.path.equals(path) && f.mode == mode && Arrays.equals(f.content, content);
    }

    @Override
    public int hashCode() {
        return Objects.hash(path, mode, Arrays.hashCode(content));
    }

    @Override
    public String toString() {
        // Never the content: some files are secrets.
        return "BundleFile[" + path + ", " + content.length + " bytes, " + String.format("%04o", mode) + "]";
    }
}
