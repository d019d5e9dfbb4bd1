#!/usr/bin/env bash
# The check functions are called indirectly, through check().
# shellcheck disable=SC2317
# The checks of docs/machine.md, "Ready", that run ON the machine (as root, fed on stdin by `verify`).
# Prints one line per check: CHECK <name> ok|fail <detail>. Never stops early. The deep checks run the workshop's own
# path (USDT probes, the attendee's make, ebpf_exporter, Prometheus); whatever they start is stopped on exit, and
# docs/machine.md ("What verify leaves behind") says the state a machine is left in.
set -euo pipefail

ATTENDEE_USER="${ATTENDEE_USER:-ubuntu}"
# Apache's PHP module, from the OS profile (Verifier passes it): where the USDT probes are.
PHP_MODULE="${PHP_MODULE:-}"
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

# Port 443 (docs/machine.md, "Port 443"), checked on the machine through Apache with the card's passwords, read from the
# bundle and handed to curl on stdin (never on a command line).
card_login_password() { sed -n 's/^ubuntu://p' "$BUNDLE_DIR/files/login/ubuntu.chpasswd" 2>/dev/null || true; }
card_grafana_password() { sed -n 's/^GF_SECURITY_ADMIN_PASSWORD=//p' "$BUNDLE_DIR/files/grafana/workshop-fleet.env" 2>/dev/null || true; }
https_as_ubuntu() { # password, curl arguments...
    local pw=$1
    shift
    printf 'user = "ubuntu:%s"\n' "$pw" | curl -sk -K - "$@"
}

terminal_https() {
    local pw code page
    pw=$(card_login_password)
    [ -n "$pw" ] || { echo "no login password in the bundle to try"; return 1; }
    code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 10 https://127.0.0.1/terminal/) || true
    [ "$code" = 401 ] || { echo "/terminal/ answers HTTP ${code:-none} without a password, not 401"; return 1; }
    code=$(https_as_ubuntu "${pw}x" -o /dev/null -w '%{http_code}' --max-time 10 https://127.0.0.1/terminal/) || true
    [ "$code" = 401 ] || { echo "/terminal/ answers HTTP ${code:-none} to a wrong password, not 401"; return 1; }
    page=$(https_as_ubuntu "$pw" --max-time 10 -f https://127.0.0.1/terminal/) \
        || { echo "/terminal/ refuses the card's password or fails (no page)"; return 1; }
    grep -qi 'ttyd' <<<"$page" || { echo "/terminal/ with the card's password serves no ttyd page"; return 1; }
    # The websocket through mod_proxy_wstunnel: ttyd answers 101, then waits for the browser's first message (which
    # starts the shell), so nothing runs; curl just stops waiting.
    code=$(https_as_ubuntu "$pw" --http1.1 -o /dev/null -w '%{http_code}' --max-time 2 \
        -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
        -H "Sec-WebSocket-Key: $(head -c 16 /dev/urandom | base64)" -H 'Sec-WebSocket-Protocol: tty' \
        https://127.0.0.1/terminal/ws) || true
    [ "$code" = 101 ] || { echo "the terminal's websocket through Apache answers HTTP ${code:-none}, not 101"; return 1; }
    echo "/terminal/: 401 without or with a wrong password, ttyd's page and websocket (101) with the card's"
}

grafana_https() {
    local pw health code
    health=$(curl -sk --max-time 10 https://127.0.0.1/grafana/api/health) || { echo "/grafana/api/health unreachable"; return 1; }
    grep -q '"database"' <<<"$health" || { echo "/grafana/api/health answers no health: ${health:0:80}"; return 1; }
    pw=$(card_grafana_password)
    [ -n "$pw" ] || { echo "no Grafana password in the bundle to try"; return 1; }
    code=$(printf '{"user":"admin","password":"%s"}' "$pw" | curl -sk -o /dev/null -w '%{http_code}' --max-time 10 \
        -H 'Content-Type: application/json' --data-binary @- https://127.0.0.1/grafana/login) || true
    [ "$code" = 200 ] || { echo "/grafana/login answers HTTP ${code:-none} to the card's password, not 200"; return 1; }
    echo "/grafana/: health, and admin logs in with the card's password"
}

# The exporter runs as root: only a binary whose SHA-256 is the workshop's recorded (or pinned) one is run at all. An
# unpinned first machine's setup step never ran it, so this is its first --version.
exporter_trusted() {
    local bin want got
    bin=$(command -v ebpf_exporter) || { echo "ebpf_exporter is not installed"; return 1; }
    want=${EBPF_EXPORTER_RECORDED:-${EBPF_EXPORTER_SHA256:-}}
    [ -n "$want" ] || { echo "no recorded SHA-256 to check $bin against: not run (re-run up to record one)"; return 1; }
    got=$(sha256sum "$bin") || return 1
    got=${got%% *}
    [ "$got" = "${want,,}" ] || { echo "$bin has SHA-256 $got, not the recorded one: not run"; return 1; }
}

ebpf_exporter_checked() {
    exporter_trusted || return 1
    ebpf_exporter --version
}

exporter_branch() {
    local dir branch
    dir=$(getent passwd "$ATTENDEE_USER" | cut -d: -f6)/ebpf_exporter
    branch=$(git -c safe.directory='*' -C "$dir" rev-parse --abbrev-ref HEAD 2>&1) || { echo "$branch"; return 1; }
    if [ "$branch" = "$ATTENDEE_GIT_BRANCH" ]; then echo "$dir on $branch"; else echo "$dir on $branch, want $ATTENDEE_GIT_BRANCH"; return 1; fi
}

# ---- Deep checks: the attendee's own path, run for real. -------------------------------------------------------------
# They share state (the built copy, the exporter), so they run in this shell (check_here), not in a subshell.

EXPORTER_PORT=9435
# The pages the workshop's exercises load (scripts/php): plain, one per compile directory, exceptions, memcached.
SAMPLE_PAGES=(test2.php path1/a.php path2/a.php exception.php mem.php)
# The series the dashboard's panels read, by family (the PHP example's php.yaml): histograms by their _count.
PHP_SERIES=(ebpf_exporter_php_request_time_sec_count ebpf_exporter_php_compile_file_total
    ebpf_exporter_php_exception_thrown_total ebpf_exporter_php_exception_caught_total
    ebpf_exporter_memcached_set_val_length_count)
VERIFY_TMP=""
BUILT_COPY=""
EXPORTER_PID=""
EXPORTER_SERVING=0
EXPORTER_SINCE=0
APACHE_RESTARTED=0

# Stops what the deep checks started (the exporter's whole process group: the stand-in's bpftrace too) and removes the
# copy; if apache2 was restarted (for a cold opcache), it is restarted once more so that the attendee's first request
# of each page compiles it again (the compile__file probes fire only on opcache misses).
# With EXPORTER_LINGER (seconds) an exporter that served is left running with its copy for verify's Grafana panel
# queries (`stop-exporter` ends it), and a detached watchdog ends both after that many seconds if nothing else does.
cleanup() {
    if [ "$APACHE_RESTARTED" = 1 ]; then
        systemctl restart apache2 >/dev/null 2>&1 || true
    fi
    if [ -n "$EXPORTER_PID" ] && [ "$EXPORTER_SERVING" = 1 ] && [ "${EXPORTER_LINGER:-0}" -gt 0 ] 2>/dev/null; then
        linger "$EXPORTER_PID" "$VERIFY_TMP"
        return
    fi
    if [ -n "$EXPORTER_PID" ]; then
        stop_group "$EXPORTER_PID"
    fi
    if [ -n "$VERIFY_TMP" ]; then
        rm -rf "$VERIFY_TMP"
    fi
}

LINGERING=/run/workshop-fleet-verify.exporter

linger() { # exporter group, copy: leave them to `stop-exporter` or the watchdog
    local watchdog
    # shellcheck disable=SC2016 # $1..$4 expand in the watchdog's own shell
    setsid bash -c 'sleep "$1"; kill -TERM -- "-$2" 2>/dev/null; sleep 5; kill -KILL -- "-$2" 2>/dev/null; rm -rf "$3" "$4"' \
        linger "$EXPORTER_LINGER" "$1" "$2" "$LINGERING" </dev/null >/dev/null 2>&1 &
    watchdog=$!
    printf '%s %s %s\n' "$1" "$watchdog" "$2" >"$LINGERING"
}

stop_lingering() { # the exporter a previous `checks` left serving, its watchdog and its copy
    local group watchdog copy
    [ -r "$LINGERING" ] || return 0
    read -r group watchdog copy <"$LINGERING" || true
    rm -f "$LINGERING"
    [ -z "$watchdog" ] || kill -TERM -- "-$watchdog" 2>/dev/null || true
    [ -z "$group" ] || stop_group "$group"
    case "$copy" in
        "${TMPDIR:-/tmp}"/workshop-fleet-verify.*) rm -rf "$copy" ;;
    esac
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

stop_group() { # pid of a process group leader
    local i
    kill -TERM -- "-$1" 2>/dev/null || return 0
    for i in $(seq 1 50); do
        kill -0 -- "-$1" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL -- "-$1" 2>/dev/null || true
}

check_here() { # name, command...: like check, in this shell, so the command may leave state for the later checks
    local name=$1 out
    shift
    out=$VERIFY_TMP/check.out
    if "$@" >"$out" 2>&1; then
        report "$name" ok "$(cat "$out")"
    else
        report "$name" fail "$(cat "$out")"
    fi
}

last_line() { # the last non-empty line of a file, for a one-line reason
    grep -v '^[[:space:]]*$' "$1" | tail -n 1 || true
}

hit_pages() { # one request per sample page; a page's own failure (exception.php is a 500) is no error here
    local page
    for page in "${SAMPLE_PAGES[@]}"; do
        curl -s -o /dev/null --max-time 30 "http://127.0.0.1/$page" || true
    done
}

php_module_present() {
    [ -n "$PHP_MODULE" ] || { echo "no PHP module path given (verify passes PHP_MODULE from the OS profile)"; return 1; }
    [ -f "$PHP_MODULE" ] || { echo "$PHP_MODULE does not exist (is libapache2-mod-php installed?)"; return 1; }
}

usdt_probes() {
    local out probe missing=()
    php_module_present || return 1
    out=$(timeout 30 bpftrace -l "usdt:$PHP_MODULE:php:*" 2>&1) || { echo "bpftrace -l failed: $(tail -n 1 <<<"$out")"; return 1; }
    for probe in request__startup request__shutdown compile__file__entry function__entry exception__thrown; do
        grep -q ":php:$probe\$" <<<"$out" || missing+=("$probe")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "$PHP_MODULE lacks USDT probes: ${missing[*]}"
        return 1
    fi
    echo "$(grep -c ':php:' <<<"$out") php:* probes in $PHP_MODULE"
}

# A bounded one-shot: bpftrace waits for one whole request (request__startup to request__shutdown of one thread) while
# curl asks for a page every half second, and counts the function__entry probes in it. Those fire only with
# USE_ZEND_DTRACE=1 in apache2's environment, so a request without any means the exercises' probes are dead.
usdt_fires() {
    local out=$VERIFY_TMP/usdt.out loop line i uri fns apache
    php_module_present || return 1
    local program="usdt:$PHP_MODULE:php:request__startup { @wf_req[tid] = 1; @wf_fn[tid] = 0; }
usdt:$PHP_MODULE:php:function__entry /@wf_req[tid]/ { @wf_fn[tid] = @wf_fn[tid] + 1; }
usdt:$PHP_MODULE:php:request__shutdown /@wf_req[tid]/ { printf(\"fired %s functions=%d\\n\", str(arg1), @wf_fn[tid]);
  delete(@wf_req[tid]); delete(@wf_fn[tid]); exit(); }"
    (for i in $(seq 1 50); do sleep 0.5; curl -s -o /dev/null --max-time 5 http://127.0.0.1/test2.php || true; done) &
    loop=$!
    timeout 25 bpftrace -e "$program" >"$out" 2>&1 || true
    kill "$loop" 2>/dev/null || true
    wait "$loop" 2>/dev/null || true
    line=$(grep -m 1 '^fired ' "$out" || true)
    if [ -z "$line" ]; then
        if apache=$(apache_dtrace 2>&1); then
            echo "php:request__startup did not fire within 25 s: $(last_line "$out")"
        else
            echo "php:request__startup did not fire within 25 s ($apache): $(last_line "$out")"
        fi
        return 1
    fi
    read -r _ uri fns <<<"$line"
    fns=${fns#functions=}
    if [ "$fns" -gt 0 ]; then
        echo "php:request__startup fired for $uri, with $fns php:function__entry"
    else
        echo "php:request__startup fired for $uri but no php:function__entry: apache2 runs without USE_ZEND_DTRACE=1"
        return 1
    fi
}

# The attendee's first `make` in ~/ebpf_exporter/examples, in a throw-away copy (the attendee's tree is not touched),
# as the attendee in a login shell, in a network namespace of its own with no interface up: nothing may be fetched.
attendee_make() {
    local home src copy started secs
    home=$(getent passwd "$ATTENDEE_USER" | cut -d: -f6) || { echo "no user $ATTENDEE_USER"; return 1; }
    src=$home/ebpf_exporter
    [ -d "$src/examples" ] || { echo "$src/examples does not exist"; return 1; }
    # The copy's folder is the attendee's (make writes there); the logs beside it stay root's.
    mkdir "$VERIFY_TMP/attendee"
    chown "$ATTENDEE_USER" "$VERIFY_TMP/attendee"
    copy=$VERIFY_TMP/attendee/ebpf_exporter
    cp -a "$src" "$copy" || { echo "could not copy $src"; return 1; }
    # Objects an attendee built already would make the make a no-op.
    find "$copy/examples" -maxdepth 1 -name '*.bpf.o' -delete
    unshare --net true 2>/dev/null || { echo "cannot create a network namespace to run make offline"; return 1; }
    started=$SECONDS
    if ! timeout 600 unshare --net runuser -l "$ATTENDEE_USER" -c "cd $(printf '%q' "$copy/examples") && make" \
        >"$VERIFY_TMP/make.log" 2>&1; then
        if grep -q 'git clone' "$VERIFY_TMP/make.log"; then
            echo "make needs the network (Makefile.libbpf clones libbpf): $(last_line "$VERIFY_TMP/make.log")"
        else
            echo "make failed offline: $(last_line "$VERIFY_TMP/make.log")"
        fi
        return 1
    fi
    secs=$((SECONDS - started))
    [ -s "$copy/examples/php.bpf.o" ] || { echo "make succeeded but built no examples/php.bpf.o"; return 1; }
    BUILT_COPY=$copy
    echo "make as $ATTENDEE_USER with no network built examples/php.bpf.o in ${secs}s (in a copy of $src)"
}

metrics() {
    curl -fsS --max-time 10 "http://127.0.0.1:$EXPORTER_PORT/metrics"
}

# ebpf_exporter as the workshop starts it (from the built tree, as root like the attendee's sudo), unless one already
# listens on the port Prometheus scrapes; then the sample pages, then its /metrics must hold the dashboard's series.
exporter_php() {
    local trusted page missing=() series i text
    trusted=$(exporter_trusted) || { echo "not run: $trusted"; return 1; }
    [ -n "$BUILT_COPY" ] || { echo "not run: the attendee's build failed (attendee_make)"; return 1; }
    EXPORTER_SINCE=$SECONDS
    if metrics >/dev/null 2>&1; then
        echo -n "an exporter already listens on :$EXPORTER_PORT, used as it is; "
    else
        (cd "$BUILT_COPY" && exec setsid ebpf_exporter --config.dir=examples --config.names=php) \
            >"$VERIFY_TMP/exporter.log" 2>&1 </dev/null &
        EXPORTER_PID=$!
        for i in $(seq 1 60); do
            metrics >/dev/null 2>&1 && break
            if ! kill -0 "$EXPORTER_PID" 2>/dev/null; then
                echo "ebpf_exporter exited: $(last_line "$VERIFY_TMP/exporter.log")"
                return 1
            fi
            [ "$i" -lt 60 ] || { echo "ebpf_exporter did not serve :$EXPORTER_PORT within 30 s"; return 1; }
            sleep 0.5
        done
        echo -n "started ebpf_exporter --config.names=php; "
    fi
    # A cold opcache, so the first request of each page compiles it and the compile__file probes fire.
    if systemctl is-active --quiet apache2 && systemctl restart apache2; then
        APACHE_RESTARTED=1
    fi
    hit_pages
    # An exporter may read its maps a moment after the requests (the lab's stand-in every half second): a few tries.
    for i in $(seq 1 20); do
        text=$(metrics) || { echo "its /metrics does not answer"; return 1; }
        missing=()
        for series in "${PHP_SERIES[@]}"; do
            grep -q "^${series}[{ ]" <<<"$text" || missing+=("${series#ebpf_exporter_}")
        done
        [ "${#missing[@]}" -gt 0 ] || break
        if [ "$i" -eq 20 ]; then
            echo "its /metrics lacks ${missing[*]} (ebpf_exporter_*) after requests to ${SAMPLE_PAGES[*]}"
            return 1
        fi
        sleep 0.5
    done
    EXPORTER_SERVING=1
    echo "$(grep -c '^ebpf_exporter_php_' <<<"$text") ebpf_exporter_php_* samples after requests to the sample pages"
}

samples_in_prometheus() { # series, seconds: how many samples Prometheus took of it in those last seconds (the most of any)
    curl -fsS --max-time 10 -G http://127.0.0.1:9090/api/v1/query --data-urlencode "query=max(count_over_time($1[$2s]))" |
        jq -r '.data.result[0].value[1] // "0"'
}

# Prometheus scrapes every 15 s: the exporter stays up (and the pages keep being asked for, so rate() is not zero)
# until every series has two samples, the least a rate() panel needs, for at most 50 s.
prometheus_php() {
    local series n short deadline=$((SECONDS + 50))
    [ "$EXPORTER_SERVING" = 1 ] || { echo "not run: no exporter serving the PHP series (exporter_php)"; return 1; }
    command -v jq >/dev/null || { echo "jq is not installed (01-packages installs it)"; return 1; }
    while :; do
        short=()
        for series in "${PHP_SERIES[@]}"; do
            # Only samples taken since the exporter was started here count, not those of an earlier verify.
            n=$(samples_in_prometheus "$series" $((SECONDS - EXPORTER_SINCE + 1))) ||
                { echo "Prometheus's query API does not answer"; return 1; }
            [ "${n%%.*}" -ge 2 ] 2>/dev/null || short+=("$series ($n)")
        done
        [ "${#short[@]}" -gt 0 ] || break
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "after 50 s Prometheus has fewer than 2 samples of ${short[*]}"
            return 1
        fi
        hit_pages
        sleep 3
    done
    echo "every ebpf_exporter PHP series has 2+ samples in Prometheus"
}

ACTION="${1:-checks}"
stop_lingering
if [ "$ACTION" = stop-exporter ]; then
    exit 0
fi

check phpinfo phpinfo
check apache_dtrace apache_dtrace
check mem_php mem_php
check bpftrace bpftrace --version
check bpftool bpftool version
check ebpf_exporter ebpf_exporter_checked
check prometheus_ready prometheus_ready
check prometheus_ebpf_target prometheus_ebpf_target
check grafana_health grafana_health
check terminal_https terminal_https
check grafana_https grafana_https
check exporter_branch exporter_branch
VERIFY_TMP=$(mktemp -d "${TMPDIR:-/tmp}/workshop-fleet-verify.XXXXXX")
chmod 0711 "$VERIFY_TMP"
check_here usdt_probes usdt_probes
check_here usdt_fires usdt_fires
check_here attendee_make attendee_make
check_here exporter_php exporter_php
check_here prometheus_php prometheus_php
exit 0
