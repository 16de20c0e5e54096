#!/usr/bin/env bash
# Cutover demo / soak run: two switchyard-echo upstreams (blue, green) behind a proxy
# routing by map (seed 000's setup, on loopback), then
# `switchyard-load scenario cutover` flipping the map N times under load.
# Exits with the scenario's status (0 = no request failed). Everything it starts is
# stopped by pid on exit.
#
#   loadtest/scenarios/cutover-demo.sh [--proxy /usr/sbin/haproxy] [--cutovers 20]
#                                      [-c 50] [--interval 250ms] [--report DIR]
#
# --proxy takes any binary with haproxy's `-db -f <cfg>` command line: real HAProxy
# (default) or target/debug/switchyard. Binaries come from target/debug (built if
# missing); set LOAD_BIN / ECHO_BIN to use others.
set -euo pipefail

proxy=/usr/sbin/haproxy
cutovers=20
conc=50
interval=250ms
report=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --proxy) proxy=$2; shift 2 ;;
        --cutovers) cutovers=$2; shift 2 ;;
        -c) conc=$2; shift 2 ;;
        --interval) interval=$2; shift 2 ;;
        --report) report=$2; shift 2 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

root=$(cd "$(dirname "$0")/../.." && pwd)
if [[ -z "${LOAD_BIN:-}" || -z "${ECHO_BIN:-}" ]]; then
    (cd "$root" && cargo build -q -p switchyard-loadtest --bins)
fi
load=${LOAD_BIN:-$root/target/debug/switchyard-load}
echo_bin=${ECHO_BIN:-$root/target/debug/switchyard-echo}

dir=$(mktemp -d -t switchyard-cutover-XXXXXX)
report=${report:-$dir/report}
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# A free loopback port below 32768 (HAProxy needs the number in its config).
free_port() {
    python3 - <<'EOF'
import random, socket
while True:
    port = random.randint(10000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        print(port)
        break
    except OSError:
        pass
    finally:
        s.close()
EOF
}

start_echo() { # name -> sets $port (no subshell: its pid must reach the cleanup)
    "$echo_bin" --port 0 --name "$1" >"$dir/$1.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
        port=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$dir/$1.log")
        [[ -n "$port" ]] && return
        sleep 0.05
    done
    echo "$1 did not start" >&2
    exit 1
}

start_echo blue; blue=$port
start_echo green; green=$port
stats=$(free_port)
front=$(free_port)
echo "SIMPLE_SERVICE blue" >"$dir/hosts.map"
cat >"$dir/haproxy.cfg" <<EOF
global
    maxconn 8192
    stats socket ipv4@127.0.0.1:$stats level admin
    stats timeout 2m
defaults
    mode http
    option http-keep-alive
    timeout connect 2s
    timeout client 1m
    timeout server 5s
frontend igw
    bind 127.0.0.1:$front
    default_backend DEFAULT
    use_backend %[str(SIMPLE_SERVICE),map($dir/hosts.map)]
backend blue
    option httpchk
    http-check send meth GET uri /healthz
    server blue 127.0.0.1:$blue check inter 200ms fall 2 rise 2
backend green
    option httpchk
    http-check send meth GET uri /healthz
    server green 127.0.0.1:$green check inter 200ms fall 2 rise 2
backend DEFAULT
    http-request return status 404 content-type "text/html" string "Default backend"
EOF
"$proxy" -db -f "$dir/haproxy.cfg" >"$dir/proxy.log" 2>&1 &
pids+=($!)

status=0
"$load" scenario cutover \
    --url "http://127.0.0.1:$front/" --stats-socket "127.0.0.1:$stats" \
    --map "$dir/hosts.map" --key SIMPLE_SERVICE --from blue --to green \
    --cutovers "$cutovers" --interval "$interval" -c "$conc" \
    --backend-header X-Served-By --report "$report" --event-file "$dir/events" || status=$?
echo "proxy log: $dir/proxy.log; report: $report"
exit $status
