#!/usr/bin/env bash
# The check functions are called indirectly, through check().
# shellcheck disable=SC2317
# The checks of docs/machine.md, "Ready", that run ON the machine (as root, fed on stdin by `verify`).
# Prints one line per check: CHECK <name> ok|fail <detail>. Never stops early; never changes anything.
set -euo pipefail

ATTENDEE_USER="${ATTENDEE_USER:-ubuntu}"
ATTENDEE_GIT_BRANCH="ebpf-php-sample"
# The bundle's folder comes from the orchestrator's MachineLayout (Verifier passes it).
BUNDLE_DIR="${BUNDLE_DIR:?set BUNDLE_DIR to the bundle folder (verify passes it)}"
if [ -r "$BUNDLE_DIR/fleet.env" ]; then
    # shellcheck disable=SC1091
    . "$BUNDLE_DIR/fleet.env"
fi

report() { # name, status, detail
    printf 'CHECK %s %s %s\n' "$1" "$2" "$(printf '%s' "$3" | tr '\n' ' ' | cut -c1-160)"
}

check() { # name, command...
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then
        report "$name" ok "$out"
    else
        report "$name" fail "$out"
    fi
}

http_code() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$1"
}

# Pages are read into a variable before they are searched: `curl | grep -q` fails under pipefail whenever grep
# stops reading early (curl: (23) Failure writing output).
phpinfo() {
    local page
    page=$(curl -fsS --max-time 10 http://127.0.0.1/phpinfo.php) || return 1
    if grep -q 'PHP Version' <<<"$page"; then echo "phpinfo shows PHP"; else echo "no PHP Version in phpinfo.php"; return 1; fi
}

apache_dtrace() {
    local pid
    pid=$(pgrep -o -x apache2 || pgrep -o -x httpd) || { echo "apache2 is not running"; return 1; }
    local environ
    environ=$(tr '\0' '\n' < "/proc/$pid/environ")
    if grep -qx 'USE_ZEND_DTRACE=1' <<<"$environ"; then echo "USE_ZEND_DTRACE=1 in pid $pid"; else echo "apache2 (pid $pid) lacks USE_ZEND_DTRACE=1"; return 1; fi
}

mem_php() {
    local page
    page=$(curl -fsS --max-time 30 http://127.0.0.1/mem.php) || return 1
    if grep -q '^OK: stored 5000 keys' <<<"$page"; then echo "$page"; else echo "mem.php: ${page:0:120}"; return 1; fi
}

prometheus_ready() {
    local code
    code=$(http_code http://127.0.0.1:9090/-/ready)
    if [ "$code" = 200 ]; then echo "HTTP 200"; else echo "HTTP $code"; return 1; fi
}

prometheus_ebpf_target() {
    local targets attempt
    # A freshly started Prometheus is ready before its discovery manager hands the scrape pools their targets (updates
    # go out at most every 5 s), so an empty target list is retried for a while before it counts as missing.
    for attempt in $(seq 1 15); do
        targets=$(curl -fsS --max-time 10 http://127.0.0.1:9090/api/v1/targets) || { echo "targets API unreachable"; return 1; }
        if grep -q '"job":"ebpf"' <<<"${targets//[[:space:]]/}" || [ "$attempt" -eq 15 ]; then
            break
        fi
        sleep 1
    done
    grep -q '"job":"ebpf"' <<<"${targets//[[:space:]]/}" || { echo "no job ebpf"; return 1; }
    if grep -q 'localhost:9435' <<<"$targets"; then echo "ebpf -> localhost:9435"; else echo "ebpf job does not target localhost:9435"; return 1; fi
}

grafana_health() {
    local code
    code=$(http_code http://127.0.0.1:3000/api/health)
    if [ "$code" = 200 ]; then echo "HTTP 200"; else echo "HTTP $code"; return 1; fi
}

# The exporter runs as root: only a binary whose SHA-256 is the workshop's recorded (or pinned) one is run at all. An
# unpinned first machine's setup step never ran it, so this is its first --version.
ebpf_exporter_checked() {
    local bin want got
    bin=$(command -v ebpf_exporter) || { echo "ebpf_exporter is not installed"; return 1; }
    want=${EBPF_EXPORTER_RECORDED:-${EBPF_EXPORTER_SHA256:-}}
    [ -n "$want" ] || { echo "no recorded SHA-256 to check $bin against: not run (re-run up to record one)"; return 1; }
    got=$(sha256sum "$bin") || return 1
    got=${got%% *}
    [ "$got" = "${want,,}" ] || { echo "$bin has SHA-256 $got, not the recorded one: not run"; return 1; }
    "$bin" --version
}

exporter_branch() {
    local dir branch
    dir=$(getent passwd "$ATTENDEE_USER" | cut -d: -f6)/ebpf_exporter
    branch=$(git -c safe.directory='*' -C "$dir" rev-parse --abbrev-ref HEAD 2>&1) || { echo "$branch"; return 1; }
    if [ "$branch" = "$ATTENDEE_GIT_BRANCH" ]; then echo "$dir on $branch"; else echo "$dir on $branch, want $ATTENDEE_GIT_BRANCH"; return 1; fi
}

check phpinfo phpinfo
check apache_dtrace apache_dtrace
check mem_php mem_php
check bpftrace bpftrace --version
check bpftool bpftool version
check ebpf_exporter ebpf_exporter_checked
check prometheus_ready prometheus_ready
check prometheus_ebpf_target prometheus_ebpf_target
check grafana_health grafana_health
check exporter_branch exporter_branch
exit 0
