#!/usr/bin/env bash
# A profile-guided (PGO) release build of switchyard: target/pgo/switchyard.
#
# 1. builds switchyard instrumented (-Cprofile-generate);
# 2. runs it on a training load through a seed-style haproxy.cfg (map
#    routing to two nginx upstreams, a default backend answering itself):
#    keep-alive GETs at -c 10, 50 and 200, POSTs with a body, requests on
#    fresh connections, requests to the default backend, HTTP/2 (h2load, if
#    installed) and Runtime API commands (show stat, show info, set map);
# 3. merges the profile with the toolchain's llvm-profdata (rustup's
#    llvm-tools component, added if missing) and builds again with
#    -Cprofile-use.
#
# The optimised binary behaves as the plain release build; it lays out hot
# and cold code apart, which on the 2-core VM of BENCHMARKS.md cut the
# instructions per proxied request by about a sixth and instruction-cache
# misses to a third.
#
# usage: benches/pgo.sh
# environment: SECS=3 (per training run) BASE_PORT=23000 (ports +80..+90,
#   below 32768) PGO_DIR=target/pgo TRAIN_WITH=debian|own (default: debian
#   when nginx and hey are installed, else own)
# needs: cargo, rustup (or llvm-profdata of the compiler's LLVM), curl;
#   with TRAIN_WITH=debian nginx and hey (h2load optional), with
#   TRAIN_WITH=own nothing more: the upstreams are switchyard-echo and the
#   load is switchyard-load, built here (the Dockerfile trains this way).
#   Every process started here is stopped by its pid.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECS=${SECS:-3}
BASE_PORT=${BASE_PORT:-23000}
PGO_DIR=${PGO_DIR:-$ROOT/target/pgo}
mkdir -p "$PGO_DIR"
PGO_DIR=$(cd "$PGO_DIR" && pwd)

if [[ -z ${TRAIN_WITH:-} ]]; then
    TRAIN_WITH=own
    command -v nginx >/dev/null && command -v hey >/dev/null && TRAIN_WITH=debian
fi
need=(cargo rustc curl)
case $TRAIN_WITH in
debian) need+=(nginx hey) ;;
own) ;;
*) echo "pgo.sh: TRAIN_WITH is debian or own, not '$TRAIN_WITH'" >&2; exit 1 ;;
esac
for t in "${need[@]}"; do
    command -v "$t" >/dev/null || { echo "pgo.sh: $t not found" >&2; exit 1; }
done
host=$(rustc -vV | awk '/^host:/{print $2}')
PROFDATA=$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata
if [[ ! -x $PROFDATA ]]; then
    echo "pgo.sh: adding rustup's llvm-tools component (llvm-profdata of rustc's LLVM)"
    rustup component add llvm-tools
fi
[[ -x $PROFDATA ]] || { echo "pgo.sh: $PROFDATA not found" >&2; exit 1; }

UP_BLUE=$((BASE_PORT + 80)) UP_GREEN=$((BASE_PORT + 81))
PORT=$((BASE_PORT + 85)) STATS=$((BASE_PORT + 90))
for p in $UP_BLUE $UP_GREEN $PORT $STATS; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        echo "pgo.sh: port $p is in use; set BASE_PORT" >&2
        exit 1
    fi
done

WORK=$(mktemp -d /tmp/sy-pgo.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "== 1/3 instrumented build"
# Build scripts run instrumented too; their profiles go to a throwaway
# directory (the proxy's own is named by LLVM_PROFILE_FILE below).
RUSTFLAGS="-Cprofile-generate=$WORK/build-profiles" CARGO_TARGET_DIR="$PGO_DIR/gen" \
    cargo build --release -q -p switchyard

echo "== 2/3 training load ($TRAIN_WITH tools)"
LOAD=hey
if [[ $TRAIN_WITH == own ]]; then
    # The demo upstream and the load generator, plain release builds.
    cargo build --release -q -p switchyard-loadtest --bins
    TOOLS=${CARGO_TARGET_DIR:-$ROOT/target}/release
    LOAD=$TOOLS/switchyard-load
fi
mkdir -p "$WORK/tmp"
cat >"$WORK/upstream.conf" <<EOF
master_process off;
daemon off;
pid $WORK/upstream.pid;
error_log $WORK/upstream.err warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/tmp/body;
    proxy_temp_path $WORK/tmp/proxy;
    fastcgi_temp_path $WORK/tmp/fcgi;
    uwsgi_temp_path $WORK/tmp/uwsgi;
    scgi_temp_path $WORK/tmp/scgi;
    keepalive_requests 1000000;
    server { listen 127.0.0.1:$UP_BLUE; location / { return 200 "blue\n"; } }
    server { listen 127.0.0.1:$UP_GREEN; location / { return 200 "green\n"; } }
}
EOF
echo "SIMPLE_SERVICE blue" >"$WORK/hosts.map"
cat >"$WORK/haproxy.cfg" <<EOF
global
    maxconn 4000
    nbthread 1
    stats socket ipv4@127.0.0.1:$STATS level admin

defaults
    mode    http
    http-reuse aggressive
    timeout connect 2s
    timeout client 1m
    timeout server 30s

frontend igw
    bind 127.0.0.1:$PORT
    option forwardfor
    default_backend DEFAULT
    use_backend %[str(SIMPLE_SERVICE),map($WORK/hosts.map)] if { path_beg / } !{ path_beg /none }

backend blue
    balance roundrobin
    server blue 127.0.0.1:$UP_BLUE

backend green
    balance roundrobin
    server green 127.0.0.1:$UP_GREEN

backend DEFAULT
    http-request return status 404 content-type "text/html" string "Default backend"
EOF
if [[ $TRAIN_WITH == debian ]]; then
    nginx -c "$WORK/upstream.conf" -p "$WORK/" >/dev/null 2>&1 &
    PIDS+=($!)
else
    for up in blue:$UP_BLUE green:$UP_GREEN; do
        "$TOOLS/switchyard-echo" --name "${up%%:*}" --port "${up#*:}" >/dev/null 2>&1 &
        PIDS+=($!)
    done
fi
URL="http://127.0.0.1:$PORT"
# start_proxy <binary> <log>: runs it on the training config (SY is its
# pid) and waits until it serves.
start_proxy() {
    "$1" -db -f "$WORK/haproxy.cfg" >"$2" 2>&1 &
    SY=$!
    PIDS+=("$SY")
    for _ in $(seq 100); do curl -sf "$URL/" >/dev/null && break; sleep 0.1; done
    curl -sf "$URL/" >/dev/null || { echo "pgo.sh: $1 does not serve:" >&2; cat "$2" >&2; exit 1; }
}
# A soft stop: the process exits normally (which is when an instrumented
# build writes its profile).
soft_stop() {
    kill -USR1 "$SY"
    wait "$SY" || true
}
LLVM_PROFILE_FILE="$WORK/switchyard-%p.profraw" \
    start_proxy "$PGO_DIR/gen/release/switchyard" "$WORK/proxy.log"
# One Runtime API command per connection, as socat sends it; the reply ends
# with the close.
api() {
    exec 3<>"/dev/tcp/127.0.0.1/$STATS"
    printf '%s\n' "$1" >&3
    cat <&3 >/dev/null
    exec 3<&-
}
# A training run that fails is no training: every answer must be a 200.
for c in 10 50 200; do
    "$LOAD" -z "${SECS}s" -c "$c" "$URL/" >"$WORK/hey-$c.txt"
    if ! awk '/Status code distribution/ { f = 1; next }
              /Error distribution/ { bad = 1 }
              f && /\[[0-9]+\]/ { if ($1 != "[200]") bad = 1 }
              END { exit bad }' "$WORK/hey-$c.txt"; then
        echo "pgo.sh: the training load got answers other than 200:" >&2
        cat "$WORK/hey-$c.txt" >&2
        exit 1
    fi
done
"$LOAD" -z "${SECS}s" -c 20 -m POST -d "$(head -c 2000 /dev/zero | tr '\0' x)" "$URL/post" >/dev/null
"$LOAD" -z "${SECS}s" -c 20 -disable-keepalive "$URL/" >/dev/null
"$LOAD" -z 1s -c 10 "$URL/none" >/dev/null
if [[ $TRAIN_WITH == debian ]] && command -v h2load >/dev/null; then
    h2load -D "$SECS" -c 10 -m 10 "$URL/" >/dev/null
fi
for i in $(seq 20); do
    api "show stat"
    api "show info"
    api "set map $WORK/hosts.map SIMPLE_SERVICE $([[ $((i % 2)) == 0 ]] && echo blue || echo green)"
    "$LOAD" -n 200 -c 4 "$URL/" >/dev/null
done
soft_stop
shopt -s nullglob
raw=("$WORK"/switchyard-*.profraw)
[[ ${#raw[@]} -gt 0 ]] || { echo "pgo.sh: no profile written" >&2; exit 1; }
"$PROFDATA" merge -o "$PGO_DIR/switchyard.profdata" "${raw[@]}"

echo "== 3/3 optimised build"
RUSTFLAGS="-Cprofile-use=$PGO_DIR/switchyard.profdata -Cllvm-args=-pgo-warn-missing-function=false" \
    CARGO_TARGET_DIR="$PGO_DIR/use" cargo build --release -q -p switchyard
cp "$PGO_DIR/use/release/switchyard" "$PGO_DIR/switchyard"
# The optimised binary serves the same config.
start_proxy "$PGO_DIR/switchyard" "$WORK/proxy-pgo.log"
status=$(curl -s -o /dev/null -w '%{http_code}' "$URL/" || true)
soft_stop
[[ $status == 200 ]] || { echo "pgo.sh: the optimised build does not serve (status $status)" >&2; exit 1; }
echo "built $PGO_DIR/switchyard (profile: $PGO_DIR/switchyard.profdata)"
