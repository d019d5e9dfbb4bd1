# Managed by workshop-fleet: configuration the setup steps read (sourced by scripts/lib.sh).
FLEET_OS=${os.fleetOs}
FLEET_MACHINE=${machineName}
FLEET_HOSTNAME=${hostname}
FLEET_ATTENDEE=${attendee}
FLEET_EXPIRES_AT=${expiresAtIso}
<#list sources as s>
${s.name}=${s.quoted}
</#list>
