package org.workshopfleet.command;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.workshopfleet.bake.ImageRecipe;
import org.workshopfleet.cloud.IngressRule;
import org.workshopfleet.cloud.IngressRules;
import org.workshopfleet.cloud.ProviderProfile;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.provision.MachineResult;
import org.workshopfleet.provision.Runner;
import org.workshopfleet.provision.Verifier;
import org.workshopfleet.render.MachineModel;
import org.workshopfleet.render.NoSymlinks;
import org.workshopfleet.report.ResultsTable;
import org.workshopfleet.report.TerminalText;
import org.workshopfleet.spec.Cidr;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.SeatNames;
import org.workshopfleet.spec.Tags;
import org.workshopfleet.spec.WebEntry;
import org.workshopfleet.tls.TlsMaterial;
import org.workshopfleet.spec.OsProfile;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshKeyPair;
import org.workshopfleet.ssh.SshLogin;
import org.workshopfleet.ssh.SshTarget;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.LedgerData;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;
import org.workshopfleet.state.WorkshopLock;

/**
 * One workshop as every command sees it (spec, project files, wiring, output) and the steps they share: open the
 * ledger or refuse, take the ledger's place, lock, confirm, expiry, ingress CIDR, the dashboards check, results.
 * The spec moves to the provider and region a live ledger records ({@link #openLedger}); later commands on the same
 * context work there too.
 */
public final class WorkshopContext {

    /** Ledger setting written by {@code up} and {@code allow-ip}: the CIDR the ingress admits. */
    public static final String SETTING_CIDR = "cidr";
    /**
     * Ledger setting written by {@code up}: {@code -Daccess} ({@code cidr} or {@code anywhere}), which {@code allow-ip}
     * and {@code replace} keep: they change the CIDR rules only.
     */
    public static final String SETTING_ACCESS = "access";
    /** Ledger setting written by {@code up} with {@code -DhostnamePattern}: the seats' names the cards show. */
    public static final String SETTING_HOSTNAME_PATTERN = "hostnamePattern";
    /**
     * Ledger settings written by {@code up} with {@code -DtlsCert}/{@code -DtlsKey}: the facilitator's certificate and
     * key files (absolute paths, never their content), which {@code replace} and heal serve on the new machines.
     */
    public static final String SETTING_TLS_CERT = "tlsCert";
    /** See {@link #SETTING_TLS_CERT}. */
    public static final String SETTING_TLS_KEY = "tlsKey";
    /** Ledger setting written by {@code up} and {@code extend}: when the machines power off. */
    public static final String SETTING_EXPIRES_AT = "expiresAt";

    private WorkshopSpec spec;
    private final Path projectRoot;
    private final Wiring wiring;
    private final PrintStream out;
    private final Given given;
    /** The lock this context took last ({@link #lock}): the ledgers it opens are compacted when it is released. */
    private WorkshopLock held;

    /**
     * @param spec        the validated workshop
     * @param projectRoot folder with templates/, scripts/, dashboards/, security-groups/
     * @param wiring      clouds, look-ups, terminal, display
     * @param out         where progress and tables are printed
     * @param given       which of the spec's provider and region a ledger may override
     */
    public WorkshopContext(WorkshopSpec spec, Path projectRoot, Wiring wiring, PrintStream out, Given given) {
        this.spec = spec;
        this.projectRoot = projectRoot;
        this.wiring = wiring;
        this.out = out;
        this.given = given;
    }

    /** The workshop, at the ledger's provider and region once {@link #openLedger} moved it there. */
    public WorkshopSpec spec() {
        return spec;
    }

    Path projectRoot() {
        return projectRoot;
    }

    Wiring wiring() {
        return wiring;
    }

    PrintStream out() {
        return out;
    }

    /** The profile of the provider this command works on (the ledger's, once {@link #openLedger} moved it there). */
    ProviderProfile profile() {
        return Providers.profile(spec.provider());
    }

    StateFolder folder() {
        return new StateFolder(spec.stateDir());
    }

    /** The folder of a workshop that has a ledger; refuses with "…has no ledger in …: {@code fix}" otherwise. */
    StateFolder requireLedger(String fix) {
        StateFolder folder = folder();
        if (!Ledger.exists(folder)) {
            throw new BadInput("workshop " + spec.name() + " has no ledger in " + folder.root() + ": " + fix);
        }
        return folder;
    }

    /** Takes this workshop's lock for {@code action} (see {@link WorkshopLock}). */
    WorkshopLock lock(String action) {
        held = WorkshopLock.acquire(folder(), spec.name(), action);
        return held;
    }

    /** For actions without a ledger of their own: takes the place of the workshop's ledger, if there is one. */
    void placeFromLedger() {
        StateFolder folder = folder();
        if (Ledger.exists(folder)) {
            openLedger(folder);
        }
    }

    /**
     * Opens the workshop's ledger and, when it records a live fleet, moves this command to that fleet's provider and
     * region, refusing a -Dprovider or -Dregion given otherwise. Before any cloud call.
     */
    Ledger openLedger(StateFolder folder) {
        Ledger ledger = Ledger.open(folder, spec.name(), spec.provider().id(), spec.region(), wiring.clock());
        if (held != null) {
            // Between commands ledger.json alone is the whole ledger (see Ledger).
            held.beforeRelease(ledger::compact);
        }
        LedgerData data = ledger.snapshot();
        if (!data.placesFleet()) {
            return ledger;
        }
        Provider provider = Provider.parse(data.provider());
        boolean regional = Providers.profile(provider).regional();
        boolean otherRegion = regional && !data.region().equals(spec.region());
        boolean clash = (given.provider() && provider != spec.provider())
                || (given.region() && profile().regional() && otherRegion);
        if (clash) {
            String ledgerPlace = provider.id() + (regional ? " " + data.region() : "");
            String givenPlace = spec.provider().id() + (profile().regional() ? " " + spec.region() : "");
            throw new BadInput("workshop " + spec.name() + " runs on " + ledgerPlace + " (its ledger "
                    + folder.ledgerFile() + " says so), not on " + givenPlace + ": leave out -Dprovider/-Dregion or give"
                    + " -Dprovider=" + provider.id() + (regional ? " -Dregion=" + data.region() : "")
                    + "; another -Dname starts a new fleet");
        }
        if (provider != spec.provider() || otherRegion) {
            spec = spec.withPlace(provider, regional ? data.region() : spec.region());
        }
        return ledger;
    }

    /** Asks {@code question} unless {@code yes}; a missing terminal or a "no" is a refusal. */
    void confirm(boolean yes, String question) {
        if (yes) {
            return;
        }
        if (wiring.prompt() == null) {
            throw new BadInput("no terminal to confirm on: re-run with -Dyes to proceed");
        }
        if (!wiring.prompt().confirm(question)) {
            throw new BadInput("cancelled: nothing was changed");
        }
    }

    /** {@code -Dcidr}, else the provider's fixed one, else this computer's detected address. */
    Cidr resolveCidr() {
        if (spec.cidr() != null) {
            return spec.cidr();
        }
        var fixed = profile().defaultCidr();
        if (fixed.isPresent()) {
            return fixed.get();
        }
        // The detected address is a /32: admitted without -DallowWorld, and parsed here, once.
        return Cidr.admitted(wiring.cidrDetector().detect(), spec.allowWorld());
    }

    /** The ledger's expiry while it is in the future, else now + {@code -Dttl}. */
    Instant expiry(Ledger ledger) {
        Instant known = recordedExpiry(ledger);
        Instant now = wiring.clock().instant();
        if (known != null && known.isAfter(now)) {
            return known;
        }
        return now.plus(spec.ttl());
    }

    /** The ledger's expiry, or null when none is recorded; a setting that is not a time is bad input. */
    Instant recordedExpiry(Ledger ledger) {
        String known = ledger.setting(SETTING_EXPIRES_AT);
        if (known == null) {
            return null;
        }
        try {
            return Instant.parse(known.trim());
        } catch (DateTimeParseException e) {
            throw new BadInput("the ledger's " + SETTING_EXPIRES_AT + " '" + shorten(known) + "' is not a time:"
                    + " put an ISO-8601 instant such as 2026-01-31T18:00:00Z in " + ledger.ledgerFileName()
                    + ", or restore ledger.json.bak");
        }
    }

    private static String shorten(String s) {
        String one = TerminalText.clean(s);
        return one.length() <= 40 ? one : one.substring(0, 37) + "...";
    }

    /** The ports the machines admit, from {@code security-groups/workshop.json}, as {@code -Daccess} opens them. */
    List<IngressRule> ingressRules() {
        return ingressRules(spec.web().access());
    }

    /** The ports the machines admit, from {@code security-groups/workshop.json}, as {@code access} opens them. */
    List<IngressRule> ingressRules(WebEntry.Access access) {
        return IngressRules.load(projectRoot.resolve("security-groups/workshop.json"), access);
    }

    /**
     * The access {@code up} opened the fleet with (its ledger setting); -Daccess when none is recorded (a fleet made
     * before the setting existed, whose 443 followed the CIDR unless it was given).
     */
    WebEntry.Access recordedAccess(Ledger ledger) {
        String known = ledger.setting(SETTING_ACCESS);
        if (known == null) {
            return spec.web().access();
        }
        try {
            return WebEntry.Access.parse(known);
        } catch (BadInput e) {
            throw new BadInput("the ledger's " + SETTING_ACCESS + " '" + shorten(known) + "' is neither cidr nor"
                    + " anywhere: put the one up was run with in " + ledger.ledgerFileName()
                    + ", or restore ledger.json.bak");
        }
    }

    /**
     * The seats' DNS names of {@link #hostnamePattern}, or null (the cards show addresses).
     */
    SeatNames seatNames(Ledger ledger) {
        String pattern = hostnamePattern(ledger);
        return pattern == null ? null : new SeatNames(pattern);
    }

    /**
     * The seats' name pattern this fleet keeps: the one {@code up} recorded, -DhostnamePattern for a fleet without
     * running machines or without a record; null for none. A different -DhostnamePattern on a running fleet is bad
     * input: its machines serve a certificate and its cards name seats for the recorded one.
     */
    String hostnamePattern(Ledger ledger) {
        return kept(ledger, SETTING_HOSTNAME_PATTERN, "hostnamePattern", spec.web().hostnamePattern());
    }

    /**
     * The facilitator's certificate and key files this fleet keeps (absolute paths), as {@link #hostnamePattern}:
     * recorded or given, never a different pair on running machines; null for per-machine certificates.
     */
    TlsFiles tlsFiles(Ledger ledger) {
        String cert = kept(ledger, SETTING_TLS_CERT, "tlsCert", absolute(spec.web().tlsCert()));
        String key = kept(ledger, SETTING_TLS_KEY, "tlsKey", absolute(spec.web().tlsKey()));
        return cert == null || key == null ? null : new TlsFiles(Path.of(cert), Path.of(key));
    }

    /** The facilitator's certificate file and its key file, as {@code up} records them. */
    record TlsFiles(Path cert, Path key) {
    }

    private static String absolute(Path file) {
        return file == null ? null : file.toAbsolutePath().normalize().toString();
    }

    /**
     * A setting {@code up} records once per fleet: {@code given} (-D{@code option}) when nothing is recorded or no
     * machine of the fleet runs, else the recorded value, which an equal {@code given} may repeat. Blank means none.
     */
    private String kept(Ledger ledger, String setting, String option, String given) {
        String recorded = ledger.setting(setting);
        String known = recorded == null || recorded.isBlank() ? null : recorded;
        boolean running = ledger.snapshot().machines().values().stream().anyMatch(MachineRecord::isLive);
        if (recorded == null || !running) {
            return given;
        }
        if (given == null || given.equals(known)) {
            return known;
        }
        throw new BadInput("-D" + option + "=" + TerminalText.clean(given) + " differs from what up recorded for the"
                + " running machines of workshop " + spec.name() + " (" + (known == null ? "none" : TerminalText.clean(known))
                + "): pass the same" + (known == null ? " (leave -D" + option + " out)" : " or leave it out")
                + ", or teardown first to change it");
    }

    /**
     * The facilitator's own certificate the machines serve on 443: {@code -DtlsCert}/{@code -DtlsKey}, else the pair
     * {@code up} recorded; null for per-machine self-signed ones. Read and checked before anything is created: the key
     * must match, the certificate must outlive the fleet and name the seats' DNS names.
     */
    TlsMaterial givenTls(Ledger ledger, Instant expiresAt) {
        SeatNames names = seatNames(ledger);
        TlsFiles files = tlsFiles(ledger);
        if (files == null) {
            return null;
        }
        Path cert = files.cert();
        Path key = files.key();
        TlsMaterial given = TlsMaterial.given(cert, key);
        if (!given.validAt(expiresAt)) {
            throw new BadInput("the certificate " + cert + " expires at " + given.notAfter() + ", before the fleet"
                    + " powers off at " + expiresAt + ": renew it, or give a shorter -Dttl");
        }
        if (names != null && !given.covers(names.seat(1))) {
            throw new BadInput("the certificate " + cert + " does not name " + names.seat(1) + " (it names "
                    + String.join(", ", given.names()) + "): give one for the -DhostnamePattern names, e.g. a"
                    + " wildcard");
        }
        return given;
    }

    MachineRendering rendering() {
        return wiring.rendering().apply(projectRoot);
    }

    /** The system the machines run, as their bundles are rendered for it (what verify traces). */
    OsProfile machineOs() {
        return rendering().os(profile().os());
    }

    /** Attendee {@code n}'s machine, with its secrets, as the templates see it. */
    MachineModel model(WorkshopSpec machineSpec, int n, Secrets secrets, SshKeyPair loginKey, Instant expiresAt) {
        return model(machineSpec, n, null, secrets, loginKey, expiresAt);
    }

    /**
     * As {@link #model(WorkshopSpec, int, Secrets, SshKeyPair, Instant)}, for a machine the ledger may record as
     * {@code recorded} (null: none): a launched machine whose pinned host key is lost is refused, not re-keyed.
     */
    MachineModel model(WorkshopSpec machineSpec, int n, MachineRecord recorded, Secrets secrets, SshKeyPair loginKey,
                       Instant expiresAt) {
        SshKeyPair hostKey = recorded == null ? secrets.hostKey(n) : secrets.hostKey(recorded);
        return new MachineModel(machineSpec, n, spec.machineName(n), profile().os(), hostKey,
                loginKey.publicKeyLine(), secrets.grafanaPassword(n), secrets.sshPassword(n), expiresAt);
    }

    /** Attendee {@code n}'s cloud tags: the workshop's, its number, its name and its expiry. */
    Map<String, String> tags(int n, Instant expiresAt) {
        Map<String, String> t = new LinkedHashMap<>(spec.baseTags());
        t.put(Tags.ATTENDEE, String.format(Locale.ROOT, "%02d", n));
        t.put(Tags.NAME, spec.machineName(n));
        t.put(Tags.EXPIRES_AT, expiresAt.toString());
        return t;
    }

    /** Machine {@code n}'s cloud tags, as {@link #tags(int, Instant)}, and the seat it serves ({@code spare}: none). */
    Map<String, String> tags(int n, int seat, Instant expiresAt) {
        Map<String, String> t = tags(n, expiresAt);
        t.put(Tags.SEAT, seatTag(seat));
        return t;
    }

    /** The {@link Tags#SEAT} value of a seat: {@code 07}, or {@code spare}. */
    static String seatTag(int seat) {
        return seat == MachineRecord.SPARE ? Tags.SEAT_SPARE : String.format(Locale.ROOT, "%02d", seat);
    }

    /** This project's image recipe for this provider; renders one throwaway machine (no state is written). */
    public ImageRecipe currentRecipe() {
        SshKeyPair throwaway = SshKeyPair.generate("recipe@" + spec.name());
        MachineModel any = new MachineModel(spec, 1, spec.machineName(1), profile().os(), throwaway,
                throwaway.publicKeyLine(), Secrets.randomPassword(20), Secrets.randomPassword(20),
                wiring.clock().instant().plus(spec.ttl()));
        return ImageRecipe.of(profile().stockImage(spec.region(), projectRoot), rendering().bundle(any));
    }

    /** The project's Grafana dashboards, each checked for a {@code uid}; none at all is bad input. */
    /**
     * The readiness checks of docs/machine.md for this workshop's machines, as {@code verify}, {@code up}'s heal and
     * {@code replace} all run them.
     */
    Verifier verifier(Ledger ledger, Secrets secrets) {
        return new Verifier(new SshLogin(wiring.sshUser(), secrets.loginKey()), wiring.layout(), dashboards(),
                Duration.ofSeconds(30), SshLogin.MACHINE_USER,
                Runner.exporterPin(spec.sources().ebpfExporterSha256(), ledger), machineOs());
    }

    /** What {@link #verifier} needs to know of one machine of the ledger. */
    Verifier.Target verifyTarget(MachineRecord r, Secrets secrets) {
        return new Verifier.Target(r.name(), new SshTarget(r.publicIp(), wiring.sshPort(),
                secrets.hostKey(r).publicKeyNoComment()), secrets.grafanaPassword(r.attendee()),
                secrets.sshPassword(r.attendee()));
    }

    List<Path> dashboards() {
        NoSymlinks.refuse(projectRoot, List.of("dashboards"));
        Path dir = projectRoot.resolve("dashboards");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Path> found;
        try (Stream<Path> files = Files.list(dir)) {
            found = files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (found.isEmpty()) {
            throw new BadInput(dir + " holds no .json dashboard: restore dashboards/ from the repository");
        }
        // Checked here, before anything is launched, rather than at import time on every machine.
        ObjectMapper json = new ObjectMapper();
        for (Path p : found) {
            try {
                if (!json.readTree(p.toFile()).path("uid").isTextual()) {
                    throw new BadInput("dashboard " + p + " has no \"uid\": export it again from Grafana"
                            + " (Share > Export, for sharing externally) or restore it from the repository");
                }
            } catch (IOException e) {
                throw new BadInput("dashboard " + p + " is not valid JSON: export it again from Grafana or restore"
                        + " it from the repository");
            }
        }
        return found;
    }

    /** The results table and a one-line verdict. */
    void printResults(List<MachineResult> results) {
        printTable(results);
        long failed = results.stream().filter(r -> !r.ok()).count();
        out.println(failed == 0 ? "all " + results.size() + " machine(s) ready"
                : failed + " of " + results.size() + " machine(s) failed; fix and re-run up (finished steps are skipped)");
    }

    /** One line per machine; a failed one with its failing step, reason and the tail of its log. */
    void printTable(List<MachineResult> results) {
        ResultsTable.print(out, results);
    }
}
