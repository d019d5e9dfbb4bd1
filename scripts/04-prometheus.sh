#!/usr/bin/env bash
# 04-prometheus: Prometheus 3.1.0 from the release tarball (SHA-256 pinned) in /usr/local/prometheus, owned by
# nobody, with the workshop's config and an enabled systemd unit.
# inputs: files/prometheus/
# phase: image
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
setup_step

[[ $(uname -m) == x86_64 ]] || die "only x86_64 machines are supported, this is $(uname -m)"
version=3.1.0
tarball=prometheus-$version.linux-amd64.tar.gz
url=$RELEASE_BASE/prometheus/prometheus/releases/download/v$version/$tarball
cache=/var/cache/workshop-fleet/$tarball
home=/usr/local/prometheus
marker=$home/.workshop-fleet-tarball.sha256

fetch_verified "$url" "$cache" "$PROMETHEUS_SHA256" 0644
changed=0
if [[ ! -x $home/prometheus || $(cat "$marker" 2>/dev/null) != "${PROMETHEUS_SHA256,,}" ]]; then
  log "unpacking $tarball into $home"
  mkdir -p "$home"
  # The tarball's example prometheus.yml is not ours; ours is installed below.
  tar -xzf "$cache" -C "$home" --strip-components=1 --no-same-owner --exclude='*/prometheus.yml'
  printf '%s\n' "${PROMETHEUS_SHA256,,}" >"$marker"
  changed=1
fi
if [[ -n $(find "$home" \( ! -user nobody -o ! -group nogroup \) -print -quit) ]]; then
  chown -R nobody:nogroup "$home"
fi

install_file "$BUNDLE_DIR/files/prometheus/prometheus.yml" "$home/prometheus.yml" 0644 nobody:nogroup
((changed |= FILE_CHANGED)) || true
"$home/promtool" check config "$home/prometheus.yml" >/dev/null || die "promtool rejects $home/prometheus.yml"
install_file "$BUNDLE_DIR/files/prometheus/prometheus.service" /etc/systemd/system/prometheus.service 0644 root:root
if ((FILE_CHANGED)); then
  systemctl daemon-reload
  changed=1
fi
if ((changed)) && systemctl is-active --quiet prometheus; then
  log "restarting prometheus"
  systemctl restart prometheus
fi
enable_now prometheus
# Type=simple: "started" says nothing. An unknown flag or an unwritable data/ stops Prometheus within seconds.
for _ in $(seq 60); do
  if curl -fs -o /dev/null http://127.0.0.1:9090/-/ready; then
    log "prometheus $version ready"
    exit 0
  fi
  systemctl is-failed --quiet prometheus && break
  sleep 1
done
journalctl -u prometheus -n 15 --no-pager >&2 || true
die "prometheus did not become ready on 127.0.0.1:9090 (journal above)"
