#!/usr/bin/env bash
# seal: run once on the builder of a baked image, after the image steps and before the snapshot. Removes everything
# that belongs to the builder as a machine (identity, secrets, the workshop that built it, logs) and keeps what the
# image steps installed and their markers, so a machine launched from the image skips those steps by marker and runs
# only cloud-init's first boot (new host keys from its user data, hostname, machine-id, login key, expiry timer) and
# the per-machine steps. Idempotent; leaves the builder running but without SSH host keys: it must not be rebooted
# before the snapshot (the cloud stops it for that).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
setup_step

markers=$STATE_DIR/steps
[[ -d $markers ]] || die "no step markers in $markers: run the image steps before sealing"

# Services that hold per-machine state on disk: Grafana (its database has the admin user and password) and Prometheus
# (its TSDB has the builder's samples and an instance-unique block layout).
for unit in grafana-server prometheus; do
  if systemctl is-active --quiet "$unit"; then
    log "stopping $unit"
    systemctl stop "$unit"
  fi
done
# Grafana creates its admin user on first start from GF_SECURITY_ADMIN_PASSWORD: no database and no password file in
# the image, so 08-grafana-admin's password applies on every baked machine.
rm -f /var/lib/grafana/grafana.db /var/lib/grafana/grafana.db-journal /etc/grafana/workshop-fleet.env
rm -rf /usr/local/prometheus/data

# The bundle holds the builder's secrets (Grafana password, login password) and its machine.env; baked machines get
# their own bundle uploaded. Per-machine stamps go too; step markers stay.
rm -rf "${BUNDLE_DIR:?}"
rm -f "$STATE_DIR/login-password.sha256"

# Identity: host keys (cloud-init writes each machine's own from its user data), machine-id (systemd makes a new one
# at first boot when the file is empty), the random seed, hostname.
rm -f /etc/ssh/ssh_host_*
truncate -s 0 /etc/machine-id
rm -f /var/lib/dbus/machine-id /var/lib/systemd/random-seed
truncate -s 0 /etc/hostname

# The workshop that built the image: its login key, the ubuntu password set by nobody yet, the builder's expiry timer.
rm -f /root/.ssh/authorized_keys /home/*/.ssh/authorized_keys
rm -f /etc/systemd/system/workshop-fleet-expiry.timer /etc/systemd/system/workshop-fleet-expiry.service \
  /etc/systemd/system/timers.target.wants/workshop-fleet-expiry.timer \
  /var/lib/systemd/timers/stamp-workshop-fleet-expiry.timer
if getent passwd ubuntu >/dev/null; then
  passwd -l ubuntu >/dev/null
fi
rm -f /root/.bash_history /home/*/.bash_history

# cloud-init runs again as on a new instance; NoCloud seeds (the lab's, holding the builder's user data with its private
# host key) go too: every machine brings its own.
if command -v cloud-init >/dev/null; then
  cloud-init clean --logs
fi
rm -rf /var/lib/cloud/seed/nocloud /var/lib/cloud/seed/nocloud-net

# Logs of the builder's life.
rm -rf /var/log/journal/*
find /var/log -type f \( -name '*.gz' -o -name '*.[0-9]' \) -delete
find /var/log -type f -exec truncate -s 0 {} +
apt-get clean
sync
log "sealed: markers kept for $(find "$markers" -maxdepth 1 -type f | wc -l) step(s)"
