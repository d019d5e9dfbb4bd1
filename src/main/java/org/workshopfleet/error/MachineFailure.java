package org.workshopfleet.error;

/**
 * A machine did not answer or did not end up as the workshop needs it: no SSH login, a Grafana call refused, a
 * dashboard missing after import. The machine exists and is in the ledger. Exit code {@link ExitCode#FAILURE}.
 */
public non-sealed class MachineFailure extends FleetException {
    private static final long serialVersionUID = 1L;

    public MachineFailure(String oneLine) {
        super(oneLine);
    }

    public MachineFailure(String oneLine, Throwable cause) {
        super(oneLine, cause);
    }

    @Override
    public int exitCode() {
        return ExitCode.FAILURE;
    }
}
