package org.workshopfleet.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.state.StateFolder;

/**
 * Renders the handout in headless Chromium as a facilitator would open and print it: the screenshot must show the
 * cards (not a blank page) with readable QR codes, every card's text must carry its own address and credentials, and
 * printing must give A4 pages of six cards. The screenshot is kept in {@code target/handout-chromium/} to look at.
 */
class HandoutChromiumTest {

    private static final Pattern CARD = Pattern.compile(
            "<article class=\"card[^\"]*\" data-attendee=\"(\\d+)\">(.*?)</article>", Pattern.DOTALL);

    @TempDir
    static Path tmp;
    static Path page;
    static HeadlessChromium chromium;
    /** A browser's form of a certificate's SHA-256: 32 colon-separated bytes, the longest line a card carries. */
    static final String TLS_SHA256 = String.join(":", java.util.Collections.nCopies(32, "A7"));
    /**
     * Eight cards: the odd seats named as with {@code -DhostnamePattern=seat{n}.workshop.example.org}, every card
     * with its certificate's fingerprint, so the longest links and lines are measured too.
     */
    static List<AttendeeCard> cards = HandoutFixtures.cards(8).stream().map(c -> c.withHttps(c.attendee() % 2 == 1
            ? String.format("seat%02d.workshop.example.org", c.attendee()) : null, TLS_SHA256)).toList();

    @BeforeAll
    static void writeHandout() throws Exception {
        org.workshopfleet.lab.browser.Chromium.requireInstalled();
        page = new Handout("eBPF + PHP observability workshop", cards, Instant.parse("2026-11-25T08:00:00Z"))
                .writeTo(new StateFolder(tmp.resolve("ebpf-php")));
        Path profile = tmp.resolve("profile");
        Files.createDirectories(profile);
        chromium = new HeadlessChromium(profile);
    }

    @Test
    void screenshotShowsTheFirstSheetWithReadableQrCodes() throws Exception {
        Path keep = Path.of("target", "handout-chromium");
        Files.createDirectories(keep);
        Path png = keep.resolve("handout-sheet1.png").toAbsolutePath();
        Files.deleteIfExists(png);
        chromium.run(page.toUri().toString(), "--screenshot=" + png, "--window-size=900,1250",
                "--force-device-scale-factor=2");

        byte[] bytes = Files.readAllBytes(png);
        assertTrue(bytes.length > 8 && (bytes[0] & 0xff) == 0x89 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G',
                "screenshot is a PNG");
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(1800, img.getWidth());
        assertEquals(2500, img.getHeight());
        assertTrue(luminanceStdDev(img) > 30, "screenshot is not blank: stddev " + luminanceStdDev(img));

        // The six cards of sheet 1 are on screen; each QR code read off the pixels is that card's terminal URL.
        List<String> decoded = QrMatrixDecoder.decodeAll(img);
        TreeSet<String> expected = new TreeSet<>();
        cards.subList(0, 6).forEach(c -> expected.add(c.terminalUrl()));
        assertEquals(expected, new TreeSet<>(decoded));
        Files.copy(page, keep.resolve("index.html"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void everyCardInTheRenderedDomCarriesItsOwnAddressAndCredentials() throws Exception {
        String dom = chromium.run(page.toUri().toString(), "--dump-dom");
        Map<Integer, String> texts = new HashMap<>();
        Matcher m = CARD.matcher(dom);
        while (m.find()) {
            texts.put(Integer.parseInt(m.group(1)), text(m.group(2)));
        }
        assertEquals(cards.size(), texts.size(), "one card per attendee in the DOM");
        for (AttendeeCard c : cards) {
            String t = texts.get(c.attendee());
            String host = c.hostName() != null ? c.hostName() : c.publicIp();
            for (String expected : List.of(String.format("%02d", c.attendee()), c.machineName(), "http://" + c.publicIp() + "/",
                    "Terminal https://" + host + "/terminal/", "Grafana https://" + host + "/grafana/",
                    "user admin", "password " + c.grafanaPassword(), "ssh ubuntu@" + c.publicIp(),
                    "password " + c.sshPassword(), "Host key " + c.hostKey(), "TLS cert SHA-256 " + TLS_SHA256)) {
                assertTrue(t.contains(expected), "card " + c.attendee() + " shows " + expected + ": " + t);
            }
            for (AttendeeCard other : cards) {
                if (other != c) {
                    assertTrue(!t.contains(other.grafanaPassword()) && !t.contains(other.publicIp() + "/")
                            && (other.hostName() == null || !t.contains(other.hostName())),
                            "card " + c.attendee() + " holds nothing of attendee " + other.attendee());
                }
            }
            assertEquals(!c.ready(), t.contains("Not ready"), "card " + c.attendee() + " readiness banner");
        }
    }

    @Test
    void nothingOverflowsItsCard() throws Exception {
        // A copy of the page with a script that flags any card whose content does not fit it (clipped text or QR).
        String probe = "<script>for (const c of document.querySelectorAll('.card')) {"
                + " const over = c.scrollHeight > c.clientHeight + 1 || c.scrollWidth > c.clientWidth + 1"
                + " || [...c.querySelectorAll('dd, .body')].some(e => e.scrollWidth > e.clientWidth + 1)"
                // The not-ready banner: its whole text shown, neither cut short nor squeezed by the card's flex column.
                + " || [...c.querySelectorAll('.warn')].some(e => e.scrollWidth > e.clientWidth + 1"
                + " || e.scrollHeight > e.clientHeight + 1);"
                + " c.setAttribute('data-fits', over ? 'no' : 'yes'); }</script>";
        Path copy = page.resolveSibling("fit-probe.html");
        Files.writeString(copy, Files.readString(page).replace("</body>", probe + "</body>"));
        String dom = chromium.run(copy.toUri().toString(), "--dump-dom", "--window-size=900,1250");
        Matcher m = Pattern.compile("data-attendee=\"(\\d+)\" data-fits=\"(\\w+)\"").matcher(dom);
        int checked = 0;
        while (m.find()) {
            assertEquals("yes", m.group(2), "card " + m.group(1) + " fits");
            checked++;
        }
        assertEquals(cards.size(), checked, "every card was measured");
    }

    @Test
    void printsOnA4SixCardsToAPage() throws Exception {
        Path pdf = tmp.resolve("handout.pdf");
        chromium.run(page.toUri().toString(), "--print-to-pdf=" + pdf, "--no-pdf-header-footer");
        String raw = new String(Files.readAllBytes(pdf), StandardCharsets.ISO_8859_1);
        Matcher pages = Pattern.compile("/Type\\s*/Page(?![s\\w])").matcher(raw);
        int count = 0;
        while (pages.find()) {
            count++;
        }
        assertEquals(2, count, "8 cards print on 2 pages");
        Matcher box = Pattern.compile("/MediaBox\\s*\\[\\s*0 0 ([\\d.]+) ([\\d.]+)\\s*]").matcher(raw);
        assertTrue(box.find(), "PDF has a media box");
        assertEquals(595, Math.round(Double.parseDouble(box.group(1))), "A4 width in points");
        assertEquals(842, Math.round(Double.parseDouble(box.group(2))), "A4 height in points");
    }

    @Test
    void sparesPrintOnASheetOfTheirOwnAndTheirCardsFit() throws Exception {
        List<AttendeeCard> mixed = new java.util.ArrayList<>(HandoutFixtures.cards(7));
        for (AttendeeCard c : HandoutFixtures.cards(9).subList(7, 9)) {
            mixed.add(new AttendeeCard(0, c.machineName(), c.publicIp(), c.grafanaUser(), c.grafanaPassword(),
                    c.sshUser(), c.sshPassword(), true, "ready", c.hostKey(), true,
                    "seatspare-" + c.attendee() + ".workshop.example.org", TLS_SHA256));
        }
        Path spares = new Handout("eBPF + PHP observability workshop", mixed, Instant.parse("2026-11-25T08:00:00Z"))
                .writeTo(new StateFolder(tmp.resolve("with-spares")));
        Path pdf = tmp.resolve("spares.pdf");
        chromium.run(spares.toUri().toString(), "--print-to-pdf=" + pdf, "--no-pdf-header-footer");
        Matcher pages = Pattern.compile("/Type\\s*/Page(?![s\\w])")
                .matcher(new String(Files.readAllBytes(pdf), StandardCharsets.ISO_8859_1));
        int count = 0;
        while (pages.find()) {
            count++;
        }
        assertEquals(3, count, "7 seats on 2 pages, the 2 spares on a third");
        String probe = "<script>for (const c of document.querySelectorAll('.card.spare')) {"
                + " const over = c.scrollHeight > c.clientHeight + 1 || c.scrollWidth > c.clientWidth + 1;"
                + " c.setAttribute('data-fits', over ? 'no' : 'yes'); }</script>";
        Path copy = spares.resolveSibling("spare-probe.html");
        Files.writeString(copy, Files.readString(spares).replace("</body>", probe + "</body>"));
        String dom = chromium.run(copy.toUri().toString(), "--dump-dom", "--window-size=900,1250");
        Matcher m = Pattern.compile("data-spare=\"([^\"]+)\" data-fits=\"(\\w+)\"").matcher(dom);
        int checked = 0;
        while (m.find()) {
            assertEquals("yes", m.group(2), "spare card " + m.group(1) + " fits");
            checked++;
        }
        assertEquals(2, checked, "both spare cards were measured");
        assertTrue(text(dom).contains("SPARE"), "marked SPARE");
    }

    private static String text(String html) {
        return html.replaceAll("<[^>]+>", " ").replace("&amp;", "&").replaceAll("\\s+", " ").trim();
    }

    private static double luminanceStdDev(BufferedImage img) {
        double sum = 0;
        double sq = 0;
        int n = 0;
        for (int y = 0; y < img.getHeight(); y += 2) {
            for (int x = 0; x < img.getWidth(); x += 2) {
                int rgb = img.getRGB(x, y);
                double l = 0.299 * ((rgb >> 16) & 255) + 0.587 * ((rgb >> 8) & 255) + 0.114 * (rgb & 255);
                sum += l;
                sq += l * l;
                n++;
            }
        }
        double mean = sum / n;
        return Math.sqrt(sq / n - mean * mean);
    }
}
