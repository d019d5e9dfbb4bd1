#!/usr/bin/env bash
# 08-grafana-admin: this machine's Grafana admin password, then Grafana started. The password applies when Grafana
# starts on an empty database (a fresh machine, or a baked one: the seal removed the builder's database); on a machine
# whose Grafana already has users, a changed password is set with grafana-cli instead.
# inputs: files/grafana/workshop-fleet.env
# phase: machine
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
setup_step

getent group grafana >/dev/null || die "group grafana does not exist: 05-grafana installs Grafana first"
env_file=/etc/grafana/workshop-fleet.env
first_start=1
[[ -f /var/lib/grafana/grafana.db ]] && first_start=0
password_changed=0
if [[ -f $env_file ]] && cmp -s "$BUNDLE_DIR/files/grafana/workshop-fleet.env" "$env_file"; then :; else password_changed=1; fi
install_file "$BUNDLE_DIR/files/grafana/workshop-fleet.env" "$env_file" 0640 root:grafana
if ((first_start == 0 && password_changed)); then
  # Grafana ignores GF_SECURITY_ADMIN_PASSWORD once users exist: set it the supported way instead.
  log "resetting the Grafana admin password to this bundle's"
  sed -n 's/^GF_SECURITY_ADMIN_PASSWORD=//p' "$env_file" \
    | runuser -u grafana -- grafana-cli admin reset-admin-password --password-from-stdin >/dev/null
fi
enable_now grafana-server
# Answering, not just started: the orchestrator imports the dashboard right after this step (on a baked machine
# nothing runs in between), through a port forward that must find Grafana listening.
for _ in $(seq 1 90); do
  curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:3000/api/health && break
  sleep 1
done
curl -fsS -o /dev/null --max-time 5 http://127.0.0.1:3000/api/health \
  || die "grafana-server does not answer on port 3000 within 90 s: see journalctl -u grafana-server"
log "grafana-server enabled, started and answering"
