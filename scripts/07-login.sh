#!/usr/bin/env bash
# 07-login: attendees log in as ubuntu with this machine's own password (printed on their card); every other account
# keeps the distribution's default (keys only). chpasswd and the sshd reload happen only when something changed.
# inputs: files/login/
# phase: machine
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
setup_step

getent passwd ubuntu >/dev/null || die "user ubuntu does not exist: cloud-init creates it from the user data"
password_file=$BUNDLE_DIR/files/login/ubuntu.chpasswd
stamp=$STATE_DIR/login-password.sha256
# Only a hash of the applied file is kept, to tell whether the password still has to be set.
if [[ $(cat "$stamp" 2>/dev/null) != "$(sha256_of "$password_file")" ]]; then
  chpasswd <"$password_file"
  install_content "$stamp" 0600 root:root <<<"$(sha256_of "$password_file")"
  log "password of ubuntu set"
fi

dropin=/etc/ssh/sshd_config.d/50-workshop-fleet-login.conf
install_file "$BUNDLE_DIR/files/login/sshd-login.conf" "$dropin" 0644 root:root
if ((FILE_CHANGED)); then
  if ! sshd -t; then
    rm -f "$dropin"
    die "sshd rejects $dropin; removed it, sshd left as it was"
  fi
  # Debian and Ubuntu name the unit ssh (sshd is an alias that may be missing when the unit is not enabled).
  systemctl reload ssh
  log "sshd reloaded: password login enabled for ubuntu"
fi
