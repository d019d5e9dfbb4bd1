# Managed by workshop-fleet: this machine's own values (sourced by scripts/lib.sh after fleet.env). Not part of any
# step's content hash, so renaming or extending the fleet never re-runs a step. The expiry is not here: the
# power-off timer (ExpiryTimer) is its one copy on the machine, and extend rewrites it.
FLEET_MACHINE=${machineName}
FLEET_HOSTNAME=${hostname}
FLEET_ATTENDEE=${attendee}
