package org.workshopfleet.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.workshopfleet.spec.SeatNames;
import org.workshopfleet.state.LedgerData;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;

/**
 * The attendee handout in {@code workshops/<name>/handout/}: {@code index.html}, a printable page with one card per
 * attendee (six to an A4 sheet, never split across sheets; the spares' cards, marked SPARE, on sheets of their own
 * after the seats'), and {@code attendees.csv} / {@code attendees.json} with the
 * same data. The files hold passwords, so they are written 0600 in a 0700 folder.
 *
 * @param title       workshop title printed on every card
 * @param cards       one per attendee
 * @param generatedAt when the handout was made (printed in the footer of each sheet)
 */
public record Handout(String title, List<AttendeeCard> cards, Instant generatedAt) {

    /** Title for the cards when the facilitator gives none. */
    public static final String DEFAULT_TITLE = "eBPF + PHP observability workshop";
    /** Cards per A4 sheet: two columns, three rows. */
    public static final int CARDS_PER_SHEET = 6;
    public static final String HTML_FILE = "index.html";
    public static final String CSV_FILE = "attendees.csv";
    public static final String JSON_FILE = "attendees.json";
    /** The Grafana login on every machine. */
    public static final String GRAFANA_USER = "admin";
    /** The shell login on every machine. */
    public static final String SSH_USER = "ubuntu";

    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    public Handout {
        cards = cards.stream().sorted(Comparator.comparing(AttendeeCard::spare).thenComparingInt(AttendeeCard::attendee)
                .thenComparing(AttendeeCard::machineName)).toList();
    }

    /**
     * Cards for every machine in the ledger, with that machine's passwords and pinned host key's fingerprint from the
     * workshop's secrets (as {@code -Daction=handout} regenerates them); the HTTPS links use the addresses.
     */
    public static Handout fromLedger(LedgerData ledger, Secrets secrets, String title, Instant now) {
        return fromLedger(ledger, secrets, title, now, null);
    }

    /**
     * As {@link #fromLedger(LedgerData, Secrets, String, Instant)}, the HTTPS links using the seats' DNS names when
     * {@code names} is given ({@code -DhostnamePattern}), and each card showing its machine's TLS certificate
     * fingerprint when the ledger records one ({@link MachineRecord#tlsSha256()}).
     */
    public static Handout fromLedger(LedgerData ledger, Secrets secrets, String title, Instant now, SeatNames names) {
        List<AttendeeCard> cards = new ArrayList<>();
        for (MachineRecord r : ledger.machines().values()) {
            if (r.phase() == MachinePhase.DESTROYED) {
                continue;
            }
            String name = names == null ? null : r.isSpare() ? names.spare(r.attendee()) : names.seat(r.seatNumber());
            cards.add(new AttendeeCard(r.seatNumber(), r.name(), r.publicIp(), GRAFANA_USER,
                    secrets.grafanaPassword(r.attendee()), SSH_USER, secrets.sshPassword(r.attendee()),
                    r.phase() == MachinePhase.READY, status(r), secrets.hostKey(r).fingerprint(), r.isSpare(),
                    name, r.tlsSha256()));
        }
        return new Handout(title, cards, now);
    }

    private static String status(MachineRecord r) {
        return switch (r.phase()) {
            case READY -> "ready";
            case FAILED -> "failed" + (r.step() == null ? "" : " at " + r.step());
            default -> r.phase().name().toLowerCase(Locale.ROOT);
        };
    }

    /** Writes the three files into the state folder's {@code handout/} (0700) and returns the path of the page. */
    public Path writeTo(StateFolder folder) {
        folder.ensure();
        Path dir = folder.handoutDir();
        StateFolder.makePrivateDir(dir);
        StateFolder.writeAtomically(dir.resolve(CSV_FILE), csv().getBytes(StandardCharsets.UTF_8), true);
        StateFolder.writeAtomically(dir.resolve(JSON_FILE), json().getBytes(StandardCharsets.UTF_8), true);
        Path page = dir.resolve(HTML_FILE);
        StateFolder.writeAtomically(page, html().getBytes(StandardCharsets.UTF_8), true);
        return page;
    }

    /**
     * Writes one seat's card alone, {@code handout/seat-NN.html}, printable by itself (as {@code replace} hands out
     * the moved seat's new card), and returns its path; null when the handout has no card for that seat.
     */
    public Path writeSeatCard(StateFolder folder, int seat) {
        List<AttendeeCard> one = cards.stream().filter(c -> !c.spare() && c.attendee() == seat).toList();
        if (one.isEmpty()) {
            return null;
        }
        folder.ensure();
        Path dir = folder.handoutDir();
        StateFolder.makePrivateDir(dir);
        Path page = dir.resolve(String.format(Locale.ROOT, "seat-%02d.html", seat));
        StateFolder.writeAtomically(page, new Handout(title, one, generatedAt).html().getBytes(StandardCharsets.UTF_8),
                true);
        return page;
    }

    /** The card of {@code seat}, if the handout has one. */
    public java.util.Optional<AttendeeCard> seatCard(int seat) {
        return cards.stream().filter(c -> !c.spare() && c.attendee() == seat).findFirst();
    }

    /** {@code attendees.csv}: RFC 4180 (CRLF line ends, fields quoted when they hold a comma, quote or line break). */
    public String csv() {
        StringBuilder sb = new StringBuilder();
        csvRow(sb, "attendee", "machine", "ip", "web_url", "grafana_url", "grafana_user", "grafana_password",
                "ssh_user", "ssh_password", "ssh_command", "ssh_host_key", "ready", "status", "hostname", "terminal_url",
                "grafana_https_url", "tls_sha256");
        for (AttendeeCard c : cards) {
            csvRow(sb, c.spare() ? "spare" : String.valueOf(c.attendee()), c.machineName(), c.publicIp(), c.webUrl(), c.grafanaUrl(),
                    c.grafanaUser(), c.grafanaPassword(), c.sshUser(), c.sshPassword(), c.sshCommand(), c.hostKey(),
                    String.valueOf(c.ready()), c.status(), c.hostName(), c.terminalUrl(), c.grafanaHttpsUrl(),
                    c.tlsSha256());
        }
        return sb.toString();
    }

    private static void csvRow(StringBuilder sb, String... fields) {
        for (int i = 0; i < fields.length; i++) {
            String f = fields[i] == null ? "" : fields[i];
            if (f.indexOf(',') >= 0 || f.indexOf('"') >= 0 || f.indexOf('\n') >= 0 || f.indexOf('\r') >= 0) {
                f = '"' + f.replace("\"", "\"\"") + '"';
            }
            sb.append(i == 0 ? "" : ",").append(f);
        }
        sb.append("\r\n");
    }

    /** {@code attendees.json}: the workshop title, the time, and one object per attendee with the CSV's fields. */
    public String json() {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        root.put("title", title);
        root.put("generatedAt", generatedAt.toString());
        ArrayNode list = root.putArray("attendees");
        for (AttendeeCard c : cards) {
            ObjectNode n = list.addObject();
            if (c.spare()) {
                n.putNull("attendee");
                n.put("spare", true);
            } else {
                n.put("attendee", c.attendee());
            }
            n.put("machine", c.machineName());
            n.put("ip", c.publicIp());
            n.put("webUrl", c.webUrl());
            n.put("grafanaUrl", c.grafanaUrl());
            n.put("grafanaUser", c.grafanaUser());
            n.put("grafanaPassword", c.grafanaPassword());
            n.put("sshUser", c.sshUser());
            n.put("sshPassword", c.sshPassword());
            n.put("sshCommand", c.sshCommand());
            n.put("sshHostKey", c.hostKey());
            n.put("ready", c.ready());
            n.put("status", c.status());
            n.put("hostname", c.hostName());
            n.put("terminalUrl", c.terminalUrl());
            n.put("grafanaHttpsUrl", c.grafanaHttpsUrl());
            n.put("tlsSha256", c.tlsSha256());
        }
        try {
            return mapper.writeValueAsString(root) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code index.html}: self-contained (inline CSS and SVG QR codes, no scripts, no external resources). */
    public String html() {
        StringBuilder sb = new StringBuilder(8192 + cards.size() * 6000);
        sb.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(Html.escape(title)).append(" — attendee cards</title>\n<style>\n")
                .append(CSS).append("</style>\n</head>\n<body>\n");
        if (cards.isEmpty()) {
            sb.append("<p class=\"empty\">No machines in the ledger yet: run <code>up</code> first.</p>\n");
        }
        List<AttendeeCard> seats = cards.stream().filter(c -> !c.spare()).toList();
        List<AttendeeCard> spares = cards.stream().filter(AttendeeCard::spare).toList();
        int sheets = sheets(seats) + sheets(spares);
        int sheet = sheets(sb, seats, 0, sheets, "each card holds one attendee's passwords");
        sheets(sb, spares, sheet, sheets, "SPARE machines: hand one out only when -Daction=replace moves a seat onto it");
        sb.append("</body>\n</html>\n");
        return sb.toString();
    }

    private static int sheets(List<AttendeeCard> list) {
        return (list.size() + CARDS_PER_SHEET - 1) / CARDS_PER_SHEET;
    }

    /** Sheets of these cards, numbered from {@code before + 1} of {@code total}; returns the last sheet's number. */
    private int sheets(StringBuilder sb, List<AttendeeCard> list, int before, int total, String note) {
        int s = before;
        for (int i = 0; i < list.size(); i += CARDS_PER_SHEET) {
            s++;
            sb.append("<section class=\"sheet\">\n");
            for (AttendeeCard c : list.subList(i, Math.min(list.size(), i + CARDS_PER_SHEET))) {
                card(sb, c);
            }
            sb.append("<footer>").append(Html.escape(title)).append(" · sheet ").append(s).append(" of ")
                    .append(total).append(" · ").append(STAMP.format(generatedAt))
                    .append(" · cut along the dashed lines; ").append(Html.escape(note)).append("</footer>\n");
            sb.append("</section>\n");
        }
        return s;
    }

    private void card(StringBuilder sb, AttendeeCard c) {
        String no = c.spare() ? "SPARE" : String.format(Locale.ROOT, "%02d", c.attendee());
        sb.append("<article class=\"card").append(c.ready() ? "" : " not-ready").append(c.spare() ? " spare" : "")
                .append(c.spare() ? "\" data-spare=\"" + Html.escape(c.machineName()) : "\" data-attendee=\"" + c.attendee())
                .append("\">\n");
        sb.append("<header><span class=\"no\">").append(no).append("</span><span class=\"who\"><span class=\"title\">")
                .append(Html.escape(title)).append("</span><span class=\"machine\">machine ")
                .append(Html.escape(c.machineName())).append("</span></span></header>\n");
        if (!c.ready()) {
            sb.append("<p class=\"warn\">Not ready (").append(Html.escape(c.status()))
                    .append("): ask the facilitator</p>\n");
        }
        if (c.publicIp() == null) {
            sb.append("<p class=\"warn\">This machine has no address yet.</p>\n");
        } else {
            sb.append("<dl class=\"links\">");
            sb.append("<dt>Terminal</dt><dd><a href=\"").append(Html.escape(c.terminalUrl())).append("\">")
                    .append(Html.escape(c.terminalUrl())).append("</a></dd>");
            sb.append("<dt>Grafana</dt><dd><a href=\"").append(Html.escape(c.grafanaHttpsUrl())).append("\">")
                    .append(Html.escape(c.grafanaHttpsUrl())).append("</a></dd>");
            sb.append("<dt>Web</dt><dd><a href=\"").append(Html.escape(c.webUrl())).append("\">")
                    .append(Html.escape(c.webUrl())).append("</a></dd>");
            sb.append("<dt>Shell</dt><dd><code>").append(Html.escape(c.sshCommand())).append("</code></dd>");
            if (c.hostKey() != null) {
                // What ssh asks the attendee to confirm on first contact ("ED25519 key fingerprint is SHA256:…").
                sb.append("<dt>Host key</dt><dd class=\"hostkey\"><code>").append(Html.escape(c.hostKey()))
                        .append("</code></dd>");
            }
            if (c.tlsSha256() != null) {
                // What the browser shows under the certificate's details, to compare before accepting it.
                sb.append("<dt>TLS cert</dt><dd class=\"tls\"><code>SHA-256 ")
                        .append(Html.escape(c.tlsSha256())).append("</code></dd>");
            }
            sb.append("</dl>\n<div class=\"body\"><dl class=\"creds\">");
            sb.append("<dt class=\"group\">Grafana</dt><dd></dd>");
            sb.append("<dt>user</dt><dd class=\"secret\">").append(Html.escape(c.grafanaUser())).append("</dd>");
            sb.append("<dt>password</dt><dd class=\"secret\">").append(Html.escape(c.grafanaPassword())).append("</dd>");
            sb.append("<dt class=\"group\">Terminal and shell</dt><dd></dd>");
            sb.append("<dt>user</dt><dd class=\"secret\">").append(Html.escape(c.sshUser())).append("</dd>");
            sb.append("<dt>password</dt><dd class=\"secret\">").append(Html.escape(c.sshPassword())).append("</dd>");
            sb.append("</dl>\n<figure>").append(QrCode.of(c.terminalUrl()).svg("qr", "QR code for " + c.terminalUrl()))
                    .append("<figcaption>scan for the terminal</figcaption></figure></div>\n");
        }
        sb.append("</article>\n");
    }

    // Screen: A4 sheets on a grey desk. Print: one sheet per page, 2 × 3 cards, no card split across pages.
    private static final String CSS = """
            @page { size: A4; margin: 8mm; }
            * { box-sizing: border-box; }
            html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
            body { margin: 0; background: #d9dce1; color: #111; font: 10.5pt/1.3 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; }
            .sheet { width: 210mm; height: 297mm; margin: 8mm auto; padding: 8mm; background: #fff;
                     box-shadow: 0 1mm 4mm rgba(0,0,0,.25); display: grid; gap: 4mm;
                     grid-template-columns: 1fr 1fr; grid-template-rows: repeat(3, 1fr) auto; overflow: hidden; }
            .sheet > footer { grid-column: 1 / -1; font-size: 7pt; color: #666; text-align: center; }
            .card { border: 0.35mm dashed #888; border-radius: 2.5mm; padding: 3.5mm 4mm; display: flex;
                    flex-direction: column; break-inside: avoid; page-break-inside: avoid; overflow: hidden; }
            .card header { display: flex; align-items: center; gap: 3mm; border-bottom: 0.3mm solid #1f5fa8;
                           padding-bottom: 2mm; margin-bottom: 1.5mm; }
            .no { font-size: 20pt; font-weight: 700; color: #fff; background: #1f5fa8; border-radius: 2mm;
                  padding: 0 2.5mm; line-height: 1.25; }
            .who { display: flex; flex-direction: column; min-width: 0; }
            .title { font-size: 8pt; color: #555; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
            .machine { font-weight: 700; }
            .links { display: grid; grid-template-columns: 16mm 1fr; gap: .4mm 0; margin: 1mm 0 0; align-items: baseline; }
            .links dt, .creds dt.group { font-size: 7pt; font-weight: 700; text-transform: uppercase;
                                         letter-spacing: .06em; color: #1f5fa8; }
            .links dd { margin: 0; font: 700 8.5pt/1.25 "DejaVu Sans Mono", Menlo, Consolas, monospace; overflow-wrap: anywhere; }
            .links a, .links code { font: inherit; color: #111; text-decoration: none; }
            .links dd.hostkey, .links dd.tls { font: 400 5.8pt/1.25 "DejaVu Sans Mono", Menlo, Consolas, monospace; }
            .links dd.tls { word-break: break-all; }
            .body { display: flex; gap: 2mm; align-items: flex-end; justify-content: space-between; margin-top: auto; }
            .creds { flex: 1; min-width: 0; display: grid; grid-template-columns: auto 1fr; gap: .3mm 2.5mm; margin: 0; align-items: baseline; }
            .creds dt { font-size: 7.5pt; color: #555; }
            .creds dt.group { grid-column: 1 / -1; margin-top: 1mm; }
            .creds dd { margin: 0; }
            .creds dd:empty { display: none; }
            .secret { font: 700 11pt/1.3 "DejaVu Sans Mono", Menlo, Consolas, monospace; letter-spacing: .04em; }
            figure { margin: 0; width: 28mm; text-align: center; flex: none; }
            .qr { width: 28mm; height: 28mm; display: block; }
            figcaption { font-size: 6pt; color: #555; white-space: nowrap; }
            .warn { background: #fde8e8; color: #9b1c1c; border: 0.3mm solid #e5a3a3; border-radius: 1.5mm;
                    padding: .2mm 1.5mm; font-size: 7pt; line-height: 1.2; font-weight: 700; margin: -1.2mm 0 0;
                    white-space: nowrap; overflow: hidden; text-overflow: ellipsis; flex: none; }
            .not-ready { border-color: #c0392b; }
            .spare .no { background: #8a5a00; font-size: 14pt; }
            .empty { margin: 20mm; font-size: 14pt; }
            @media print {
              body { background: none; }
              .sheet { width: auto; height: 281mm; margin: 0; padding: 0; box-shadow: none;
                       break-after: page; page-break-after: always; }
              .sheet:last-of-type { break-after: auto; page-break-after: auto; }
            }
            """;
}
