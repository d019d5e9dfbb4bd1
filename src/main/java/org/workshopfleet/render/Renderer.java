package org.workshopfleet.render;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.FleetException;
import freemarker.cache.ClassTemplateLoader;
import freemarker.core.ParseException;
import freemarker.template.Configuration;
import freemarker.template.Template;
import freemarker.template.TemplateException;
import freemarker.template.TemplateExceptionHandler;
import freemarker.template.TemplateMethodModelEx;
import freemarker.template.TemplateModelException;
import freemarker.template.TemplateNotFoundException;
import freemarker.template.TemplateScalarModel;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TimeZone;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.workshopfleet.cloud.UserDataFormat;
import org.workshopfleet.tls.TlsMaterial;

/**
 * Renders what one machine receives from the project's {@code templates/} and {@code scripts/}: the first-boot user
 * data, and the {@link Bundle} of setup scripts, rendered configuration, sample pages and exercises.
 *
 * <p>Each numbered script declares the bundle files it installs on a {@code # inputs:} line (paths, or folders
 * ending in {@code /}); a step's content hash covers the script, {@code scripts/lib.sh}, {@code fleet.env} and those
 * inputs, so a changed template changes exactly the steps that install it.
 *
 * <p>Thread-safe: one instance may render all machines of a fleet concurrently.
 */
public final class Renderer {

    /** EC2's limit on raw user data ("limited to 16 KB, in raw form, before it is base64-encoded"). */
    public static final int USER_DATA_LIMIT = 16384;

    /** Rendered configuration: template (under templates/) -> bundle path. */
    private static final Map<String, String> RENDERED = orderedMap(
            "fleet.env.ftl", "fleet.env",
            "machine.env.ftl", "machine.env",
            "apache2/workshop-fleet.conf.ftl", "files/apache2/workshop-fleet.conf",
            "grafana/workshop-fleet.env.ftl", "files/grafana/workshop-fleet.env",
            "grafana/10-workshop-fleet.conf.ftl", "files/grafana/10-workshop-fleet.conf",
            "grafana/datasource.yaml.ftl", "files/grafana/datasource.yaml",
            "prometheus/prometheus.yml.ftl", "files/prometheus/prometheus.yml",
            "prometheus/prometheus.service.ftl", "files/prometheus/prometheus.service",
            "login/ubuntu.chpasswd.ftl", "files/login/ubuntu.chpasswd",
            "login/sshd-login.conf.ftl", "files/login/sshd-login.conf",
            "web/workshop-fleet-ssl.conf.ftl", "files/web/workshop-fleet-ssl.conf");
    /** Bundle path of the machine's TLS certificate, when its model has one (docs/machine.md, "Port 443"). */
    public static final String TLS_CERTIFICATE = "files/web/tls.crt";
    /** Bundle path of the machine's TLS private key (a secret), when its model has one. */
    public static final String TLS_KEY = "files/web/tls.key";
    /** Bundle files only root may read. */
    private static final Set<String> SECRETS = Set.of("files/grafana/workshop-fleet.env", "files/login/ubuntu.chpasswd",
            TLS_KEY);
    private static final Map<UserDataFormat, String> USER_DATA = Map.of(
            UserDataFormat.CLOUD_CONFIG, "cloud-init/user-data.yaml.ftl",
            UserDataFormat.SHELL_SCRIPT, "cloud-init/launch-script.sh.ftl");

    private static final Pattern STEP_SCRIPT = Pattern.compile("(\\d\\d-[a-z0-9-]+)\\.sh");
    private static final Pattern INPUTS = Pattern.compile("(?m)^# inputs:(.*)$");
    private static final String LIB = "scripts/lib.sh";
    private static final String FLEET_ENV = "fleet.env";
    /** The machine session's script, under the project (and packaged) folder. */
    public static final String SESSION_SCRIPT = "templates/session/machine-session.sh.ftl";

    private final Path root;
    private final Configuration freemarker;

    /**
     * @param projectRoot the folder holding {@code templates/} and {@code scripts/} (the working directory when run
     *                    through Maven)
     * @throws FleetException when templates/ or scripts/ is missing, or a symbolic link is under templates/, scripts/
     *                        or dashboards/ ({@link NoSymlinks})
     */
    public Renderer(Path projectRoot) {
        this.root = projectRoot.toAbsolutePath().normalize();
        if (!Files.isDirectory(root.resolve("templates")) || !Files.isDirectory(root.resolve("scripts"))) {
            throw new BadInput("no templates/ and scripts/ under " + root
                    + ": run from the workshop-fleet project folder");
        }
        NoSymlinks.refuse(root, NoSymlinks.SHIPPED);
        freemarker = configuration();
        try {
            freemarker.setDirectoryForTemplateLoading(root.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The tool's own templates, packaged on the class path under {@value ProjectFiles#PACKAGED}. */
    private Renderer(Configuration packaged) {
        this.root = Path.of(ProjectFiles.PACKAGED);
        this.freemarker = packaged;
    }

    private static Configuration configuration() {
        Configuration freemarker = new Configuration(Configuration.VERSION_2_3_34);
        freemarker.setDefaultEncoding("UTF-8");
        freemarker.setTemplateExceptionHandler(TemplateExceptionHandler.RETHROW_HANDLER);
        freemarker.setLogTemplateExceptions(false);
        freemarker.setWrapUncheckedExceptions(true);
        freemarker.setFallbackOnNullLoopVariable(false);
        freemarker.setLocale(Locale.ROOT);
        freemarker.setTimeZone(TimeZone.getTimeZone(ZoneOffset.UTC));
        freemarker.setNumberFormat("computer");
        return freemarker;
    }

    /** Holder of the packaged-templates renderer, made on first use. */
    private static final class Packaged {
        static final Renderer RENDERER;

        static {
            Configuration c = configuration();
            c.setTemplateLoader(new ClassTemplateLoader(Renderer.class, "/" + ProjectFiles.PACKAGED));
            RENDERER = new Renderer(c);
        }
    }

    /**
     * The root shell script of one machine session, {@value #SESSION_SCRIPT}, from the tool's packaged copy: it is
     * part of the tool's protocol with its own output parser, not a workshop's content, so a project folder given
     * with {@code -DprojectRoot} does not replace it. The template quotes every string with {@code q(…)}, which makes
     * a single-quoted shell word ({@link #shellQuoted}).
     *
     * @param model the template's values (see the template's header); {@code q} is added here
     */
    public static String sessionScript(Map<String, ?> model) {
        Map<String, Object> m = new HashMap<>(model);
        m.put("q", (TemplateMethodModelEx) args -> {
            if (args.size() != 1 || !(args.get(0) instanceof TemplateScalarModel value)) {
                throw new TemplateModelException("q takes one string");
            }
            return shellQuoted(value.getAsString());
        });
        return Packaged.RENDERER.render(SESSION_SCRIPT, m);
    }

    /**
     * The first-boot configuration of a machine: a {@code #cloud-config} document (EC2, lab) or a launch script
     * (Lightsail). Holds the machine's private host key: never log it.
     *
     * @throws FleetException when a template is missing or malformed, or the result exceeds {@link #USER_DATA_LIMIT}
     */
    public String userData(MachineModel m, UserDataFormat format) {
        String template = USER_DATA.get(format);
        if (template == null) {
            throw new BadInput("no user data template for format " + format);
        }
        String text = render("templates/" + template, model(m));
        int size = text.getBytes(StandardCharsets.UTF_8).length;
        if (size > USER_DATA_LIMIT) {
            throw new BadInput("user data for " + m.machineName() + " is " + size + " bytes, over EC2's "
                    + USER_DATA_LIMIT + "-byte limit: trim templates/" + template
                    + " (comments, the expiry units) or move content into the setup bundle");
        }
        return text;
    }

    /** Everything the machine receives, with its setup steps in order. */
    public Bundle bundle(MachineModel m) {
        Map<String, Object> model = model(m);
        Map<String, BundleFile> files = new HashMap<>();
        RENDERED.forEach((template, path) -> add(files,
                new BundleFile(path, bytes(render("templates/" + template, model)), SECRETS.contains(path) ? 0600 : 0644)));
        if (m.tls() != null) {
            add(files, new BundleFile(TLS_CERTIFICATE, bytes(m.tls().certificatePem()), 0644));
            add(files, new BundleFile(TLS_KEY, bytes(m.tls().keyPem()), 0600));
        }
        for (Path p : list("scripts", 1)) {
            if (p.getFileName().toString().endsWith(".sh")) {
                add(files, new BundleFile(relative(p), read(p), 0755));
            }
        }
        for (Path p : list("scripts/php", Integer.MAX_VALUE)) {
            add(files, new BundleFile(relative(p).substring("scripts/".length()), read(p), 0644));
        }
        for (Path p : list("scripts/bt", Integer.MAX_VALUE)) {
            String rel = relative(p);
            byte[] content = rel.endsWith(".ftl") ? bytes(render(rel, model)) : read(p);
            add(files, new BundleFile(rel.substring("scripts/".length()).replaceFirst("\\.ftl$", ""), content, 0644));
        }
        if (!files.containsKey(LIB)) {
            throw new BadInput(LIB + " is missing under " + root + ": restore it from the repository");
        }
        return assemble(m.machineName(), files);
    }

    /**
     * {@code rendered} with the machine's TLS certificate and key in place of any it held, and the step hashes that
     * cover them recomputed: the bundle {@link #bundle} gives for the model with {@code tls}, without rendering the
     * templates again (no template reads the TLS material; only the two files differ). A machine's certificate names
     * its address, known only once it runs, so this is done per machine on its provisioning thread.
     */
    public Bundle withTls(Bundle rendered, TlsMaterial tls) {
        Map<String, BundleFile> files = new HashMap<>();
        rendered.files().forEach(f -> files.put(f.path(), f));
        files.put(TLS_CERTIFICATE, new BundleFile(TLS_CERTIFICATE, bytes(tls.certificatePem()), 0644));
        files.put(TLS_KEY, new BundleFile(TLS_KEY, bytes(tls.keyPem()), 0600));
        return assemble(rendered.machineName(), files);
    }

    /** The bundle of {@code files}, sorted by path, with a setup step for each numbered script, hashed over its inputs. */
    private Bundle assemble(String machineName, Map<String, BundleFile> files) {
        List<BundleFile> sorted = files.values().stream().sorted(Comparator.comparing(BundleFile::path)).toList();
        List<SetupStep> steps = new ArrayList<>();
        for (BundleFile f : sorted) {
            Matcher s = STEP_SCRIPT.matcher(f.path().substring(f.path().lastIndexOf('/') + 1));
            if (f.path().startsWith("scripts/") && s.matches()) {
                steps.add(new SetupStep(s.group(1), f.path(), hash(f, files)));
            }
        }
        if (steps.isEmpty()) {
            throw new BadInput("no numbered setup scripts (NN-name.sh) in " + root.resolve("scripts"));
        }
        return new Bundle(machineName, sorted, steps);
    }

    /** The bundle paths a step script declares on its {@code # inputs:} line, as given (folders end in /). */
    static List<String> declaredInputs(String scriptPath, String scriptText) {
        Matcher m = INPUTS.matcher(scriptText);
        if (!m.find()) {
            throw new BadInput(scriptPath + " has no '# inputs:' line: list the bundle files it installs"
                    + " (or leave the list empty)");
        }
        String line = m.group(1).trim();
        return line.isEmpty() ? List.of() : List.of(line.split("\\s+"));
    }

    private static String hash(BundleFile script, Map<String, BundleFile> files) {
        Set<String> covered = new LinkedHashSet<>(List.of(script.path(), LIB, FLEET_ENV));
        for (String input : declaredInputs(script.path(), new String(script.content(), StandardCharsets.UTF_8))) {
            List<String> matches = files.keySet().stream()
                    .filter(p -> input.endsWith("/") ? p.startsWith(input) : p.equals(input)).sorted().toList();
            if (matches.isEmpty()) {
                throw new BadInput(script.path() + " declares input '" + input
                        + "' but the bundle has no such file: fix its '# inputs:' line");
            }
            covered.addAll(matches);
        }
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String path : covered.stream().sorted().toList()) {
                byte[] content = files.get(path).content();
                sha.update(path.getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
                sha.update(ByteBuffer.allocate(Long.BYTES).putLong(content.length).array());
                sha.update(content);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void add(Map<String, BundleFile> files, BundleFile f) {
        if (files.putIfAbsent(f.path(), f) != null) {
            throw new BadInput("two sources render to bundle path " + f.path() + ": rename one of them");
        }
    }

    private Map<String, Object> model(MachineModel m) {
        Map<String, Object> os = new HashMap<>();
        os.put("id", m.os().osId());
        os.put("versionId", m.os().versionId());
        os.put("label", m.os().label());
        os.put("phpVersion", m.os().phpVersion());
        os.put("phpModulePath", m.os().phpModulePath());
        os.put("fleetOs", m.os().fleetOs());
        List<Map<String, String>> sources = new ArrayList<>();
        m.spec().sources().asEnvironment().forEach((k, v) -> sources.add(Map.of("name", k, "quoted", shellQuoted(v))));
        Map<String, Object> model = new HashMap<>();
        model.put("workshop", m.spec().name());
        model.put("machineName", m.machineName());
        model.put("attendee", m.attendee());
        model.put("hostname", m.hostname());
        model.put("os", os);
        model.put("hostKeyPrivate", m.hostKey().privateKeyOpenSsh());
        model.put("hostKeyPublic", m.hostKey().publicKeyLine());
        model.put("loginPublicKey", m.loginPublicKey());
        model.put("grafanaPassword", m.grafanaPassword());
        model.put("sshPassword", m.sshPassword());
        model.put("expiresAtIso", ExpiryTimer.iso(m.expiresAt()));
        model.put("expiryUnits", ExpiryTimer.model(m.expiresAt()));
        model.put("sources", sources);
        return model;
    }

    /** A POSIX shell word: single quotes, with embedded single quotes closed, escaped and reopened. */
    public static String shellQuoted(String value) {
        return "'" + value.replace("'", "'\\''") + "'";
    }

    private String render(String name, Map<String, Object> model) {
        try {
            Template t = freemarker.getTemplate(name);
            StringWriter out = new StringWriter();
            t.process(model, out);
            return out.toString();
        } catch (TemplateNotFoundException e) {
            throw new BadInput("template " + name + " is missing under " + root
                    + ": restore it from the repository");
        } catch (ParseException e) {
            throw new BadInput("template " + name + " is malformed at line " + e.getLineNumber() + ": "
                    + firstLine(e.getEditorMessage()));
        } catch (TemplateException e) {
            // FreeMarker's message quotes the value an expression failed on ("Can't convert this string to number:
            // \"<password>\""), so none of it is used: only where the error is and the expression as written.
            throw new BadInput("template " + name + " failed at " + where(name, e)
                    + ": fix that expression (values are not shown: they may be passwords or keys)");
        } catch (IOException e) {
            throw new BadInput("cannot read template " + name + ": " + e.getMessage(), e);
        }
    }

    /**
     * {@code line L, column C in expression 'E'} of {@code name}; no position at all when the error lies in text that
     * is not the template itself (an {@code ?eval}/{@code ?interpret}ed value, whose source would be the value).
     */
    private static String where(String name, TemplateException e) {
        if (!name.equals(e.getTemplateSourceName()) || e.getLineNumber() == null) {
            return "an expression evaluating a value";
        }
        String expression = e.getBlamedExpressionString();
        return "line " + e.getLineNumber() + ", column " + e.getColumnNumber()
                + (expression == null ? "" : " in expression '" + firstLine(expression) + "'");
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unknown error";
        }
        return s.strip().lines().filter(l -> !l.isBlank()).findFirst().orElse("unknown error").strip();
    }

    private List<Path> list(String folder, int depth) {
        Path dir = root.resolve(folder);
        if (!Files.isDirectory(dir)) {
            throw new BadInput(folder + "/ is missing under " + root + ": restore it from the repository");
        }
        try (Stream<Path> s = Files.walk(dir, depth)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String relative(Path p) {
        return root.relativize(p).toString().replace('\\', '/');
    }

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new BadInput("cannot read " + p + ": " + e.getMessage(), e);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Map<String, String> orderedMap(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }
}
