package org.workshopfleet.command;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.workshopfleet.provision.Verifier;

/** The machine × check matrix {@code verify} prints. */
class VerifyTest {

    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void verifyMatrixMarksFailuresAndListsTheirDetails() {
        Map<String, List<Verifier.Check>> matrix = new LinkedHashMap<>();
        matrix.put("ebpf-php-01", List.of(new Verifier.Check("ssh", true, "ok"),
                new Verifier.Check("phpinfo", true, "PHP")));
        matrix.put("ebpf-php-02", List.of(new Verifier.Check("ssh", true, "ok"),
                new Verifier.Check("phpinfo", false, "HTTP 500")));
        assertFalse(Verify.printMatrix(ps, matrix));
        String text = out();
        assertTrue(text.contains("ebpf-php-01        ok   ok"), text);
        assertTrue(text.contains("ebpf-php-02        ok FAIL"), text);
        assertTrue(text.contains("1=ssh, 2=phpinfo"), text);
        assertTrue(text.contains("FAIL ebpf-php-02 phpinfo: HTTP 500"), text);
        out.reset();
        assertTrue(Verify.printMatrix(ps, Map.of("ebpf-php-01", matrix.get("ebpf-php-01"))));
        assertTrue(out().contains("pass every check"), out());
    }
}
