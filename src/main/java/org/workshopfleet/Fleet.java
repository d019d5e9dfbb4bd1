package org.workshopfleet;

import java.io.PrintStream;
import java.nio.file.Path;
import org.workshopfleet.bake.ImageMode;
import org.workshopfleet.bake.ImageRecipe;
import org.workshopfleet.command.AllowIp;
import org.workshopfleet.command.Extend;
import org.workshopfleet.command.Given;
import org.workshopfleet.command.Handout;
import org.workshopfleet.command.Images;
import org.workshopfleet.command.Plan;
import org.workshopfleet.command.RemoveImage;
import org.workshopfleet.command.Replace;
import org.workshopfleet.command.Status;
import org.workshopfleet.command.Teardown;
import org.workshopfleet.command.Up;
import org.workshopfleet.command.Verify;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.command.WorkshopContext;
import org.workshopfleet.error.ExitCode;
import org.workshopfleet.error.FleetException;
import org.workshopfleet.spec.WorkshopSpec;

/**
 * The library's front door: one workshop's fleet, one method per command (each in {@code org.workshopfleet.command}).
 * Every command validates first and refuses bad input with a one-line {@link FleetException} before anything is
 * created or changed. Each returns the process exit code ({@link ExitCode}): {@link ExitCode#OK} all good,
 * {@link ExitCode#FAILURE} some machine or check failed (what exists is in the ledger; re-run). What stops a command
 * arrives as a {@link FleetException} whose {@link FleetException#exitCode()} is the exit code: {@code BadInput}
 * {@link ExitCode#BAD_INPUT} (refused, nothing changed), {@code CloudFailure} and {@code MachineFailure}
 * {@link ExitCode#FAILURE}, {@code Interrupted} {@link ExitCode#INTERRUPTED} (Ctrl-C; {@code up} also returns it).
 *
 * <p>A command on a workshop whose ledger records a live fleet works on that fleet's provider and region; later
 * commands on the same {@code Fleet} do too.
 */
public final class Fleet {

    /** Ledger setting written by {@code up} and {@code allow-ip}: the CIDR the ingress admits. */
    public static final String SETTING_CIDR = WorkshopContext.SETTING_CIDR;
    /** Ledger setting written by {@code up} and {@code extend}: when the machines power off. */
    public static final String SETTING_EXPIRES_AT = WorkshopContext.SETTING_EXPIRES_AT;

    private final WorkshopContext context;

    /**
     * @param spec        the validated workshop
     * @param projectRoot folder with templates/, scripts/, dashboards/, security-groups/
     * @param wiring      clouds, look-ups, terminal, display
     * @param out         where progress and tables are printed
     */
    public Fleet(WorkshopSpec spec, Path projectRoot, Wiring wiring, PrintStream out) {
        this(spec, projectRoot, wiring, out, Given.BOTH);
    }

    /** As above; {@code given} says which of the spec's provider and region a ledger may override. */
    public Fleet(WorkshopSpec spec, Path projectRoot, Wiring wiring, PrintStream out, Given given) {
        this.context = new WorkshopContext(spec, projectRoot, wiring, out, given);
    }

    /** As {@link #up(boolean, ImageMode)} from the provider's stock image. */
    public int up(boolean yes) {
        return up(yes, ImageMode.STOCK);
    }

    /**
     * Brings the fleet to {@code spec.count()} ready machines: prints the plan and asks for confirmation (unless
     * {@code yes}), prepares the cloud, launches the machines that are missing, provisions all of them concurrently,
     * prints a table and writes the handout. Re-running resumes; a larger count adds machines; a smaller one removes
     * the surplus after confirmation. With {@link ImageMode#BAKE} the machines launch from the image of this fleet's
     * recipe (baked first on one builder machine if the cloud has none) and run only the per-machine steps. With
     * {@code spec.spares()} it also makes that many spares, which belong to no seat. At the end every machine gets the
     * readiness checks of {@code verify}; a seat whose machine fails them is moved to a spare (else a new machine), at
     * most twice per seat, each attempt printed.
     *
     * @return 0 every seat's machine ready and verified (and every spare there); 1 a machine, a check or the bake
     *         failed: fix and re-run; 130 stopped by Ctrl-C
     */
    public int up(boolean yes, ImageMode image) {
        return new Up(context).run(yes, image);
    }

    /**
     * Writes what {@code up} would do into {@code workshops/<name>/plan/}: per machine its user data, every bundle file
     * and its steps; {@code cloud-calls.txt} (the cloud operations in order); {@code cost.txt}. Needs no credentials
     * and no network. The folder holds secrets (host keys, passwords): it is private (0700, files 0600).
     *
     * @return 0
     */
    public int plan() {
        return new Plan(context).run();
    }

    /**
     * Prints the ledger's machines with the cloud's live state (ledger only when the cloud cannot be asked).
     *
     * @return 0, also when there is no ledger (it says so)
     */
    public int status() {
        return new Status(context).run();
    }

    /**
     * Runs the "ready" checks on every machine of the ledger and prints a machine × check matrix.
     *
     * @return 0 every check passed; 1 some check failed (the details follow the matrix)
     */
    public int verify() {
        return new Verify(context).run();
    }

    /**
     * Removes everything of the workshop (ledger ∪ tag search) after confirmation and closes the ledger. Safe to
     * repeat. An unreadable ledger is moved aside and the resources are found by tag; a ledger whose machines the
     * cloud does not know at all (another account or region) is kept and the teardown refused (exit 2), never reported
     * as an all-clear.
     *
     * @return 0 nothing of the workshop is left
     */
    public int teardown(boolean yes) {
        return new Teardown(context).run(yes);
    }

    /**
     * Replaces the ingress CIDR of the live fleet with {@code -Dcidr} (or this computer's detected address), after
     * confirmation unless it is already the recorded one.
     *
     * @return 0
     */
    public int allowIp(boolean yes) {
        return new AllowIp(context).run(yes);
    }

    /**
     * Rewrites {@code workshops/<name>/handout/} (HTML cards, CSV, JSON) from the ledger and the secrets.
     *
     * @return 0
     */
    public int handout() {
        return new Handout(context).run();
    }

    /**
     * Moves the fleet's expiry to now + {@code -Dttl} after confirmation: the {@code ExpiresAt} tags, each machine's
     * power-off timer (over SSH) and the ledger. Machines that cannot be reached are listed; re-run once they are.
     *
     * @return 0 every timer moved; 1 some machine keeps its old power-off time
     */
    public int extend(boolean yes) {
        return new Extend(context).run(yes);
    }

    /**
     * Lists the images workshop-fleet baked on this cloud and region (any workshop's), marking the one this project's
     * current recipe would use. Needs no ledger and changes nothing.
     *
     * @return 0
     */
    public int images() {
        return new Images(context).run();
    }

    /**
     * Removes one image (by recipe hash or prefix, name or id) after confirmation; refuses (exit 2) a reference that
     * matches none or several.
     *
     * @return 0
     */
    public int removeImage(boolean yes, String ref) {
        return new RemoveImage(context).run(yes, ref);
    }

    /**
     * Moves attendee seat {@code seat} onto a spare that passes every readiness check now (else onto a new machine
     * made for it), prints the seat's new card and rewrites the handout, destroys the seat's old machine and makes a
     * new spare to keep the number {@code up} was given. Refuses (exit 2) a seat the workshop does not have.
     *
     * @return 0 the seat is on a verified machine and the spares are made up; 1 no machine passed, or a spare is
     *         missing; 130 stopped by Ctrl-C (everything made is in the ledger)
     */
    public int replace(boolean yes, int seat) {
        return new Replace(context).run(yes, seat);
    }

    /** This project's image recipe for this provider; renders one throwaway machine (no state is written). */
    public ImageRecipe currentRecipe() {
        return context.currentRecipe();
    }
}
