package org.workshopfleet.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.spec.SeatNames;
import org.workshopfleet.state.StateFolder;

class HandoutTest {

    private final Instant now = Instant.parse("2026-11-25T08:00:00Z");

    @Test
    void csvIsRfc4180AndCarriesEveryField() {
        List<AttendeeCard> cards = new ArrayList<>(HandoutFixtures.cards(3));
        cards.add(new AttendeeCard(4, "w-04", "203.0.113.44", "admin", "pa,ss\"word", "ubuntu", "line\nbreak", false,
                "failed at 05-grafana, \"timeout\"", null));
        String csv = new Handout("T", cards, now).csv();
        assertTrue(csv.endsWith("\r\n"));
        List<List<String>> rows = parseCsv(csv);
        assertEquals(List.of("attendee", "machine", "ip", "web_url", "grafana_url", "grafana_user", "grafana_password",
                "ssh_user", "ssh_password", "ssh_command", "ssh_host_key", "ready", "status", "hostname", "terminal_url",
                "grafana_https_url", "tls_sha256"), rows.get(0));
        assertEquals(5, rows.size());
        assertEquals(List.of("4", "w-04", "203.0.113.44", "http://203.0.113.44/", "http://203.0.113.44:3000/", "admin",
                "pa,ss\"word", "ubuntu", "line\nbreak", "ssh ubuntu@203.0.113.44", "", "false",
                "failed at 05-grafana, \"timeout\"", "", "https://203.0.113.44/terminal/", "https://203.0.113.44/grafana/",
                ""), rows.get(4));
        AttendeeCard c1 = cards.get(0);
        assertEquals(List.of("1", c1.machineName(), c1.publicIp(), c1.webUrl(), c1.grafanaUrl(), "admin",
                c1.grafanaPassword(), "ubuntu", c1.sshPassword(), c1.sshCommand(), c1.hostKey(), "true", "ready", "",
                c1.terminalUrl(), c1.grafanaHttpsUrl(), ""), rows.get(1));
        assertTrue(csv.contains(",\"pa,ss\"\"word\",") , "quotes doubled inside quoted field");
    }

    /** Two seats and two spares, the spares' cards given first and out of order. */
    private List<AttendeeCard> withSpares() {
        List<AttendeeCard> cards = new ArrayList<>();
        cards.add(new AttendeeCard(0, "w-05", "203.0.113.55", "admin", "gp5", "ubuntu", "sp5", true, "ready", null, true));
        cards.add(new AttendeeCard(0, "w-03", "203.0.113.53", "admin", "gp3", "ubuntu", "sp3", true, "ready", null, true));
        cards.add(new AttendeeCard(2, "w-04", "203.0.113.54", "admin", "gp4", "ubuntu", "sp4", true, "ready", null));
        cards.add(new AttendeeCard(1, "w-01", "203.0.113.51", "admin", "gp1", "ubuntu", "sp1", true, "ready", null));
        return cards;
    }

    @Test
    void sparesArePrintedApartMarkedSpareAfterTheSeats() throws Exception {
        Handout h = new Handout("T", withSpares(), now);
        assertEquals(List.of("w-01", "w-04", "w-03", "w-05"), h.cards().stream().map(AttendeeCard::machineName).toList());
        String html = h.html();
        String[] sheets = html.split("<section class=\"sheet\">");
        assertEquals(3, sheets.length, "one sheet of seats, one of spares");
        assertTrue(sheets[1].contains("data-attendee=\"1\"") && sheets[1].contains("data-attendee=\"2\"")
                && !sheets[1].contains("SPARE"), sheets[1]);
        assertTrue(sheets[2].contains("data-spare=\"w-03\"") && sheets[2].contains("data-spare=\"w-05\"")
                && !sheets[2].contains("data-attendee"), sheets[2]);
        assertEquals(2, sheets[2].split("<span class=\"no\">SPARE</span>", -1).length - 1, sheets[2]);
        assertTrue(sheets[2].contains("sheet 2 of 2") && sheets[2].contains("SPARE machines"), sheets[2]);
        List<List<String>> rows = parseCsv(h.csv());
        assertEquals(List.of("1", "2", "spare", "spare"), rows.subList(1, 5).stream().map(r -> r.get(0)).toList());
        JsonNode spare = new ObjectMapper().readTree(h.json()).path("attendees").get(2);
        assertTrue(spare.path("spare").asBoolean() && spare.path("attendee").isNull(), spare.toString());
        assertEquals("w-04", h.seatCard(2).orElseThrow().machineName());
        assertTrue(h.seatCard(0).isEmpty(), "a spare is no seat");
    }

    @Test
    void aSeatsCardIsWrittenAloneForReplace(@TempDir Path dir) throws Exception {
        StateFolder folder = new StateFolder(dir.resolve("w"));
        Path page = new Handout("T", withSpares(), now).writeSeatCard(folder, 2);
        assertEquals("seat-02.html", page.getFileName().toString());
        String html = Files.readString(page);
        assertEquals(1, html.split("<article ", -1).length - 1, html);
        assertTrue(html.contains("gp4") && !html.contains("gp1") && !html.contains("gp3"), html);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(page)));
        assertNull(new Handout("T", withSpares(), now).writeSeatCard(folder, 9));
    }

    @Test
    void jsonHoldsTheSameData() throws Exception {
        List<AttendeeCard> cards = HandoutFixtures.cards(2);
        JsonNode root = new ObjectMapper().readTree(new Handout("Title & co", cards, now).json());
        assertEquals("Title & co", root.path("title").asText());
        assertEquals(now.toString(), root.path("generatedAt").asText());
        assertEquals(2, root.path("attendees").size());
        JsonNode a = root.path("attendees").get(1);
        AttendeeCard c = cards.get(1);
        assertEquals(c.attendee(), a.path("attendee").asInt());
        assertEquals(c.publicIp(), a.path("ip").asText());
        assertEquals(c.grafanaUrl(), a.path("grafanaUrl").asText());
        assertEquals(c.grafanaPassword(), a.path("grafanaPassword").asText());
        assertEquals(c.sshPassword(), a.path("sshPassword").asText());
        assertEquals("ssh ubuntu@" + c.publicIp(), a.path("sshCommand").asText());
        assertEquals(c.hostKey(), a.path("sshHostKey").asText());
        assertTrue(a.path("ready").asBoolean());
    }

    @Test
    void htmlEscapesEverythingAndEmbedsAReadableQrCodePerCard() throws Exception {
        List<AttendeeCard> cards = List.of(
                new AttendeeCard(1, "<script>alert(1)</script>", "203.0.113.5", "admin", "a&b<c>\"d'", "ubuntu", "x", true,
                        "ready", "SHA256:<b>"),
                HandoutFixtures.cards(2).get(1));
        String html = new Handout("Tom & Jerry's <workshop>", cards, now).html();
        assertFalse(html.contains("<script>"), "no raw markup from data");
        assertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assertTrue(html.contains("a&amp;b&lt;c&gt;&quot;d&#39;"));
        assertTrue(html.contains("Tom &amp; Jerry&#39;s &lt;workshop&gt;"));
        assertTrue(html.contains("<code>SHA256:&lt;b&gt;</code>"));
        assertFalse(html.contains("src=\"http") || html.contains("href=\"//") || html.contains("<link"),
                "no external resources");
        Matcher svg = Pattern.compile("<svg class=\"qr\".*?</svg>", Pattern.DOTALL).matcher(html);
        List<String> decoded = new ArrayList<>();
        while (svg.find()) {
            decoded.add(QrMatrixDecoder.decodeSvg(svg.group()));
        }
        assertEquals(List.of("https://203.0.113.5/terminal/", cards.get(1).terminalUrl()), decoded);
    }

    @Test
    void sixCardsPerSheet() {
        String html = new Handout("T", HandoutFixtures.cards(13), now).html();
        assertEquals(3, count(html, "<section class=\"sheet\">"));
        assertEquals(13, count(html, "<article class=\"card"));
        assertTrue(html.contains("sheet 3 of 3"));
    }

    @Test
    void filesArePrivate(@TempDir Path dir) throws Exception {
        StateFolder folder = new StateFolder(dir.resolve("ebpf-php"));
        Path page = new Handout("T", HandoutFixtures.cards(2), now).writeTo(folder);
        assertEquals(folder.handoutDir().resolve("index.html"), page);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(folder.handoutDir())));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(folder.root())));
        for (String f : List.of("index.html", "attendees.csv", "attendees.json")) {
            Path p = folder.handoutDir().resolve(f);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), f);
            assertTrue(Files.size(p) > 100, f);
        }
        try (var s = Files.list(folder.handoutDir())) {
            assertEquals(3, s.count(), "no temporary files left behind");
        }
    }

    @Test
    void regeneratedFromLedgerAndSecrets(@TempDir Path dir) {
        StateFolder folder = new StateFolder(dir.resolve("ebpf-php"));
        Ledger ledger = Ledger.open(folder, "ebpf-php", "ec2", "ap-northeast-1", Clock.fixed(now, ZoneOffset.UTC));
        ledger.updateMachine(1, "ebpf-php-01", r -> r.launched("i-1", "t3.medium", now).withAddress("203.0.113.1")
                .inPhase(MachinePhase.READY, null));
        ledger.updateMachine(2, "ebpf-php-02", r -> r.launched("i-2", "t3.medium", now).withAddress("203.0.113.2")
                .failed("05-grafana", "timeout", List.of()));
        ledger.updateMachine(3, "ebpf-php-03", r -> r.launched("i-3", "t3.medium", now));
        ledger.updateMachine(4, "ebpf-php-04", r -> r.inPhase(MachinePhase.DESTROYED, null));
        Secrets secrets = new Secrets(folder, "ebpf-php");
        for (int n = 1; n <= 3; n++) {
            secrets.hostKey(n); // made before each launch, as up does: a launched machine's lost key is refused
        }

        Handout h = Handout.fromLedger(ledger.snapshot(), secrets, "eBPF + PHP", now);

        assertEquals(List.of(1, 2, 3), h.cards().stream().map(AttendeeCard::attendee).toList());
        AttendeeCard one = h.cards().get(0);
        assertEquals(secrets.grafanaPassword(1), one.grafanaPassword());
        assertEquals(secrets.sshPassword(1), one.sshPassword());
        assertEquals("admin", one.grafanaUser());
        assertEquals("ubuntu", one.sshUser());
        assertTrue(one.ready());
        AttendeeCard two = h.cards().get(1);
        assertFalse(two.ready());
        assertEquals("failed at 05-grafana", two.status());
        AttendeeCard three = h.cards().get(2);
        assertNull(three.grafanaUrl());
        assertEquals("launching", three.status());
        assertTrue(h.html().contains("no address yet"));
    }

    /**
     * Each card, CSV row and JSON entry carries its machine's host key fingerprint exactly as OpenSSH's own
     * {@code ssh-keygen -lf} prints it for the public key the machine is given, so an attendee can compare it with what
     * {@code ssh} shows on first contact.
     */
    @Test
    void everyCardShowsItsMachinesHostKeyFingerprintAsSshKeygenPrintsIt(@TempDir Path dir) throws Exception {
        StateFolder folder = new StateFolder(dir.resolve("ebpf-php"));
        Ledger ledger = Ledger.open(folder, "ebpf-php", "ec2", "ap-northeast-1", Clock.fixed(now, ZoneOffset.UTC));
        for (int n = 1; n <= 3; n++) {
            String ip = "203.0.113." + n;
            ledger.updateMachine(n, "ebpf-php-0" + n, r -> r.launched("i-" + ip, "t3.medium", now).withAddress(ip)
                    .inPhase(MachinePhase.READY, null));
        }
        Secrets secrets = new Secrets(folder, "ebpf-php");
        for (int n = 1; n <= 3; n++) {
            secrets.hostKey(n); // made before each launch, as up does
        }
        Handout h = Handout.fromLedger(ledger.snapshot(), secrets, "eBPF + PHP", now);
        String html = h.html();
        List<List<String>> csv = parseCsv(h.csv());
        JsonNode json = new ObjectMapper().readTree(h.json()).path("attendees");
        List<String> seen = new ArrayList<>();
        for (int n = 1; n <= 3; n++) {
            Path pub = dir.resolve("host-" + n + ".pub");
            Files.writeString(pub, secrets.hostKey(n).publicKeyLine() + "\n");
            String expected = sshKeygenFingerprint(pub);
            AttendeeCard card = h.cards().get(n - 1);
            assertEquals(expected, card.hostKey(), "card " + n);
            Matcher article = Pattern.compile("<article class=\"card\" data-attendee=\"" + n + "\">(.*?)</article>",
                    Pattern.DOTALL).matcher(html);
            assertTrue(article.find());
            assertTrue(article.group(1).contains("<dt>Host key</dt><dd class=\"hostkey\"><code>" + expected + "</code></dd>"),
                    article.group(1));
            assertEquals(expected, csv.get(n).get(csv.get(0).indexOf("ssh_host_key")));
            assertEquals(expected, json.get(n - 1).path("sshHostKey").asText());
            seen.add(expected);
        }
        assertEquals(3, seen.stream().distinct().count(), "one key per machine");
    }

    /**
     * With seat names (-DhostnamePattern) the HTTPS links and the QR code use the seat's name, the address stays on the
     * web and shell lines, and a certificate fingerprint is printed under the host key; without one, no TLS line.
     */
    @Test
    void httpsLinksUseTheSeatsNameAndTheCardShowsTheCertificateFingerprint() throws Exception {
        String sha = "AB:CD:" + "01:23:45:67:89:AB:CD:EF:".repeat(3) + "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB";
        AttendeeCard named = HandoutFixtures.cards(1).get(0).withHttps("seat01.example.org", sha);
        AttendeeCard plain = HandoutFixtures.cards(2).get(1);
        Handout h = new Handout("T", List.of(named, plain), now);
        String html = h.html();
        Matcher first = Pattern.compile("data-attendee=\"1\">(.*?)</article>", Pattern.DOTALL).matcher(html);
        assertTrue(first.find());
        String card = first.group(1);
        assertTrue(card.contains("<dt>Terminal</dt><dd><a href=\"https://seat01.example.org/terminal/\">"), card);
        assertTrue(card.contains("<dt>Grafana</dt><dd><a href=\"https://seat01.example.org/grafana/\">"), card);
        assertTrue(card.contains("http://" + named.publicIp() + "/") && card.contains("ssh ubuntu@" + named.publicIp()),
                card);
        assertTrue(card.contains("<dt>TLS cert</dt><dd class=\"tls\"><code>SHA-256 " + sha + "</code></dd>"), card);
        Matcher second = Pattern.compile("data-attendee=\"2\">(.*?)</article>", Pattern.DOTALL).matcher(html);
        assertTrue(second.find());
        assertFalse(second.group(1).contains("TLS cert"), "no fingerprint, no line");
        assertTrue(second.group(1).contains("https://" + plain.publicIp() + "/terminal/"), second.group(1));

        Matcher svg = Pattern.compile("<svg class=\"qr\".*?</svg>", Pattern.DOTALL).matcher(html);
        List<String> decoded = new ArrayList<>();
        while (svg.find()) {
            decoded.add(QrMatrixDecoder.decodeSvg(svg.group()));
        }
        assertEquals(List.of("https://seat01.example.org/terminal/", "https://" + plain.publicIp() + "/terminal/"),
                decoded);
        JsonNode a = new ObjectMapper().readTree(h.json()).path("attendees").get(0);
        assertEquals("seat01.example.org", a.path("hostname").asText());
        assertEquals("https://seat01.example.org/terminal/", a.path("terminalUrl").asText());
        assertEquals("https://seat01.example.org/grafana/", a.path("grafanaHttpsUrl").asText());
        assertEquals(sha, a.path("tlsSha256").asText());
        List<List<String>> csv = parseCsv(h.csv());
        assertEquals(sha, csv.get(1).get(csv.get(0).indexOf("tls_sha256")));
    }

    /** From the ledger with seat names: a seat's card is named for its seat, a spare's apart from every seat's. */
    @Test
    void fromTheLedgerSeatsAndSparesGetTheirNames(@TempDir Path dir) {
        StateFolder folder = new StateFolder(dir.resolve("ebpf-php"));
        Ledger ledger = Ledger.open(folder, "ebpf-php", "ec2", "ap-northeast-1", Clock.fixed(now, ZoneOffset.UTC));
        ledger.updateMachine(1, "ebpf-php-01", r -> r.launched("i-1", "t3.medium", now).withAddress("203.0.113.1")
                .inPhase(MachinePhase.READY, null));
        ledger.updateMachine(2, "ebpf-php-02", r -> r.launched("i-2", "t3.medium", now).withAddress("203.0.113.2")
                .inPhase(MachinePhase.READY, null).forSeat(MachineRecord.SPARE));
        new Secrets(folder, "ebpf-php").hostKey(1); // made before each launch, as up does
        new Secrets(folder, "ebpf-php").hostKey(2);
        Handout h = Handout.fromLedger(ledger.snapshot(), new Secrets(folder, "ebpf-php"), "T", now,
                new SeatNames("seat{n}.example.org"));
        assertEquals("https://seat01.example.org/terminal/", h.seatCard(1).orElseThrow().terminalUrl());
        AttendeeCard spare = h.cards().stream().filter(AttendeeCard::spare).findFirst().orElseThrow();
        assertEquals("seatspare-02.example.org", spare.hostName());
        assertNull(h.seatCard(1).orElseThrow().tlsSha256(), "the ledger records no fingerprint yet");
        assertNull(Handout.fromLedger(ledger.snapshot(), new Secrets(folder, "ebpf-php"), "T", now)
                .seatCard(1).orElseThrow().hostName());
    }

    /** One A record per named machine with an address, seats then spares; nothing for unnamed or address-less ones. */
    @Test
    void dnsRecordsAreAZoneFileBlockOfTheNamedMachines() {
        List<AttendeeCard> cards = new ArrayList<>();
        cards.add(new AttendeeCard(0, "w-05", "203.0.113.55", "admin", "g", "ubuntu", "s", true, "ready", null, true,
                "seatspare-05.example.org", null));
        cards.add(new AttendeeCard(2, "w-02", "203.0.113.52", "admin", "g", "ubuntu", "s", true, "ready", null, false,
                "seat02.example.org", null));
        cards.add(new AttendeeCard(1, "w-01", "203.0.113.51", "admin", "g", "ubuntu", "s", true, "ready", null, false,
                "seat01.example.org", null));
        cards.add(new AttendeeCard(3, "w-03", null, "admin", "g", "ubuntu", "s", false, "launching", null, false,
                "seat03.example.org", null));
        assertEquals("; DNS records to create (zone-file form, TTL 300 s), one per machine:\n"
                + "seat01.example.org. 300 IN A 203.0.113.51\n"
                + "seat02.example.org. 300 IN A 203.0.113.52\n"
                + "seatspare-05.example.org. 300 IN A 203.0.113.55\n", DnsRecords.zoneBlock(new Handout("T", cards, now).cards()));
        assertEquals("", DnsRecords.zoneBlock(HandoutFixtures.cards(3)));
    }

    /** {@code ssh-keygen -l -E sha256 -f key.pub}: {@code 256 SHA256:… comment (ED25519)}; the second field. */
    private static String sshKeygenFingerprint(Path pub) throws Exception {
        Process p = new ProcessBuilder("ssh-keygen", "-l", "-E", "sha256", "-f", pub.toString()).redirectErrorStream(true)
                .start();
        String output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        assertEquals(0, p.waitFor(), output);
        String fingerprint = output.split("\\s+")[1];
        assertTrue(fingerprint.matches("SHA256:[A-Za-z0-9+/]{43}"), output);
        return fingerprint;
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    /** A strict RFC 4180 reader: CRLF records, quoted fields with doubled quotes. */
    private static List<List<String>> parseCsv(String csv) {
        List<List<String>> rows = new ArrayList<>();
        List<String> row = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        int i = 0;
        while (i < csv.length()) {
            char c = csv.charAt(i);
            if (c == '"' && field.length() == 0) {
                i++;
                while (true) {
                    char q = csv.charAt(i);
                    if (q == '"' && i + 1 < csv.length() && csv.charAt(i + 1) == '"') {
                        field.append('"');
                        i += 2;
                    } else if (q == '"') {
                        i++;
                        break;
                    } else {
                        field.append(q);
                        i++;
                    }
                }
            } else if (c == ',') {
                row.add(field.toString());
                field.setLength(0);
                i++;
            } else if (c == '\r' && csv.charAt(i + 1) == '\n') {
                row.add(field.toString());
                field.setLength(0);
                rows.add(row);
                row = new ArrayList<>();
                i += 2;
            } else {
                if (c == '"' || c == '\n' || c == '\r') {
                    throw new AssertionError("unquoted special character at " + i);
                }
                field.append(c);
                i++;
            }
        }
        assertTrue(row.isEmpty() && field.length() == 0, "file ends with CRLF");
        return rows;
    }
}
