#!/usr/bin/env bash
# 02-apache-php: USE_ZEND_DTRACE=1 in apache2's environment (compile/execute/function probes need it, and PHP reads
# it once at startup, hence restart, not reload), memcached running, and the workshop's sample pages.
# inputs: files/apache2/ php/
# phase: image
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
setup_step

pkg_installed apache2 || die "apache2 is not installed: run 01-packages first"

# True when the running apache2 parent has the variable (not just the unit file).
apache_traceable() {
  local pid
  pid=$(systemctl show -p MainPID --value apache2)
  [[ $pid =~ ^[1-9][0-9]*$ ]] || return 1
  local environ
  environ=$(tr '\0' '\n' <"/proc/$pid/environ") || return 1
  grep -qx 'USE_ZEND_DTRACE=1' <<<"$environ"
}

install_file "$BUNDLE_DIR/files/apache2/workshop-fleet.conf" \
  /etc/systemd/system/apache2.service.d/workshop-fleet.conf 0644 root:root
restart=$FILE_CHANGED
((restart == 0)) || systemctl daemon-reload
apache_traceable || restart=1
enable_now apache2 memcached
if ((restart)); then
  log "restarting apache2 with USE_ZEND_DTRACE=1"
  systemctl restart apache2
fi
apache_traceable || die "apache2 runs without USE_ZEND_DTRACE=1 in its environment"

while IFS= read -r -d '' page; do
  install_file "$page" "/var/www/html/${page#"$BUNDLE_DIR/php/"}" 0644 root:root
done < <(find "$BUNDLE_DIR/php" -type f -print0 | sort -z)
log "apache2 + PHP $PHP_VERSION ready"
