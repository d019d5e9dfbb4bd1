package org.workshopfleet.command;

import java.util.List;
import org.workshopfleet.provision.Verifier;

/**
 * How {@code up}, its heal and {@code replace} decide that a machine is ready: {@link #VERIFIER}, every check of
 * {@link Verifier}, in production. A test seam: the fault tests' loopback machines hold no workshop, so they either
 * skip the checks ({@link #UNCHECKED}) or decide per machine which fail. A machine passes when every check is ok.
 */
@FunctionalInterface
public interface ReadinessCheck {

    /** Every check of the {@link Verifier}. */
    ReadinessCheck VERIFIER = Verifier::verify;

    /** No check at all: for tests of provisioning alone, whose loopback machines hold no workshop to check. */
    ReadinessCheck UNCHECKED = (verifier, target) -> List.of();

    /** The checks of one machine; a check that cannot run is a failed check, never an exception. */
    List<Verifier.Check> check(Verifier verifier, Verifier.Target target);
}
