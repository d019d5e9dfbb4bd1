package org.workshopfleet.error;

/**
 * A cloud (EC2, Lightsail, the lab host) refused a call, failed, or did not reach the wanted state in time. Resources
 * may exist; each one is in the ledger, so re-running continues and teardown removes them. Exit code
 * {@link ExitCode#FAILURE}.
 */
public non-sealed class CloudFailure extends FleetException {
    private static final long serialVersionUID = 1L;

    public CloudFailure(String oneLine) {
        super(oneLine);
    }

    public CloudFailure(String oneLine, Throwable cause) {
        super(oneLine, cause);
    }

    @Override
    public int exitCode() {
        return ExitCode.FAILURE;
    }
}
