package org.workshopfleet.spec;

import java.io.IOException;
import java.io.Reader;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.workshopfleet.error.BadInput;

/**
 * The {@code -Dsources=FILE} file: a Java properties file whose keys are the components of {@link SourceLocations}
 * (e.g. {@code releaseBase=http://mirror.example:8080}); a key left out keeps its default. It points every download of
 * the machines at a mirror for a restricted network, or at local stand-ins for an offline rehearsal. Everything is
 * checked when the file is read, before anything is created; each problem is one {@link BadInput} line saying how to
 * fix it. {@link #format} writes the same format back, so the plan's copy of the effective sources is itself a valid
 * file.
 */
public final class SourcesFile {

    /** What a key's value must be. */
    enum Kind {
        /** An http(s) URL without credentials. */
        URL("an http(s) URL, e.g. https://mirror.example/path"),
        /** A git remote the machines clone from: an http(s) URL, or a file: URL of a repository on the machine. */
        GIT_REMOTE("an http(s) URL or a file: URL of a git repository, e.g. https://git.example/ebpf_exporter.git"),
        /** A git branch name. */
        BRANCH("a git branch name, e.g. ebpf-php-sample"),
        /** A PGP key's primary fingerprint. */
        FINGERPRINT("a key fingerprint: its 40 hex digits, as gpg --show-keys --with-fingerprint prints them"),
        /** A SHA-256 digest. */
        SHA256("a SHA-256: 64 hex digits, as sha256sum prints them");

        final String expected;

        Kind(String expected) {
            this.expected = expected;
        }
    }

    /**
     * Every key, one per component of {@link SourceLocations} and named like it, in the order {@link #format} writes
     * them. A new component of the record needs exactly one line here (a test checks that none is missing).
     */
    static final Map<String, Kind> KEYS = keys();

    private static Map<String, Kind> keys() {
        Map<String, Kind> k = new LinkedHashMap<>();
        k.put("releaseBase", Kind.URL);
        k.put("grafanaAptRepo", Kind.URL);
        k.put("grafanaAptKeyUrl", Kind.URL);
        k.put("grafanaKeyFingerprint", Kind.FINGERPRINT);
        k.put("attendeeGitRemote", Kind.GIT_REMOTE);
        k.put("attendeeGitBranch", Kind.BRANCH);
        k.put("ddebsRepo", Kind.URL);
        k.put("ebpfExporterSha256", Kind.SHA256);
        k.put("prometheusSha256", Kind.SHA256);
        k.put("libbpfSha256", Kind.SHA256);
        return java.util.Collections.unmodifiableMap(k);
    }

    private static final Pattern HEX40 = Pattern.compile("[0-9A-F]{40}");
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern BRANCH = Pattern.compile("[A-Za-z0-9._][A-Za-z0-9._/-]{0,199}");

    private SourcesFile() {
    }

    /** The keys a sources file may hold, in the order {@link #format} writes them. */
    public static List<String> keyNames() {
        return List.copyOf(KEYS.keySet());
    }

    /**
     * Reads {@code file} over {@link SourceLocations#defaults()}.
     *
     * @throws BadInput when the file is missing or unreadable, holds an unknown key, an empty value, or a value that
     *                  is not what its key needs (one line naming the file, the key and the fix)
     */
    public static SourceLocations load(Path file) {
        Properties props = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            props.load(in);
        } catch (NoSuchFileException e) {
            throw new BadInput("-Dsources=" + file + ": no such file: give the path of a properties file with keys "
                    + String.join(", ", KEYS.keySet()));
        } catch (MalformedInputException e) {
            throw new BadInput("-Dsources=" + file + " is not UTF-8 text: save it as a UTF-8 properties file");
        } catch (IOException e) {
            throw new BadInput("-Dsources=" + file + " cannot be read (" + e.getClass().getSimpleName()
                    + "): give a readable properties file");
        } catch (IllegalArgumentException e) {
            throw new BadInput("-Dsources=" + file + " is not a properties file (" + e.getMessage()
                    + "): write one key=value per line");
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (String key : new TreeSet<>(props.stringPropertyNames())) {
            values.put(key, props.getProperty(key));
        }
        return apply(SourceLocations.defaults(), values, file.toString());
    }

    /**
     * {@code base} with the given keys replaced, each checked and normalised (fingerprints upper case without
     * spaces, SHA-256 lower case).
     *
     * @param where names the origin in error messages, e.g. the file's path
     */
    static SourceLocations apply(SourceLocations base, Map<String, String> values, String where) {
        for (String key : values.keySet()) {
            if (!KEYS.containsKey(key)) {
                String near = NearestName.closest(key, KEYS.keySet());
                throw new BadInput(where + ": unknown key '" + key + "'" + (near == null ? "" : " (did you mean " + near
                        + "?)") + ": fix or remove it; the keys are " + String.join(", ", KEYS.keySet()));
            }
        }
        RecordComponent[] components = SourceLocations.class.getRecordComponents();
        Object[] args = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            String key = components[i].getName();
            String given = values.get(key);
            args[i] = given == null ? read(components[i], base) : checked(key, KEYS.get(key), given, base, where);
        }
        try {
            Constructor<SourceLocations> canonical = SourceLocations.class.getDeclaredConstructor(
                    Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new));
            return canonical.newInstance(args);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("SourceLocations is a record of strings", e);
        }
    }

    /**
     * The sources as a properties file that {@link #load} reads back to the same value. A value with none given (an
     * unpublished checksum) is written as a comment, since an empty value is refused.
     */
    public static String format(SourceLocations sources) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Where every machine downloads from, and the pins it checks (-Dsources=FILE reads this format;\n");
        sb.append("# a key left out keeps its default).\n");
        for (RecordComponent c : SourceLocations.class.getRecordComponents()) {
            String value = (String) read(c, sources);
            if (value.isEmpty()) {
                sb.append("# ").append(c.getName()).append("= (none)\n");
            } else {
                sb.append(c.getName()).append('=').append(value.replace("\\", "\\\\")).append('\n');
            }
        }
        return sb.toString();
    }

    private static Object read(RecordComponent component, SourceLocations from) {
        try {
            return component.getAccessor().invoke(from);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("SourceLocations is a record of strings", e);
        }
    }

    private static String checked(String key, Kind kind, String raw, SourceLocations base, String where) {
        String value = raw.strip();
        String at = where + ": " + key;
        if (value.isEmpty()) {
            String keep = (String) Arrays.stream(SourceLocations.class.getRecordComponents())
                    .filter(c -> c.getName().equals(key)).findFirst().map(c -> read(c, base)).orElse("");
            throw new BadInput(at + " is empty: give " + kind.expected + ", or remove the line to keep the default"
                    + (keep.isEmpty() ? "" : " (" + keep + ")"));
        }
        return switch (kind) {
            case URL -> url(at, value, List.of("http", "https"), kind);
            case GIT_REMOTE -> url(at, value, List.of("http", "https", "file"), kind);
            case BRANCH -> {
                if (!BRANCH.matcher(value).matches() || value.contains("..") || value.endsWith("/")
                        || value.endsWith(".lock")) {
                    throw new BadInput(at + " '" + value + "' is not " + kind.expected);
                }
                yield value;
            }
            case FINGERPRINT -> {
                String fpr = value.replace(" ", "").toUpperCase(Locale.ROOT);
                if (!HEX40.matcher(fpr).matches()) {
                    throw new BadInput(at + " '" + value + "' is not " + kind.expected);
                }
                yield fpr;
            }
            case SHA256 -> {
                String sha = value.toLowerCase(Locale.ROOT);
                if (!HEX64.matcher(sha).matches()) {
                    throw new BadInput(at + " '" + value + "' is not " + kind.expected);
                }
                yield sha;
            }
        };
    }

    private static String url(String at, String value, List<String> schemes, Kind kind) {
        URI uri;
        try {
            uri = new URI(value);
        } catch (URISyntaxException e) {
            throw new BadInput(at + " is not " + kind.expected + " (" + e.getReason() + ")");
        }
        // Credentials in a URL would reach every machine's fleet.env (which attendees can read) and the plan folder;
        // checked first so that no other message repeats them.
        if (uri.getRawUserInfo() != null || (uri.getRawAuthority() != null && uri.getRawAuthority().contains("@"))) {
            throw new BadInput(at + " carries a user name or password: every machine and attendee would see it; give "
                    + "a URL without credentials (e.g. a mirror reachable from the venue network)");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!schemes.contains(scheme) || uri.isOpaque()) {
            throw new BadInput(at + " '" + value + "' is not " + kind.expected);
        }
        if (scheme.equals("file") ? uri.getPath() == null || uri.getPath().isEmpty() : uri.getHost() == null) {
            throw new BadInput(at + " '" + value + "' has no " + (scheme.equals("file") ? "path" : "host") + ": give "
                    + kind.expected);
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new BadInput(at + " '" + value + "' has a query or fragment: give the plain location, "
                    + kind.expected);
        }
        return value;
    }
}
