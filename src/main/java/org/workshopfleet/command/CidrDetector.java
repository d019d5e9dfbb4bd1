package org.workshopfleet.command;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.Interrupted;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.workshopfleet.spec.Cidr;

/** Finds the facilitator's public address when no {@code -Dcidr} was given. Tests always pass a CIDR instead. */
@FunctionalInterface
public interface CidrDetector {

    /** The caller's address as a CIDR, e.g. {@code 203.0.113.7/32}. */
    String detect();

    /** Asks {@code https://checkip.amazonaws.com} (plain text, one IPv4 address). */
    static CidrDetector checkIp() {
        return () -> {
            String fix = ": give it with -Dcidr=<your address>/32";
            try {
                HttpResponse<String> r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().send(
                        HttpRequest.newBuilder(URI.create("https://checkip.amazonaws.com")).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    throw new BadInput("cannot detect this computer's public address (HTTP " + r.statusCode() + ")" + fix);
                }
                return Cidr.parse(r.body().trim() + "/32").toString();
            } catch (IOException e) {
                throw new BadInput("cannot detect this computer's public address (" + e.getClass().getSimpleName() + ")" + fix);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Interrupted("detecting this computer's public address", e);
            }
        };
    }
}
