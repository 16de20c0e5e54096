#!/usr/bin/env bash
# switchyard vs haproxy 2.6 vs nginx, side by side on this machine, in one run.
#
# The same upstream (nginx serving a static 200 "blue\n"/"green\n" on two
# ports), the same haproxy.cfg for switchyard and haproxy (seed 000's map
# routing, nbthread 1), an equivalent nginx proxy config, the same wrk load,
# in alternating rounds (round 1: each proxy, round 2: each proxy, ...).
# Only one proxy runs at a time, on the same port.
#
# Per proxy and round it measures: CPU time per request (utime+stime of the
# proxy process(es) from /proc/<pid>/stat across a wrk run, divided by the
# requests wrk completed), requests/s, p50/p99 latency at each concurrency
# of $SWEEP, RSS after load, RSS with $IDLE idle keep-alive connections
# (sy-idle-conns), and for the proxies with a Runtime API: `set map` over the
# stats socket → first response from the new backend, requests answered by
# the old backend after `set map` returned, and failed requests across
# $FLIPS cutovers under -c $CUTOVER_CONNS (sy-cutover). Then it prints the
# medians and the ratios to haproxy as markdown tables.
#
# usage: benches/compare.sh [--quick]
# environment: ROUNDS=3 DURATION=8 SWEEP="10 50 200 500 1000" MAIN_CONNS=50
#   IDLE=10000 MAXCONN=12000 FLIPS=100 CUTOVER_CONNS=200 NBTHREAD=1 WRK_THREADS=1
#   PROXIES="switchyard haproxy nginx" BASE_PORT=21000 OUT=target/compare/<time>
#   SWITCHYARD=target/release/switchyard (the binary measured; e.g. the
#   profile-guided build of benches/pgo.sh, target/pgo/switchyard)
#   PERF=1 (perf record each proxy during round 1's -c $MAIN_CONNS run)
#   PIN_PROXY=0-3 PIN_LOAD=4-7 (taskset CPU lists; for bigger machines)
#
# Everything listens on 127.0.0.1, ports $BASE_PORT+80.. (below 32768);
# every process started here is stopped by its pid on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
SWEEP=${SWEEP:-"10 50 200 500 1000"}
MAIN_CONNS=${MAIN_CONNS:-50}
IDLE=${IDLE:-10000}
MAXCONN=${MAXCONN:-12000}
FLIPS=${FLIPS:-100}
CUTOVER_CONNS=${CUTOVER_CONNS:-200}
NBTHREAD=${NBTHREAD:-1}
WRK_THREADS=${WRK_THREADS:-1}
PROXIES=${PROXIES:-"switchyard haproxy nginx"}
BASE_PORT=${BASE_PORT:-21000}
PERF=${PERF:-0}
# CPU lists for taskset (bigger machines): the proxy on its own cores, the
# upstream and the load generators on others. Empty: no pinning.
PIN_PROXY=${PIN_PROXY:-}
PIN_LOAD=${PIN_LOAD:-}
# Command prefixes, not a function: a backgrounded function would run in a
# subshell and $! would not be the process measured (taskset execs, so $!
# stays the command's pid).
ON_PROXY=() ON_LOAD=()
[[ -n $PIN_PROXY ]] && ON_PROXY=(taskset -c "$PIN_PROXY")
[[ -n $PIN_LOAD ]] && ON_LOAD=(taskset -c "$PIN_LOAD")
if [[ ${1:-} == --quick ]]; then
    ROUNDS=1 DURATION=3 SWEEP="50" IDLE=1000 FLIPS=10
fi
OUT=${OUT:-$ROOT/target/compare/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# What compare-summary.sh needs to render the tables again later.
cat >"$OUT/params.env" <<EOF
ROUNDS=$ROUNDS DURATION=$DURATION MAIN_CONNS=$MAIN_CONNS IDLE=$IDLE FLIPS=$FLIPS
CUTOVER_CONNS=$CUTOVER_CONNS NBTHREAD=$NBTHREAD WRK_THREADS=$WRK_THREADS
SWEEP="$SWEEP"
RUN_DATE="$(date -u '+%Y-%m-%d %H:%M UTC')" CORES=$(nproc)
EOF

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Other work on this machine binds fixed ports too: take the first base (in
# steps of 100) whose four ports are all free.
for ((try = 0; try < 20; try++)); do
    UP_BLUE=$((BASE_PORT + 80)) UP_GREEN=$((BASE_PORT + 81))
    PROXY_PORT=$((BASE_PORT + 85)) STATS_PORT=$((BASE_PORT + 90))
    if ((STATS_PORT >= 32768)); then
        echo "BASE_PORT too high: ports must stay below 32768" >&2
        exit 2
    fi
    if ! listening $UP_BLUE && ! listening $UP_GREEN && ! listening $PROXY_PORT && ! listening $STATS_PORT; then
        break
    fi
    BASE_PORT=$((BASE_PORT + 100))
done

HAPROXY=/usr/sbin/haproxy
NGINX=/usr/sbin/nginx
# SWITCHYARD=target/pgo/switchyard measures benches/pgo.sh's build.
SWITCHYARD=${SWITCHYARD:-$ROOT/target/release/switchyard}
HELPERS=$ROOT/target/release
CLK_TCK=$(getconf CLK_TCK)

# 10k idle client connections (plus the proxy's own sockets) need fds.
ulimit -n "$(ulimit -Hn)"

WORK=$(mktemp -d /tmp/sy-compare.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" | tee -a "$OUT/run.log" >&2; }
# round proxy metric concurrency value
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$OUT/results.tsv"; }
: >"$OUT/results.tsv"

# ---------------------------------------------------------------- configs

echo "SIMPLE_SERVICE blue" >"$WORK/hosts.map"
MAP="$WORK/hosts.map"
mkdir -p "$WORK/tmp"

# Seed 000's frontend/backends (the same text as benches/src/gen.rs MapCfg),
# without logging, health checks or DNS: nothing but the request path.
# maxconn 12000 (the default MAXCONN) makes haproxy want 24k fds; the hard
# limit here is 20000 and cannot be raised, so `no strict-limits` lets it
# start anyway (it then warns). 10k idle client connections need ~10k fds.
cat >"$WORK/haproxy.cfg" <<EOF
global
    maxconn $MAXCONN
    no strict-limits
    nbthread $NBTHREAD
    stats socket ipv4@127.0.0.1:$STATS_PORT level admin
    stats timeout 2m

defaults
    mode    http
    http-reuse aggressive
    timeout connect 2s
    timeout client 5m
    timeout server 30s
    timeout http-keep-alive 5m

frontend igw
    bind 127.0.0.1:$PROXY_PORT
    maxconn $MAXCONN
    mode http
    default_backend DEFAULT
    option forwardfor
    use_backend %[str(SIMPLE_SERVICE),map($MAP)]

backend blue
    mode http
    option http-keep-alive
    balance roundrobin
    server blue 127.0.0.1:$UP_BLUE

backend green
    mode http
    option http-keep-alive
    balance roundrobin
    server green 127.0.0.1:$UP_GREEN

backend DEFAULT
    http-request return status 404 content-type "text/html" string "Default backend"
EOF

nginx_common() {
    cat <<EOF
daemon off;
pid $WORK/$1.pid;
error_log $WORK/$1.err warn;
worker_rlimit_nofile 20000;
events { worker_connections 19000; }
EOF
}

nginx_temp() {
    cat <<EOF
    client_body_temp_path $WORK/tmp/body-$1;
    proxy_temp_path $WORK/tmp/proxy-$1;
    fastcgi_temp_path $WORK/tmp/fcgi-$1;
    uwsgi_temp_path $WORK/tmp/uwsgi-$1;
    scgi_temp_path $WORK/tmp/scgi-$1;
EOF
}

# The neutral upstream: one nginx process, two static answers.
{
    echo "master_process off;"
    nginx_common upstream
    cat <<EOF
http {
    access_log off;
$(nginx_temp upstream)
    keepalive_timeout 300s;
    keepalive_requests 1000000;
    server { listen 127.0.0.1:$UP_BLUE backlog=4096; location / { return 200 "blue\n"; } }
    server { listen 127.0.0.1:$UP_GREEN backlog=4096; location / { return 200 "green\n"; } }
}
EOF
} >"$WORK/nginx-upstream.conf"

# nginx as the proxy: the same route (blue), X-Forwarded-For, keep-alive on
# both sides with no per-connection request cap. One process for nbthread 1
# (master_process off), else a master and $NBTHREAD workers.
{
    if ((NBTHREAD == 1)); then echo "master_process off;"; else echo "worker_processes $NBTHREAD;"; fi
    nginx_common proxy
    cat <<EOF
http {
    access_log off;
$(nginx_temp proxy)
    keepalive_timeout 300s;
    keepalive_requests 1000000;
    upstream blue {
        server 127.0.0.1:$UP_BLUE;
        keepalive 512;
        keepalive_requests 1000000;
        keepalive_timeout 300s;
    }
    server {
        listen 127.0.0.1:$PROXY_PORT backlog=4096;
        location / {
            proxy_pass http://blue;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For \$remote_addr;
        }
    }
}
EOF
} >"$WORK/nginx-proxy.conf"

cp "$WORK/haproxy.cfg" "$WORK/nginx-proxy.conf" "$WORK/nginx-upstream.conf" "$OUT/"

# ---------------------------------------------------------------- helpers

# wait_for <seconds> <command...>: poll until the command succeeds.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.05
    done
}

answers_blue() { [[ $(curl -s --max-time 2 "http://127.0.0.1:$1/" 2>/dev/null) == blue ]]; }
port_free() { ! listening "$1"; }

# The pid and its children (nginx workers), one per line.
pid_tree() {
    echo "$1"
    cat "/proc/$1/task/$1/children" 2>/dev/null | tr ' ' '\n' | grep -v '^$' || true
}

# utime+stime in clock ticks, summed over the tree. The comm field may hold
# spaces, so fields are counted after the last ')'.
cpu_ticks() {
    local total=0 p rest
    for p in $(pid_tree "$1"); do
        rest=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
        set -- $rest
        total=$((total + ${12} + ${13}))
    done
    echo "$total"
}

# Exact resident memory from smaps_rollup (VmRSS is read from per-CPU
# counters that may lag by hundreds of KiB); VmRSS where it is missing.
rss_kb() {
    local total=0 p v
    for p in $(pid_tree "$1"); do
        v=$(awk '/^Rss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null) ||
            v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null) || continue
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

# wrk latency "245.00us" / "1.23ms" / "1.02s" → milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.4f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.4f", v }
        else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.4f", v * 60000 }
        else { sub(/s$/, "", v); printf "%.4f", v * 1000 }
    }'
}

start_upstream() {
    "${ON_LOAD[@]}" "$NGINX" -c "$WORK/nginx-upstream.conf" -p "$WORK/" >"$OUT/upstream.out" 2>&1 &
    UPSTREAM_PID=$!
    PIDS+=("$UPSTREAM_PID")
    wait_for 10 answers_blue "$UP_BLUE" || { log "upstream nginx did not start"; cat "$WORK/upstream.err" >&2; exit 1; }
}

# start_proxy <name>: sets PROXY_PID; returns 1 if it does not answer.
start_proxy() {
    local name=$1
    wait_for 20 port_free "$PROXY_PORT" || { log "port $PROXY_PORT still busy"; return 1; }
    case $name in
        haproxy) "${ON_PROXY[@]}" "$HAPROXY" -db -f "$WORK/haproxy.cfg" >>"$OUT/$name.out" 2>&1 & ;;
        switchyard) "${ON_PROXY[@]}" "$SWITCHYARD" -db -f "$WORK/haproxy.cfg" >>"$OUT/$name.out" 2>&1 & ;;
        nginx) "${ON_PROXY[@]}" "$NGINX" -c "$WORK/nginx-proxy.conf" -p "$WORK/" >>"$OUT/$name.out" 2>&1 & ;;
    esac
    PROXY_PID=$!
    PIDS+=("$PROXY_PID")
    if ! wait_for 15 answers_blue "$PROXY_PORT"; then
        stop_proxy
        return 1
    fi
}

stop_proxy() {
    if kill -0 "$PROXY_PID" 2>/dev/null; then
        kill "$PROXY_PID" 2>/dev/null || true
        wait "$PROXY_PID" 2>/dev/null || true
    fi
}

# run_wrk <round> <proxy> <conns> <seconds> [record]: one measured run.
run_wrk() {
    local round=$1 name=$2 conns=$3 dur=$4 rec=${5:-record}
    local threads=$WRK_THREADS f="$OUT/wrk-$name-r$round-c$conns.txt"
    ((threads > conns)) && threads=$conns
    local t0 t1 perf_pid=""
    if [[ $PERF == 1 && $round == 1 && $conns == "$MAIN_CONNS" && $rec == record ]] && command -v perf >/dev/null; then
        perf record -q -g -o "$OUT/perf-$name.data" -p "$PROXY_PID" >/dev/null 2>&1 &
        perf_pid=$!
        PIDS+=("$perf_pid")
        sleep 0.2
    fi
    t0=$(cpu_ticks "$PROXY_PID")
    "${ON_LOAD[@]}" wrk -t"$threads" -c"$conns" -d"${dur}s" --latency "http://127.0.0.1:$PROXY_PORT/" >"$f" 2>&1 || true
    t1=$(cpu_ticks "$PROXY_PID")
    if [[ -n $perf_pid ]]; then
        kill -INT "$perf_pid" 2>/dev/null || true
        wait "$perf_pid" 2>/dev/null || true
    fi
    [[ $rec == record ]] || return 0
    local reqs rps p50 p99 non2xx sockerr
    reqs=$(awk '/requests in/ {print $1}' "$f")
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$f")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$f")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$f")")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$f")
    sockerr=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$f")
    if [[ -z $reqs || $reqs == 0 ]]; then
        log "$name c=$conns: wrk completed no requests (see $f)"
        return 0
    fi
    record "$round" "$name" cpu_us_per_req "$conns" \
        "$(awk -v d=$((t1 - t0)) -v n="$reqs" -v hz="$CLK_TCK" 'BEGIN {printf "%.2f", d * 1e6 / hz / n}')"
    record "$round" "$name" rps "$conns" "$rps"
    record "$round" "$name" p50_ms "$conns" "$p50"
    record "$round" "$name" p99_ms "$conns" "$p99"
    record "$round" "$name" errors "$conns" "$((${non2xx:-0} + ${sockerr:-0}))"
    log "$name r$round c=$conns: $rps req/s, p50 ${p50}ms, p99 ${p99}ms, cpu $(((t1 - t0) * 1000 / CLK_TCK))ms/$reqs req, errors $((${non2xx:-0} + ${sockerr:-0}))"
}

idle_test() {
    local round=$1 name=$2 before after f="$OUT/idle-$name-r$round.txt" hp
    # The same short warm-up for every proxy, then the baseline.
    "${ON_LOAD[@]}" wrk -t1 -c10 -d1s "http://127.0.0.1:$PROXY_PORT/" >/dev/null 2>&1 || true
    before=$(rss_kb "$PROXY_PID")
    record "$round" "$name" rss_fresh_mib 0 "$(awk -v k="$before" 'BEGIN {printf "%.1f", k / 1024}')"
    "${ON_LOAD[@]}" "$HELPERS/sy-idle-conns" "127.0.0.1:$PROXY_PORT" "$IDLE" --hold-secs 300 >"$f" 2>&1 &
    hp=$!
    PIDS+=("$hp")
    if ! wait_for 180 grep -qs '^ready' "$f"; then
        log "$name: idle connections not ready (see $f)"
        kill "$hp" 2>/dev/null || true
        wait "$hp" 2>/dev/null || true
        return 0
    fi
    sleep 1 # let the proxy settle buffers freed after the one request
    after=$(rss_kb "$PROXY_PID")
    kill "$hp" 2>/dev/null || true
    wait "$hp" 2>/dev/null || true
    local opened failed
    read -r _ opened failed < <(grep '^ready' "$f")
    record "$round" "$name" rss_idle_mib "$IDLE" "$(awk -v k="$after" 'BEGIN {printf "%.1f", k / 1024}')"
    record "$round" "$name" idle_failed "$IDLE" "$failed"
    if ((opened > 0)); then
        record "$round" "$name" bytes_per_idle_conn "$IDLE" \
            "$(awk -v a="$after" -v b="$before" -v n="$opened" 'BEGIN {printf "%.0f", (a - b) * 1024 / n}')"
    fi
    log "$name r$round: RSS ${before}kB → ${after}kB with $opened idle connections ($failed failed)"
}

cutover_test() {
    local round=$1 name=$2 conns=$3 flips=$4 tag=$5 f line
    f="$OUT/cutover-$name-r$round-$tag.txt"
    "${ON_LOAD[@]}" "$HELPERS/sy-cutover" --target "127.0.0.1:$PROXY_PORT" --stats "127.0.0.1:$STATS_PORT" \
        --map "$MAP" -c "$conns" --flips "$flips" --interval-ms 100 >"$f" 2>&1 || true
    line=$(grep '^RESULT' "$f" || true)
    if [[ -z $line ]]; then
        log "$name: cutover probe failed (see $f)"
        return 0
    fi
    local kv k v
    for kv in ${line#RESULT }; do
        k=${kv%%=*} v=${kv#*=}
        case $k in
            failed | stale | first_new_p50_ms | first_new_max_ms | rtt_p50_ms | missing_new | requests)
                record "$round" "$name" "cutover_${tag}_$k" "$conns" "$v" ;;
        esac
    done
    log "$name r$round cutover -c $conns: ${line#RESULT }"
}

# ---------------------------------------------------------------- run

command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }
log "building switchyard and the helpers (release)"
# The proxy too: a stale binary would be measured without a word.
cargo build --release -q -p switchyard
cargo build --release -q -p switchyard-benches --no-default-features --bins

ACTIVE=()
for p in $PROXIES; do
    case $p in
        haproxy) [[ -x $HAPROXY ]] && ACTIVE+=(haproxy) || log "haproxy not installed: skipped" ;;
        nginx) [[ -x $NGINX ]] && ACTIVE+=(nginx) || log "nginx not installed: skipped" ;;
        switchyard)
            if [[ ! -x $SWITCHYARD ]]; then
                log "switchyard not ready: $SWITCHYARD not built (cargo build --release -p switchyard)"
            elif ! "$SWITCHYARD" -c -f "$WORK/haproxy.cfg" >"$OUT/switchyard-check.txt" 2>&1; then
                log "switchyard not ready: -c rejects the config: $(tail -n 3 "$OUT/switchyard-check.txt" | tr '\n' ' ')"
            else
                ACTIVE+=(switchyard)
            fi ;;
        *) log "unknown proxy $p" ;;
    esac
done

start_upstream
log "upstream nginx pid $UPSTREAM_PID on :$UP_BLUE (blue) and :$UP_GREEN (green); proxies on :$PROXY_PORT"
log "switchyard binary: $SWITCHYARD"
log "machine: $(nproc) cores; $(uname -r); $("$HAPROXY" -v | head -n 1); $("$NGINX" -v 2>&1)"

for ((round = 1; round <= ROUNDS; round++)); do
    for name in "${ACTIVE[@]}"; do
        if ! start_proxy "$name"; then
            if [[ $name == switchyard ]]; then
                log "switchyard not ready: it does not serve the config (see $OUT/switchyard.out)"
                tail -n 5 "$OUT/switchyard.out" >&2 || true
            else
                log "$name did not start (see $OUT/$name.out)"
            fi
            continue
        fi
        log "round $round: $name (pid $PROXY_PID)"
        run_wrk "$round" "$name" "$MAIN_CONNS" 2 warmup
        for c in $SWEEP; do
            run_wrk "$round" "$name" "$c" "$DURATION"
        done
        record "$round" "$name" rss_after_load_mib 0 "$(awk -v k="$(rss_kb "$PROXY_PID")" 'BEGIN {printf "%.1f", k / 1024}')"
        if [[ $name != nginx ]]; then
            cutover_test "$round" "$name" 4 20 light
            cutover_test "$round" "$name" "$CUTOVER_CONNS" "$FLIPS" load
        fi
        stop_proxy
        # Idle connections on a fresh process: memory freed after the
        # -c 1000 run would otherwise hide what each idle connection costs.
        if start_proxy "$name"; then
            idle_test "$round" "$name"
            stop_proxy
        fi
    done
done

# ---------------------------------------------------------------- summary

"$ROOT/benches/compare-summary.sh" "$OUT"

if [[ $PERF == 1 ]]; then
    for name in "${ACTIVE[@]}"; do
        [[ -f $OUT/perf-$name.data ]] || continue
        perf report -i "$OUT/perf-$name.data" --stdio --no-children --percent-limit 1.5 \
            >"$OUT/perf-$name.txt" 2>/dev/null || true
    done
    log "perf reports: $OUT/perf-*.txt"
fi
log "results in $OUT (summary.md, medians.tsv, results.tsv, raw wrk/idle/cutover outputs)"
