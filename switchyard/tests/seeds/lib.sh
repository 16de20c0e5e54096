#!/bin/bash
# Shared by the seed drivers (seed000.sh, seed001.sh, seed004.sh). They run as root inside
# fresh namespaces made by the Rust tests:
#   unshare --net --mount --pid --fork --kill-child --mount-proc --propagation private bash <driver>
# so the addresses the seeds name (127.0.0.53:53, *:80, 10.10.x.x, /home/dong/…, /etc/haproxy,
# /run/haproxy) exist only inside them and nothing can leave the machine.
#
# Inputs (environment): PROXY_BIN (switchyard or /usr/sbin/haproxy), ECHO_BIN, TESTDNS_BIN,
# WORK (a host directory for logs and hey's output), HEY_N, HEY_C.
# Output: lines "STEP <name>: ok|FAIL …" on stdout; exit 0 only if every check passed.

SEEDS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FAILURES=0
BG_PIDS=()

log() { echo "[$(date +%T.%3N)] $*"; }
ok() { echo "STEP $1: ok${2:+ ($2)}"; }
fail() {
    echo "STEP $1: FAIL $2"
    FAILURES=$((FAILURES + 1))
}

# Refuse to run anywhere but a fresh network namespace: only `lo` may exist, so a config
# naming 192.168.1.1 or 10.10.x.x can never reach a real network.
require_fresh_netns() {
    local others
    others=$(ip -o link show | awk -F': ' '{print $2}' | grep -v '^lo$' || true)
    if [[ -n $others ]]; then
        echo "refusing to run: not inside a fresh network namespace (links: $others)" >&2
        exit 97
    fi
    if [[ $$ -ne 1 ]]; then
        echo "refusing to run: not PID 1 of a fresh PID namespace" >&2
        exit 97
    fi
    ip link set lo up
}

cleanup() {
    local pid
    for pid in "${BG_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    # Echo upstreams started by the fake docker.
    for pid in "$WORK"/state/*.pid; do
        [[ -f $pid ]] && kill -TERM "$(cat "$pid")" 2>/dev/null
    done
    sleep 0.3
    for pid in "${BG_PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null
    done
}

# Background process whose pid the EXIT trap stops.
track() { BG_PIDS+=("$1"); }

# wait_until <seconds> <command…>: polls every 0.1 s.
wait_until() {
    local limit=$1 start
    shift
    start=$(date +%s)
    while ! "$@" >/dev/null 2>&1; do
        if (($(date +%s) - start >= limit)); then
            return 1
        fi
        sleep 0.1
    done
}

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# The proxy binary as `haproxy` on PATH, so the seeds' commands run as printed.
install_haproxy_shim() {
    mkdir -p "$WORK/bin"
    if [[ $PROXY_BIN != /usr/sbin/haproxy ]]; then
        ln -sf "$PROXY_BIN" "$WORK/bin/haproxy"
    fi
    # Stand-ins for commands the seeds call that this machine lacks: docker, sudo, systemctl.
    cp "$SEEDS_DIR"/bin/* "$WORK/bin/"
    export PATH="$WORK/bin:$PATH"
}

start_testdns() {
    local records=() r
    # TESTDNS_RECORDS (e.g. "localhost=127.0.0.1 localhost=::1") overrides the answers.
    for r in ${TESTDNS_RECORDS:-localhost=127.0.0.1}; do
        records+=(--record "$r")
    done
    "$TESTDNS_BIN" --listen 127.0.0.53:53 "${records[@]}" >"$WORK/dns.log" 2>&1 &
    track $!
    wait_until 10 tcp_open 127.0.0.53 53 || { fail dns "test DNS server did not start"; exit 1; }
}

dns_queried() { grep -q '^query localhost\. ' "$WORK/dns.log"; }

# The proxy must resolve the servers' `localhost` through `resolvers local` (ns1, our
# DNS server), not through the system resolver.
check_resolver_used() {
    if wait_until 10 dns_queried; then
        ok resolver-queried "$(grep -c '^query ' "$WORK/dns.log") queries to 127.0.0.53:53 so far"
    else
        fail resolver-queried "no query reached nameserver ns1 127.0.0.53:53 within 10 s"
    fi
}

# status of server <name> in `show stat` on the TCP socket at 127.0.0.1:9000.
status_9000() {
    echo "show stat" | socat stdio tcp4-connect:127.0.0.1:9000 | awk -F, -v s="$1" '$2==s {print $18}'
}

is_up_9000() { [[ $(status_9000 "$1") == UP ]]; }

# served_by <url>: "<name> <version>" of the upstream answering (X-Served-By + echo JSON).
served_by() {
    local out name version
    out=$(curl -s -m 5 -D - "$1") || { echo "curl-failed"; return; }
    name=$(printf '%s' "$out" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-served-by" {print $2}')
    version=$(printf '%s' "$out" | grep -o '"version":"[^"]*"' | head -1 | cut -d'"' -f4)
    echo "$name $version"
}

# check_served <step> <url> <expected "name version">: a few requests must all agree.
check_served() {
    local step=$1 url=$2 want=$3 got i
    for i in 1 2 3 4 5; do
        got=$(served_by "$url")
        if [[ $got != "$want" ]]; then
            fail "$step" "request $i served by '$got', expected '$want'"
            return
        fi
    done
    ok "$step" "served by $want"
}

hey_running() { kill -0 "$HEY_PID" 2>/dev/null; }

# start_hey <args…>: hey in the background, its report in $WORK/${HEY_OUT:-hey.txt}.
start_hey() {
    log "hey $*"
    hey "$@" >"$WORK/${HEY_OUT:-hey.txt}" 2>>"$WORK/hey.err" &
    HEY_PID=$!
    track "$HEY_PID"
    date +%s.%N >"$WORK/hey.start"
}

# finish_hey <max seconds> [step name]: lets hey finish its -n requests; after the limit
# it gets SIGINT, on which hey stops sending and still prints its report. The step checks
# that hey was still sending when called (its load covered everything before).
finish_hey() {
    local limit=$1 step=${2:-hey-covered-deploy}
    if hey_running; then
        ok "$step" "hey was still sending when the steps finished"
    else
        fail "$step" "hey finished before the steps did: raise HEY_N"
    fi
    if ! wait_until "$limit" bash -c "! kill -0 $HEY_PID"; then
        log "hey still running after ${limit}s more: SIGINT"
        kill -INT "$HEY_PID"
    fi
    wait "$HEY_PID"
    echo "hey exit status: $?" >>"$WORK/hey.err"
}
