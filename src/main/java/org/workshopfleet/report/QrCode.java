package org.workshopfleet.report;

import com.google.zxing.BarcodeFormat;
import com.google.zxing.EncodeHintType;
import com.google.zxing.WriterException;
import com.google.zxing.common.BitMatrix;
import com.google.zxing.qrcode.QRCodeWriter;
import com.google.zxing.qrcode.decoder.ErrorCorrectionLevel;
import java.util.Map;

/**
 * A QR code (zxing's encoder) drawn as inline SVG: one path of dark modules on a white square with the standard
 * four-module quiet zone, so the handout needs no image files and no network.
 */
public final class QrCode {

    /** Modules of white border around the symbol, as the QR specification asks. */
    public static final int QUIET_ZONE = 4;

    private final BitMatrix matrix;

    private QrCode(BitMatrix matrix) {
        this.matrix = matrix;
    }

    /** Encodes {@code text} with medium error correction (survives a crease or a smudge on paper). */
    public static QrCode of(String text) {
        try {
            // Size 0 makes zxing return exactly one matrix cell per module.
            return new QrCode(new QRCodeWriter().encode(text, BarcodeFormat.QR_CODE, 0, 0,
                    Map.of(EncodeHintType.MARGIN, 0, EncodeHintType.ERROR_CORRECTION, ErrorCorrectionLevel.M,
                            EncodeHintType.CHARACTER_SET, "UTF-8")));
        } catch (WriterException e) {
            throw new IllegalArgumentException("cannot encode a QR code for a text of " + text.length() + " characters", e);
        }
    }

    /** Modules per side, without the quiet zone. */
    public int size() {
        return matrix.getWidth();
    }

    /** Whether the module at column {@code x}, row {@code y} is dark. */
    public boolean dark(int x, int y) {
        return matrix.get(x, y);
    }

    /**
     * The symbol as an {@code <svg>} element (a viewBox in module units, so it scales to any size crisply).
     *
     * @param cssClass class attribute for sizing
     * @param label    accessible label
     */
    public String svg(String cssClass, String label) {
        int side = size() + 2 * QUIET_ZONE;
        StringBuilder path = new StringBuilder();
        for (int y = 0; y < size(); y++) {
            int x = 0;
            while (x < size()) {
                if (!dark(x, y)) {
                    x++;
                    continue;
                }
                int run = 1;
                while (x + run < size() && dark(x + run, y)) {
                    run++;
                }
                path.append('M').append(x + QUIET_ZONE).append(' ').append(y + QUIET_ZONE)
                        .append('h').append(run).append("v1h-").append(run).append('z');
                x += run;
            }
        }
        return "<svg class=\"" + Html.escape(cssClass) + "\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + side + " "
                + side + "\" role=\"img\" aria-label=\"" + Html.escape(label) + "\" shape-rendering=\"crispEdges\">"
                + "<rect width=\"" + side + "\" height=\"" + side + "\" fill=\"#fff\"/>"
                + "<path fill=\"#000\" d=\"" + path + "\"/></svg>";
    }
}
