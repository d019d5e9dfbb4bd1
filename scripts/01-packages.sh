#!/usr/bin/env bash
# 01-packages: everything the workshop installs from the distribution (docs/machine.md). On Ubuntu also
# bpftrace-dbgsym from the debug-symbol archive: jammy's bpftrace 0.14 is stripped and fails on BEGIN/END without it.
# inputs:
# phase: image
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
setup_step

# Real package names only (pkg_ensure checks them with dpkg): libbfd-dev is provided by binutils-dev, and
# php-mysqlnd by php8.x-mysql, which the php-mysql metapackage installs.
packages=(
  bpftrace
  apt-transport-https ca-certificates curl clang llvm jq libelf-dev zlib1g-dev pkg-config libpcap-dev binutils-dev build-essential make
  bpfcc-tools python3-pip git gpg
  apache2 memcached php php-curl php-dev php-gd php-xml php-yaml php-mbstring php-mysql php-memcached
  "libapache2-mod-php$PHP_VERSION"
)
case "$OS_ID" in
  ubuntu)
    # No bpftool package on jammy: the wrapper in linux-tools-common execs the one matching the running kernel.
    packages+=(linux-tools-common "linux-tools-$(uname -r)" ubuntu-dbgsym-keyring)
    ;;
  debian)
    # The lab runs in containers whose kernel is the host's: the bpftool package does not depend on it.
    packages+=(bpftool)
    ;;
esac
pkg_ensure "${packages[@]}"

if [[ $OS_ID == ubuntu ]]; then
  install_content /etc/apt/sources.list.d/ddebs.list 0644 root:root <<LIST
deb [signed-by=/usr/share/keyrings/ubuntu-dbgsym-keyring.gpg] $DDEBS_REPO jammy main restricted universe multiverse
deb [signed-by=/usr/share/keyrings/ubuntu-dbgsym-keyring.gpg] $DDEBS_REPO jammy-updates main restricted universe multiverse
LIST
  ((FILE_CHANGED == 0)) || apt_update
  pkg_ensure bpftrace-dbgsym
fi

bpftrace --version >/dev/null || die "bpftrace is installed but does not run"
bpftool version >/dev/null || die "bpftool is installed but does not run"
log "packages ready"
