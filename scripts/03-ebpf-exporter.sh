#!/usr/bin/env bash
# 03-ebpf-exporter: cloudflare ebpf_exporter v2.4.2 as /usr/local/bin/ebpf_exporter. Not started: attendees start it.
# The project publishes no checksum. With EBPF_EXPORTER_SHA256 set (the facilitator's pin, or the hash the workshop's
# ledger recorded from its first machine) the download must match it, and only then is the binary run (--version).
# Without, the binary is downloaded but never run here (it would run as root unchecked): its hash is written to
# $STATE_DIR/observed/ebpf_exporter.sha256, the orchestrator records the first one and requires all machines to agree,
# later runs receive it in fleet.env, and verify checks the binary against it before running it.
# inputs:
# phase: image
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
setup_step

[[ $(uname -m) == x86_64 ]] || die "only x86_64 machines are supported (ebpf_exporter.x86_64), this is $(uname -m)"
version=v2.4.2
url=$RELEASE_BASE/cloudflare/ebpf_exporter/releases/download/$version/ebpf_exporter.x86_64
dest=/usr/local/bin/ebpf_exporter
observed=$STATE_DIR/observed/ebpf_exporter.sha256

if [[ -n ${EBPF_EXPORTER_SHA256:-} ]]; then
  fetch_verified "$url" "$dest" "$EBPF_EXPORTER_SHA256" 0755
elif [[ ! -f $dest ]]; then
  # Unpinned: keep whatever is installed (re-runs make no download); the observed hash is the orchestrator's check.
  tmp=$(mktemp "$dest.part.XXXXXX")
  log "downloading $url (no pin: recording its hash)"
  if ! curl -fsSL --retry 3 --connect-timeout 20 -o "$tmp" "$url"; then
    rm -f "$tmp"
    die "download failed: $url"
  fi
  chmod 0755 "$tmp"
  mv -f "$tmp" "$dest"
fi
chmod 0755 "$dest"
install_content "$observed" 0644 root:root <<<"$(sha256_of "$dest")"
if [[ -z ${EBPF_EXPORTER_SHA256:-} ]]; then
  log "ebpf_exporter $version downloaded (sha256 $(sha256_of "$dest")), not run: no pin yet; the orchestrator records this hash"
  exit 0
fi
"$dest" --version >/dev/null 2>&1 || die "$dest --version fails: the download is not a working ebpf_exporter"
log "ebpf_exporter $version installed (sha256 $(sha256_of "$dest"))"
