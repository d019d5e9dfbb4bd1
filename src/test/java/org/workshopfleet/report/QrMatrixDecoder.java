package org.workshopfleet.report;

import com.google.zxing.BinaryBitmap;
import com.google.zxing.DecodeHintType;
import com.google.zxing.RGBLuminanceSource;
import com.google.zxing.Result;
import com.google.zxing.common.HybridBinarizer;
import com.google.zxing.multi.qrcode.QRCodeMultiReader;
import com.google.zxing.qrcode.QRCodeReader;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads QR codes back with zxing's decoder: from the SVG the handout contains, or from a screenshot. */
final class QrMatrixDecoder {

    private static final Pattern VIEWBOX = Pattern.compile("viewBox=\"0 0 (\\d+) (\\d+)\"");
    private static final Pattern PATH = Pattern.compile(" d=\"([^\"]*)\"");
    private static final Pattern RUN = Pattern.compile("M(\\d+) (\\d+)h(\\d+)v1h-(\\d+)z");

    private QrMatrixDecoder() {
    }

    /** Rasterises one {@code <svg>} as {@link QrCode#svg} writes it (4 px per module) and decodes it. */
    static String decodeSvg(String svg) throws Exception {
        Matcher vb = VIEWBOX.matcher(svg);
        Matcher path = PATH.matcher(svg);
        if (!vb.find() || !path.find()) {
            throw new AssertionError("not a QR svg: " + svg.substring(0, Math.min(200, svg.length())));
        }
        int side = Integer.parseInt(vb.group(1));
        int scale = 4;
        int px = side * scale;
        int[] pixels = new int[px * px];
        java.util.Arrays.fill(pixels, 0xFFFFFFFF);
        Matcher run = RUN.matcher(path.group(1));
        int consumed = 0;
        while (run.find()) {
            if (run.start() != consumed) {
                throw new AssertionError("unexpected path data at " + consumed);
            }
            consumed = run.end();
            int x0 = Integer.parseInt(run.group(1));
            int y0 = Integer.parseInt(run.group(2));
            int len = Integer.parseInt(run.group(3));
            for (int x = x0 * scale; x < (x0 + len) * scale; x++) {
                for (int y = y0 * scale; y < (y0 + 1) * scale; y++) {
                    pixels[y * px + x] = 0xFF000000;
                }
            }
        }
        if (consumed != path.group(1).length()) {
            throw new AssertionError("unparsed path data after " + consumed);
        }
        Result r = new QRCodeReader().decode(new BinaryBitmap(new HybridBinarizer(new RGBLuminanceSource(px, px, pixels))),
                Map.of(DecodeHintType.PURE_BARCODE, Boolean.TRUE));
        return r.getText();
    }

    /** Every QR code zxing finds in an image (e.g. a screenshot of a whole sheet). */
    static List<String> decodeAll(BufferedImage image) throws Exception {
        int w = image.getWidth();
        int h = image.getHeight();
        int[] pixels = image.getRGB(0, 0, w, h, null, 0, w);
        List<String> found = new ArrayList<>();
        for (Result r : new QRCodeMultiReader().decodeMultiple(
                new BinaryBitmap(new HybridBinarizer(new RGBLuminanceSource(w, h, pixels))),
                Map.of(DecodeHintType.TRY_HARDER, Boolean.TRUE))) {
            found.add(r.getText());
        }
        return found;
    }
}
