package org.workshopfleet.command;

import org.workshopfleet.cloud.CredentialsCheck;
import org.workshopfleet.error.BadInput;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Function;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.render.Renderer;
import org.workshopfleet.ssh.SshLogin;

/**
 * What the commands talk to besides the spec: the clouds, the credential and address look-ups, the terminal, the
 * progress display, and how machines are reached. {@link #defaults} is the real thing; tests replace parts.
 *
 * @param clouds       makes the provider's {@code Cloud}
 * @param credentials  fails fast without AWS credentials
 * @param cidrDetector finds the caller's public address when no {@code -Dcidr} was given
 * @param prompt       the terminal for confirmations, or null when there is none
 * @param display      live progress (the report package's display), or {@link ProvisionListener#NONE}
 * @param clock        time source for expiry and the ledger
 * @param sshUser      the user machines are reached as ({@code ubuntu})
 * @param sshPort      SSH port on the machines (22)
 * @param layout       paths on the machines
 * @param sshTimeout   how long a new machine may take to accept SSH
 * @param launchTimeout how long the cloud may take to report machines running
 * @param rendering    makes the rendering from the project root ({@code Renderer} by default)
 * @param readiness    how {@code up}'s heal and {@code replace} check a machine ({@link ReadinessCheck#VERIFIER} in
 *                     {@link #defaults}; the shorter constructors, used by tests of provisioning alone, check nothing)
 */
public record Wiring(CloudFactory clouds, CredentialsCheck credentials, CidrDetector cidrDetector, Prompt prompt,
                     ProvisionListener display, Clock clock, String sshUser, int sshPort, MachineLayout layout,
                     Duration sshTimeout, Duration launchTimeout, Function<Path, MachineRendering> rendering,
                     ReadinessCheck readiness) {

    /** The real templates under the project root. */
    public static final Function<Path, MachineRendering> TEMPLATES = root -> MachineRendering.of(new Renderer(root));

    /** As the canonical constructor, checking no machine's readiness ({@link ReadinessCheck#UNCHECKED}). */
    public Wiring(CloudFactory clouds, CredentialsCheck credentials, CidrDetector cidrDetector, Prompt prompt,
                  ProvisionListener display, Clock clock, String sshUser, int sshPort, MachineLayout layout,
                  Duration sshTimeout, Duration launchTimeout, Function<Path, MachineRendering> rendering) {
        this(clouds, credentials, cidrDetector, prompt, display, clock, sshUser, sshPort, layout, sshTimeout, launchTimeout,
                rendering, ReadinessCheck.UNCHECKED);
    }

    /** As the canonical constructor, rendering with {@link #TEMPLATES} and checking no machine's readiness. */
    public Wiring(CloudFactory clouds, CredentialsCheck credentials, CidrDetector cidrDetector, Prompt prompt,
                  ProvisionListener display, Clock clock, String sshUser, int sshPort, MachineLayout layout,
                  Duration sshTimeout, Duration launchTimeout) {
        this(clouds, credentials, cidrDetector, prompt, display, clock, sshUser, sshPort, layout, sshTimeout, launchTimeout,
                TEMPLATES);
    }

    /** A factory for builds without the provider classes: names the missing provider in one line. */
    public static final CloudFactory NO_CLOUDS = (spec, recorder) -> {
        throw new BadInput("provider " + spec.provider().id() + " is not available in this build: use -Daction=plan,"
                + " or a build that includes it");
    };

    /** The real look-ups, clock, SSH settings and templates, with {@code clouds} and the terminal's {@code prompt}. */
    public static Wiring defaults(CloudFactory clouds, Prompt prompt) {
        return new Wiring(clouds, Providers.credentials(), CidrDetector.checkIp(), prompt, ProvisionListener.NONE,
                Clock.systemUTC(), SshLogin.MACHINE_USER, 22, MachineLayout.STANDARD, Duration.ofMinutes(10),
                Duration.ofMinutes(10), TEMPLATES, ReadinessCheck.VERIFIER);
    }

    public Wiring withPrompt(Prompt p) {
        return new Wiring(clouds, credentials, cidrDetector, p, display, clock, sshUser, sshPort, layout, sshTimeout, launchTimeout,
                rendering, readiness);
    }

    public Wiring withRendering(Function<Path, MachineRendering> r) {
        return new Wiring(clouds, credentials, cidrDetector, prompt, display, clock, sshUser, sshPort, layout, sshTimeout,
                launchTimeout, r, readiness);
    }

    /** The same wiring, checking machines with {@code r}. */
    public Wiring withReadiness(ReadinessCheck r) {
        return new Wiring(clouds, credentials, cidrDetector, prompt, display, clock, sshUser, sshPort, layout, sshTimeout,
                launchTimeout, rendering, r);
    }

    public Wiring withDisplay(ProvisionListener d) {
        return new Wiring(clouds, credentials, cidrDetector, prompt, d, clock, sshUser, sshPort, layout, sshTimeout, launchTimeout,
                rendering, readiness);
    }
}
