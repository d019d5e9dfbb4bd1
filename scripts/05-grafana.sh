#!/usr/bin/env bash
# 05-grafana: Grafana OSS from Grafana's apt repository (key checked against the pinned fingerprint before apt trusts
# it), this machine's admin password in place before the first start, the Prometheus datasource provisioned.
# inputs: files/grafana/
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
setup_step

keyring=/etc/apt/keyrings/grafana.asc
want_fpr=${GRAFANA_KEY_FINGERPRINT^^}
want_fpr=${want_fpr// /}
[[ $want_fpr =~ ^[0-9A-F]{40}$ ]] || die "GRAFANA_KEY_FINGERPRINT '$GRAFANA_KEY_FINGERPRINT' is not a 40-hex fingerprint"

pkg_ensure gpg curl
if [[ ! -f $keyring ]] || ! primary_fingerprints "$keyring" | grep -qx "$want_fpr"; then
  tmp=$(mktemp)
  log "downloading $GRAFANA_APT_KEY_URL"
  curl -fsSL --retry 3 --connect-timeout 20 -o "$tmp" "$GRAFANA_APT_KEY_URL" || { rm -f "$tmp"; die "download failed: $GRAFANA_APT_KEY_URL"; }
  if ! primary_fingerprints "$tmp" | grep -qx "$want_fpr"; then
    seen=$(primary_fingerprints "$tmp" | paste -sd, -)
    rm -f "$tmp"
    die "Grafana key from $GRAFANA_APT_KEY_URL has fingerprint(s) '${seen:-none}', not the pinned $want_fpr: not trusted"
  fi
  install_file "$tmp" "$keyring" 0644 root:root
  rm -f "$tmp"
fi
install_content /etc/apt/sources.list.d/grafana.list 0644 root:root <<LIST
deb [signed-by=$keyring] $GRAFANA_APT_REPO stable main
LIST
((FILE_CHANGED == 0)) || apt_update

# The admin password is applied only when Grafana starts on an empty database, so the env file and the drop-in go
# in before the package can ever be started; the group is fixed once the package has created it.
env_file=/etc/grafana/workshop-fleet.env
dropin=/etc/systemd/system/grafana-server.service.d/10-workshop-fleet.conf
first_start=1
[[ -f /var/lib/grafana/grafana.db ]] && first_start=0
password_changed=0
if [[ -f $env_file ]] && cmp -s "$BUNDLE_DIR/files/grafana/workshop-fleet.env" "$env_file"; then :; else password_changed=1; fi
if ! getent group grafana >/dev/null; then
  install_file "$BUNDLE_DIR/files/grafana/workshop-fleet.env" "$env_file" 0600 root:root
fi
install_file "$BUNDLE_DIR/files/grafana/10-workshop-fleet.conf" "$dropin" 0644 root:root
unit_changed=$FILE_CHANGED
# The package's postinst does not reload systemd; a fresh install must be followed by a daemon-reload.
pkg_installed grafana || unit_changed=1
pkg_ensure grafana
install_file "$BUNDLE_DIR/files/grafana/workshop-fleet.env" "$env_file" 0640 root:grafana
install_file "$BUNDLE_DIR/files/grafana/datasource.yaml" \
  /etc/grafana/provisioning/datasources/workshop-fleet.yaml 0640 root:grafana
datasource_changed=$FILE_CHANGED

((unit_changed == 0)) || systemctl daemon-reload
if ((first_start == 0 && password_changed)); then
  # Grafana ignores GF_SECURITY_ADMIN_PASSWORD once users exist: set it the supported way instead.
  log "resetting the Grafana admin password to this bundle's"
  sed -n 's/^GF_SECURITY_ADMIN_PASSWORD=//p' "$env_file" \
    | runuser -u grafana -- grafana-cli admin reset-admin-password --password-from-stdin >/dev/null
fi
if ((unit_changed || datasource_changed)) && systemctl is-active --quiet grafana-server; then
  log "restarting grafana-server"
  systemctl restart grafana-server
fi
enable_now grafana-server
log "grafana-server enabled and started"
