package org.workshopfleet.render;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Every file one machine receives, and the setup steps to run from it. Uploaded as one tar archive and unpacked
 * under {@link #REMOTE_ROOT}.
 *
 * @param machineName the machine it was rendered for
 * @param files       the files, sorted by path
 * @param steps       the setup steps in the order they run
 */
public record Bundle(String machineName, List<BundleFile> files, List<SetupStep> steps) {

    /** Where the bundle lives on the machine. */
    public static final String REMOTE_ROOT = "/opt/workshop-fleet";

    public Bundle {
        Objects.requireNonNull(machineName, "machineName");
        files = List.copyOf(files);
        steps = List.copyOf(steps);
    }

    /** The file at a bundle path, if present. */
    public Optional<BundleFile> file(String path) {
        return files.stream().filter(f -> f.path().equals(path)).findFirst();
    }

    /**
     * A plain POSIX ustar archive of the files (and their parent directories, mode 0755), owned by root, with a fixed
     * timestamp: the same bundle always gives the same bytes. Unpack with {@code tar -x -C /opt/workshop-fleet}.
     */
    public byte[] toTar() {
        TreeSet<String> dirs = new TreeSet<>();
        for (BundleFile f : files) {
            for (int i = f.path().indexOf('/'); i > 0; i = f.path().indexOf('/', i + 1)) {
                dirs.add(f.path().substring(0, i));
            }
        }
        UstarWriter tar = new UstarWriter();
        for (String d : dirs) {
            tar.directory(d, 0755);
        }
        for (BundleFile f : files) {
            tar.file(f.path(), f.content(), f.mode());
        }
        return tar.finish();
    }
}
