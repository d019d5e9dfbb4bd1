#!/usr/bin/env bash
# 05-grafana: Grafana OSS from Grafana's apt repository (only the key with the pinned fingerprint goes into apt's
# keyring, whatever else the downloaded key file holds), the systemd drop-in that reads the admin password from
# /etc/grafana/workshop-fleet.env, and the Prometheus datasource. The same on every machine (baked into images); the
# password itself and the first start are 08-grafana-admin's. Until then Grafana cannot start: its drop-in names an
# environment file that does not exist yet, so no machine ever runs Grafana with admin/admin.
# inputs: files/grafana/10-workshop-fleet.conf files/grafana/datasource.yaml
# phase: image
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
setup_step

keyring=/etc/apt/keyrings/grafana.asc
want_fpr=${GRAFANA_KEY_FINGERPRINT^^}
want_fpr=${want_fpr// /}
[[ $want_fpr =~ ^[0-9A-F]{40}$ ]] || die "GRAFANA_KEY_FINGERPRINT '$GRAFANA_KEY_FINGERPRINT' is not a 40-hex fingerprint"

pkg_ensure gpg curl
install_pinned_keyring "$GRAFANA_APT_KEY_URL" "$want_fpr" "$keyring"
key_changed=$FILE_CHANGED
install_content /etc/apt/sources.list.d/grafana.list 0644 root:root <<LIST
deb [signed-by=$keyring] $GRAFANA_APT_REPO stable main
LIST
((FILE_CHANGED == 0 && key_changed == 0)) || apt_update

dropin=/etc/systemd/system/grafana-server.service.d/10-workshop-fleet.conf
install_file "$BUNDLE_DIR/files/grafana/10-workshop-fleet.conf" "$dropin" 0644 root:root
unit_changed=$FILE_CHANGED
# The package's postinst does not reload systemd (and does not start Grafana); a fresh install needs a daemon-reload.
pkg_installed grafana || unit_changed=1
pkg_ensure grafana
install_file "$BUNDLE_DIR/files/grafana/datasource.yaml" \
  /etc/grafana/provisioning/datasources/workshop-fleet.yaml 0640 root:grafana
datasource_changed=$FILE_CHANGED

((unit_changed == 0)) || systemctl daemon-reload
if ((unit_changed || datasource_changed)) && systemctl is-active --quiet grafana-server; then
  log "restarting grafana-server"
  systemctl restart grafana-server
fi
log "grafana installed and configured (started by 08-grafana-admin)"
