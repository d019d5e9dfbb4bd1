#!/usr/bin/env bash
# 06-web-terminal: what port 443 needs that is the same on every machine: ttyd (the browser terminal) run by the
# unit workshop-fleet-ttyd.service as ubuntu with a login shell, on loopback only (Apache's /terminal/ is its one way
# in), and Apache's TLS, proxy and basic-auth modules. The certificate, the key, the password file and the site itself
# are per machine, never in an image: 09-https installs them.
# inputs:
# phase: image
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
setup_step

pkg_installed apache2 || die "apache2 is not installed: run 01-packages first"
user=ubuntu
getent passwd "$user" >/dev/null || die "user $user does not exist: cloud-init creates it from the user data"
home=$(getent passwd "$user" | cut -d: -f6)
shell=$(getent passwd "$user" | cut -d: -f7)
[[ -x $shell ]] || shell=/bin/bash

# Ubuntu 22.04: universe's ttyd. Debian 12 has no ttyd package: the lab's stand-in repository serves one.
pkg_ensure ttyd apache2-utils

# ttyd 1.7 made the terminal read-only unless started with -W (which 1.6 does not know); 1.6 is writable by default.
ttyd_version=$(ttyd --version 2>&1 | sed -n 's/^ttyd version \([0-9][0-9.]*\).*/\1/p' | head -n1)
[[ -n $ttyd_version ]] || die "cannot read ttyd's version from 'ttyd --version'"
writable=()
if [[ $(printf '%s\n' 1.7 "$ttyd_version" | sort -V | head -n1) == 1.7 ]]; then
  writable=(-W)
fi

# The package may bring its own ttyd.service (a login prompt as root on port 7681): this unit replaces it.
if systemctl list-unit-files ttyd.service 2>/dev/null | grep -q '^ttyd\.service'; then
  systemctl disable --now --quiet ttyd.service 2>/dev/null || true
fi
install_content /etc/systemd/system/workshop-fleet-ttyd.service 0644 root:root <<UNIT
# Managed by workshop-fleet: the browser terminal behind Apache's https://<machine>/terminal/ (basic auth there).
# Loopback only: never reachable without Apache's password check.
[Unit]
Description=ttyd browser terminal for the workshop (behind Apache on 443)
After=network.target

[Service]
User=$user
WorkingDirectory=$home
Environment=HOME=$home
ExecStart=$(command -v ttyd) -i lo -p 7681 -b /terminal ${writable[*]} $shell -l
Restart=always
RestartSec=2

[Install]
WantedBy=multi-user.target
UNIT
unit_changed=$FILE_CHANGED
((unit_changed == 0)) || systemctl daemon-reload
enable_now workshop-fleet-ttyd.service
((unit_changed == 0)) || systemctl restart workshop-fleet-ttyd.service

modules_changed=0
for module in ssl proxy proxy_http proxy_wstunnel headers auth_basic authn_file authz_user; do
  if [[ ! -e /etc/apache2/mods-enabled/$module.load ]]; then
    a2enmod -q "$module" >/dev/null
    modules_changed=1
  fi
done
if ((modules_changed)); then
  # Restart, not reload: apache2 must keep USE_ZEND_DTRACE=1 (02-apache-php's drop-in), which a restart re-reads.
  apache2ctl configtest >/dev/null 2>&1 || die "apache2 rejects its configuration after enabling modules: apache2ctl configtest"
  systemctl restart apache2
  log "apache2 modules enabled: ssl proxy proxy_http proxy_wstunnel headers auth_basic authn_file"
fi
log "ttyd $ttyd_version on 127.0.0.1:7681/terminal as $user${writable[*]:+ (writable: ${writable[*]})}"
