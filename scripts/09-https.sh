#!/usr/bin/env bash
# 09-https: port 443 of this machine, through the Apache already on it: /terminal/ (ttyd, 06-web-terminal) behind basic
# auth as ubuntu with the password on the card, /grafana/ (Grafana's own login). Per machine, never in an image: the
# machine's TLS certificate and key (made for its address on the facilitator's computer), the password file (made here
# from the login password already in the bundle: the password is never on a command line) and the site.
# inputs: files/web/ files/login/
# phase: machine
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
setup_step

web=$BUNDLE_DIR/files/web
[[ -f $web/tls.crt && -f $web/tls.key ]] \
  || die "the bundle has no TLS certificate ($web/tls.crt): it is added once the machine's address is known; provision the machine through 'up'"
pkg_installed apache2-utils || die "htpasswd is missing: run 06-web-terminal first"
[[ -e /etc/apache2/mods-enabled/ssl.load ]] || die "apache2's ssl module is not enabled: run 06-web-terminal first"

changed=0
install_file "$web/tls.crt" /etc/ssl/workshop-fleet/tls.crt 0644 root:root
((changed |= FILE_CHANGED))
install_file "$web/tls.key" /etc/ssl/workshop-fleet/tls.key 0600 root:root
((changed |= FILE_CHANGED))

password_file=$BUNDLE_DIR/files/login/ubuntu.chpasswd
htpasswd_file=/etc/apache2/workshop-fleet.htpasswd
stamp=$STATE_DIR/web-password.sha256
# bcrypt salts differ on every run: the file is made again only when the password changed (a hash of the applied
# password file is kept, as 07-login does).
if [[ ! -f $htpasswd_file || $(cat "$stamp" 2>/dev/null) != "$(sha256_of "$password_file")" ]]; then
  tmp=$(mktemp)
  sed -n 's/^ubuntu://p' "$password_file" | htpasswd -ciB "$tmp" ubuntu >/dev/null 2>&1 \
    || { rm -f "$tmp"; die "htpasswd could not make the password file"; }
  install_file "$tmp" "$htpasswd_file" 0640 root:www-data
  rm -f "$tmp"
  install_content "$stamp" 0600 root:root <<<"$(sha256_of "$password_file")"
  changed=1
fi

install_file "$web/workshop-fleet-ssl.conf" /etc/apache2/sites-available/workshop-fleet-ssl.conf 0644 root:root
((changed |= FILE_CHANGED))
if [[ ! -e /etc/apache2/sites-enabled/workshop-fleet-ssl.conf ]]; then
  a2ensite -q workshop-fleet-ssl >/dev/null
  changed=1
fi
if ((changed)); then
  if ! apache2ctl configtest >/dev/null 2>&1; then
    a2dissite -q workshop-fleet-ssl >/dev/null || true
    die "apache2 rejects the 443 site; disabled it, apache2 left as it was: apache2ctl configtest"
  fi
  # A graceful reload keeps apache2's environment (USE_ZEND_DTRACE=1) and picks up the site and certificate.
  systemctl reload apache2
  log "apache2 serves 443: /terminal/ and /grafana/"
fi
for _ in $(seq 1 20); do
  code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 2 https://127.0.0.1/terminal/ || true)
  [[ $code == 401 ]] && break
  sleep 0.5
done
[[ $code == 401 ]] || die "https://127.0.0.1/terminal/ answers HTTP $code without a password, not 401"
