package org.workshopfleet.cli;

import org.workshopfleet.Fleet;
import org.workshopfleet.command.CloudsByProvider;
import org.workshopfleet.command.Given;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.error.ExitCode;
import org.workshopfleet.error.FleetException;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.Map;
import java.nio.file.Path;
import org.workshopfleet.render.ProjectFiles;
import org.workshopfleet.report.TerminalText;

/**
 * The command: {@code mvn exec:java -Dcount=30} (or {@code java -Dcount=30 -jar workshop-fleet-all.jar}). Reads the
 * {@code -D} properties ({@code -Dhelp} lists them), runs the action on {@link Fleet}, and exits with its code (see
 * {@link ExitCode}): 0 all good; 1 a cloud call, a machine or a check failed, or an unexpected error (what exists is in
 * the ledger); 2 bad input or a refusal, before anything was created or changed; 130 stopped by Ctrl-C. Errors are one
 * line on stderr ({@code error: …}); stack traces only with {@code -Dverbose}.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        // sshj and the AWS SDK log through slf4j-simple; keep their chatter off the facilitator's terminal.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
                System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
        System.setProperty("org.slf4j.simpleLogger.log.net.schmizz",
                System.getProperty("org.slf4j.simpleLogger.log.net.schmizz", "off"));
        Map<String, String> props = new HashMap<>();
        for (String key : System.getProperties().stringPropertyNames()) {
            props.put(key, System.getProperty(key));
        }
        Wiring wiring = Wiring.defaults(new CloudsByProvider(ProjectFiles.locate(props.get("projectRoot"))),
                ConsolePrompt.open());
        int code = run(props, System.getenv(), System.out, System.err, wiring);
        System.out.flush();
        System.exit(code);
    }

    /** Runs one command; the testable body of {@link #main}. */
    public static int run(Map<String, String> props, Map<String, String> env, PrintStream out, PrintStream err,
                          Wiring wiring) {
        boolean verbose = props.containsKey("verbose") && !"false".equalsIgnoreCase(props.get("verbose"));
        try {
            // Help wins over everything else on the line: whoever asks for it is looking for the right option, so an
            // unknown or malformed one beside it must not hide the list.
            if (Options.flag(props, "help")) {
                out.print(Options.helpText());
                return 0;
            }
            Options options = Options.parse(props, env);
            // Given on the command line, or defaulted (AWS_REGION included): a live ledger overrides only defaults.
            Fleet fleet = new Fleet(options.spec(), options.projectRoot(), wiring, out,
                    new Given(props.containsKey("provider"), props.containsKey("region")));
            return switch (options.action()) {
                case UP -> fleet.up(options.yes(), options.image());
                case PLAN -> fleet.plan();
                case STATUS -> fleet.status();
                case VERIFY -> fleet.verify();
                case TEARDOWN -> fleet.teardown(options.yes());
                case ALLOW_IP -> fleet.allowIp(options.yes());
                case HANDOUT -> fleet.handout();
                case EXTEND -> fleet.extend(options.yes());
                case IMAGES -> fleet.images();
                case REMOVE_IMAGE -> fleet.removeImage(options.yes(), options.imageRecipe());
                case REPLACE -> fleet.replace(options.yes(), options.seat());
            };
        } catch (FleetException e) {
            err.println("error: " + oneLine(e.getMessage()));
            if (verbose) {
                e.printStackTrace(err);
            }
            return e.exitCode();
        } catch (RuntimeException | Error e) {
            err.println("error: unexpected " + e.getClass().getSimpleName() + ": " + oneLine(String.valueOf(e.getMessage()))
                    + (verbose ? "" : " (add -Dverbose for details)"));
            if (verbose) {
                e.printStackTrace(err);
            }
            return ExitCode.FAILURE;
        }
    }

    /** One line without control characters: a message can quote what a machine or a cloud sent. */
    private static String oneLine(String s) {
        return s == null ? "" : TerminalText.clean(s.replaceAll("\\s*\\R\\s*", " ")).trim();
    }
}
