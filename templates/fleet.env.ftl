# Managed by workshop-fleet: what the setup steps read that is the same on every machine (sourced by scripts/lib.sh).
# Nothing per machine belongs here: every step's content hash covers this file, and a baked image is reused for
# every machine whose image steps hash the same (per-machine values are in machine.env).
FLEET_OS=${os.fleetOs}
<#list sources as s>
${s.name}=${s.quoted}
</#list>
