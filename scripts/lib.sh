# shellcheck shell=bash disable=SC2034
# (SC2034: the variables set here are read by the steps that source this file.)
# Shared by every setup step (sourced, never run): OS detection, fleet.env, and the few idempotent primitives the
# steps are built from. Every primitive changes the machine only when it differs from what the bundle asks for.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a
BUNDLE_DIR=${BUNDLE_DIR:-/opt/workshop-fleet}
STATE_DIR=${STATE_DIR:-/var/lib/workshop-fleet}
STEP_NAME=${STEP_NAME:-$(basename "${0%.sh}")}
# Set by install_file, install_content and fetch_verified: 1 when the destination was (re)written, else 0.
FILE_CHANGED=0
APT_UPDATED=0
# A fresh cloud machine often runs unattended-upgrades at first boot: wait for the dpkg lock instead of failing.
APT_OPTS=(-o DPkg::Lock::Timeout=600)
# dpkg's journal of the package operation in progress: files here after the lock is free mean a run was killed in
# the middle (a step interrupted by Ctrl-C or a dropped connection), and apt-get refuses every install until
# `dpkg --configure -a` has finished it ("dpkg was interrupted, you must manually run ...").
DPKG_UPDATES_DIR=${DPKG_UPDATES_DIR:-/var/lib/dpkg/updates}

log() { printf '[%s] %s\n' "$STEP_NAME" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$STEP_NAME" "$*" >&2; exit 1; }

require_root() {
  [[ $(id -u) -eq 0 ]] || die "must run as root: sudo BUNDLE_DIR=$BUNDLE_DIR $0"
}

# detect_os: reads $OS_RELEASE_FILE (default /etc/os-release) and sets OS_ID, OS_VERSION, FLEET_OS_DETECTED, PHP_VERSION, PHP_MODULE.
# Only the two systems the workshop is built and tested on are accepted.
detect_os() {
  local file=${OS_RELEASE_FILE:-/etc/os-release} id version
  [[ -r $file ]] || die "cannot read $file: only Ubuntu 22.04 and Debian 12 are supported"
  id=$(sed -n 's/^ID=//p' "$file" | tr -d '"')
  version=$(sed -n 's/^VERSION_ID=//p' "$file" | tr -d '"')
  case "$id/$version" in
    ubuntu/22.04) PHP_VERSION=8.1 ;;
    debian/12) PHP_VERSION=8.2 ;;
    *) die "unsupported system '${id:-?} ${version:-?}': workshop machines must run Ubuntu 22.04 or Debian 12" ;;
  esac
  OS_ID=$id
  OS_VERSION=$version
  FLEET_OS_DETECTED=$id-$version
  PHP_MODULE=/usr/lib/apache2/modules/libphp$PHP_VERSION.so
}

# load_fleet_env: the bundle's configuration; refuses a bundle rendered for another OS (its exercises name the
# PHP module of that OS).
load_fleet_env() {
  local env_file=$BUNDLE_DIR/fleet.env
  [[ -r $env_file ]] || die "$env_file is missing: upload the bundle first or set BUNDLE_DIR"
  set -a
  # shellcheck source=/dev/null
  . "$env_file"
  # This machine's own values (name, attendee, expiry); absent on a builder of a baked image, which has no identity.
  # shellcheck source=/dev/null
  [[ ! -r $BUNDLE_DIR/machine.env ]] || . "$BUNDLE_DIR/machine.env"
  set +a
  if [[ -n ${FLEET_OS:-} && ${FLEET_OS_DETECTED:-} && $FLEET_OS != "$FLEET_OS_DETECTED" ]]; then
    die "bundle was rendered for $FLEET_OS but this machine runs $FLEET_OS_DETECTED: render it for this OS"
  fi
}

# setup_step: the common prologue of a step.
setup_step() {
  require_root
  detect_os
  load_fleet_env
  mkdir -p "$STATE_DIR"
}

pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

apt_update() {
  log "apt-get update"
  apt-get "${APT_OPTS[@]}" update -qq
  APT_UPDATED=1
}

# pkg_ensure PKG...: installs the packages that are not installed yet; no apt call at all when none is missing.
pkg_ensure() {
  local missing=() p
  for p in "$@"; do
    pkg_installed "$p" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  ((APT_UPDATED)) || apt_update
  log "installing ${missing[*]}"
  if ! apt_install "${missing[@]}"; then
    # Checked only after apt-get failed: it waits for the lock first, and a journal is normal while another dpkg runs.
    compgen -G "$DPKG_UPDATES_DIR/*" >/dev/null || die "apt-get install ${missing[*]} failed (its error is above)"
    log "an earlier package run was interrupted: finishing it (dpkg --configure -a), then installing again"
    dpkg --configure -a
    apt_install "${missing[@]}"
  fi
  # A virtual name installs its provider but never shows as installed, so every re-run would call apt again.
  for p in "${missing[@]}"; do
    pkg_installed "$p" || die "package $p is still not installed after apt-get install (a virtual package?): name the real package"
  done
}

apt_install() {
  apt-get "${APT_OPTS[@]}" install -y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >/dev/null
}

# install_file SRC DEST MODE OWNER:GROUP: replaces DEST atomically only when content, mode or owner differ.
install_file() {
  local src=$1 dest=$2 mode=$3 owner=$4 tmp
  [[ -f $src ]] || die "bundle file $src is missing"
  if [[ -f $dest ]] && cmp -s "$src" "$dest" && [[ $(stat -c '%a %U:%G' "$dest") == "${mode#0} $owner" ]]; then
    FILE_CHANGED=0
    return 0
  fi
  mkdir -p "$(dirname "$dest")"
  tmp=$(mktemp "$dest.XXXXXX")
  cp "$src" "$tmp"
  chown "$owner" "$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$dest"
  log "wrote $dest"
  FILE_CHANGED=1
}

# install_content DEST MODE OWNER:GROUP < content
install_content() {
  local tmp rc=0
  tmp=$(mktemp)
  cat >"$tmp"
  install_file "$tmp" "$@" || rc=$?
  rm -f "$tmp"
  return "$rc"
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# fetch_verified URL DEST SHA256 MODE: downloads only when DEST is missing or differs from the pin. A download that
# does not match the pin is deleted and the step fails; DEST is never replaced by a bad file.
fetch_verified() {
  local url=$1 dest=$2 want=${3,,} mode=$4 tmp got
  [[ $want =~ ^[0-9a-f]{64}$ ]] || die "no valid SHA-256 pin for $url (got '${3}'): set it in fleet.env"
  if [[ -f $dest && $(sha256_of "$dest") == "$want" ]]; then
    FILE_CHANGED=0
    return 0
  fi
  mkdir -p "$(dirname "$dest")"
  tmp=$(mktemp "$dest.part.XXXXXX")
  log "downloading $url"
  if ! curl -fsSL --retry 3 --connect-timeout 20 -o "$tmp" "$url"; then
    rm -f "$tmp"
    die "download failed: $url"
  fi
  got=$(sha256_of "$tmp")
  if [[ $got != "$want" ]]; then
    rm -f "$tmp"
    die "SHA-256 mismatch for $url: expected $want, got $got (file discarded)"
  fi
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$dest"
  FILE_CHANGED=1
}

# primary_fingerprints KEYFILE: the fingerprint of each primary key in an (armored or binary) OpenPGP key file,
# one per line, upper-case hex; subkeys are not listed. Uses a throwaway keyring: nothing is imported.
primary_fingerprints() {
  local home rc=0
  home=$(mktemp -d)
  GNUPGHOME=$home gpg --batch --quiet --show-keys --with-colons "$1" 2>/dev/null \
    | awk -F: '$1 == "pub" {want = 1; next} $1 == "fpr" && want {print $10; want = 0}' || rc=$?
  rm -rf "$home"
  return "$rc"
}

# pinned_key_export KEYFILE FINGERPRINT OUT: writes to OUT (armored) the one key of KEYFILE whose primary fingerprint
# is FINGERPRINT, with its subkeys, and nothing else: a key file holding the pinned key beside any other key would
# otherwise make apt trust that other key too (signed-by= trusts every key in the keyring). Fails, writing nothing,
# when KEYFILE lacks that key. Uses a throwaway keyring.
pinned_key_export() {
  local src=$1 fpr=$2 out=$3 home tmp rc=0
  home=$(mktemp -d)
  tmp=$(mktemp)
  GNUPGHOME=$home gpg --batch --quiet --import "$src" 2>/dev/null || rc=$?
  # A 40-hex name matches a fingerprint only; the check below also refuses a subkey's fingerprint as the pin.
  ((rc)) || GNUPGHOME=$home gpg --batch --quiet --armor --export "$fpr" >"$tmp" 2>/dev/null || rc=$?
  GNUPGHOME=$home gpgconf --kill all 2>/dev/null || true
  rm -rf "$home"
  if ((rc == 0)) && [[ $(primary_fingerprints "$tmp") == "$fpr" ]]; then
    mv -f "$tmp" "$out"
    return 0
  fi
  rm -f "$tmp"
  return 1
}

# install_pinned_keyring URL FINGERPRINT KEYRING: KEYRING (0644 root:root) holds exactly the key with the pinned primary
# FINGERPRINT, downloaded from URL when it does not already (a keyring with any other key beside it is replaced).
# Sets FILE_CHANGED. Fails, leaving KEYRING alone, when the download lacks the pinned key.
install_pinned_keyring() {
  local url=$1 fpr=$2 keyring=$3 tmp pinned seen
  FILE_CHANGED=0
  [[ ! -f $keyring || $(primary_fingerprints "$keyring") != "$fpr" ]] || return 0
  tmp=$(mktemp)
  pinned=$(mktemp)
  log "downloading $url"
  curl -fsSL --retry 3 --connect-timeout 20 -o "$tmp" "$url" || { rm -f "$tmp" "$pinned"; die "download failed: $url"; }
  if ! pinned_key_export "$tmp" "$fpr" "$pinned"; then
    seen=$(primary_fingerprints "$tmp" | paste -sd, -)
    rm -f "$tmp" "$pinned"
    die "the key from $url has fingerprint(s) '${seen:-none}', not the pinned $fpr: not trusted"
  fi
  install_file "$pinned" "$keyring" 0644 root:root
  rm -f "$tmp" "$pinned"
}

# enable_now UNIT...: enabled (survives a reboot) and running.
enable_now() {
  systemctl enable --now --quiet "$@"
}
