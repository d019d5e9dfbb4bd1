package org.workshopfleet;

import com.sun.net.httpserver.HttpServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.workshopfleet.cloud.AwsCredentials;
import org.workshopfleet.error.FleetException;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;

/**
 * Run in a child JVM by {@code CredentialsInterruptTest}, whose environment holds an SSO profile with a live token:
 * checks the credentials on a thread of its own, holds the SSO portal's answer (GetRoleCredentials, on a loopback
 * listener here, reached through {@code aws.endpointUrl}) until that thread has been interrupted, then answers with
 * role credentials. Prints {@code held: …}, {@code requests: …}, {@code thrown: …} (class, exit code, message),
 * {@code flag: …} (the thread's interrupt flag after) and {@code verbose: …} (what {@code -Dverbose} would print, on
 * one line).
 */
public final class CredentialsInterruptProbe {

    /** Role credentials of the held answer: they must never appear in output. */
    static final String ROLE_SECRET = "role-secret-for-a-test";

    private CredentialsInterruptProbe() {
    }

    public static void main(String[] args) throws Exception {
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        AtomicBoolean requests = new AtomicBoolean();
        HttpServer portal = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        portal.createContext("/", x -> {
            requests.set(true);
            held.countDown();
            try {
                interrupted.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = ("{\"roleCredentials\":{\"accessKeyId\":\"ASIAFAKEFAKEFAKEFAKE\",\"secretAccessKey\":\""
                    + ROLE_SECRET + "\",\"sessionToken\":\"" + ROLE_SECRET + "-session\",\"expiration\":4102444800000}}")
                    .getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().set("Content-Type", "application/json");
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        portal.start();
        // Wins over AWS_ENDPOINT_URL, which the test points at its own listener that must receive nothing.
        System.setProperty("aws.endpointUrl", "http://127.0.0.1:" + portal.getAddress().getPort());

        AtomicReference<RuntimeException> thrown = new AtomicReference<>();
        AtomicBoolean flag = new AtomicBoolean();
        Thread checker = new Thread(() -> {
            try {
                new AwsCredentials().check(WorkshopSpec.defaults(1, Provider.EC2));
            } catch (RuntimeException e) {
                thrown.set(e);
            }
            flag.set(Thread.currentThread().isInterrupted());
        }, "credentials-check");
        checker.start();

        System.out.println("held: " + held.await(60, TimeUnit.SECONDS));
        checker.interrupt(); // Ctrl-C while the SSO portal's answer is on its way
        interrupted.countDown();
        checker.join(60_000);
        portal.stop(0);

        RuntimeException e = thrown.get();
        System.out.println("requests: " + requests.get());
        System.out.println("alive: " + checker.isAlive());
        System.out.println("thrown: " + (e == null ? "nothing"
                : e instanceof FleetException f ? f.getClass().getSimpleName() + " exit " + f.exitCode() + ": " + f.getMessage()
                : e.getClass().getSimpleName()));
        System.out.println("flag: " + flag.get());
        if (e != null) {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            System.out.println("verbose: " + trace.toString().replaceAll("\\s*\\R\\s*", " "));
        }
    }
}
