package org.workshopfleet.error;

/**
 * The input is refused before anything was created or changed: a bad option or file, a workshop that is busy or runs
 * elsewhere, a limit the fleet would exceed, a declined confirmation. Exit code {@link ExitCode#BAD_INPUT}.
 */
public non-sealed class BadInput extends FleetException {
    private static final long serialVersionUID = 1L;

    public BadInput(String oneLine) {
        super(oneLine);
    }

    public BadInput(String oneLine, Throwable cause) {
        super(oneLine, cause);
    }

    @Override
    public int exitCode() {
        return ExitCode.BAD_INPUT;
    }
}
