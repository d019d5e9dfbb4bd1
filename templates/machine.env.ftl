# Managed by workshop-fleet: this machine's own values (sourced by scripts/lib.sh after fleet.env). Not part of any
# step's content hash, so renaming or extending the fleet never re-runs a step.
FLEET_MACHINE=${machineName}
FLEET_HOSTNAME=${hostname}
FLEET_ATTENDEE=${attendee}
FLEET_EXPIRES_AT=${expiresAtIso}
