#!/usr/bin/env bash
# User-space instructions (and, with CACHE=1, simulated L1 misses and
# branch mispredictions) per proxied request, under valgrind's callgrind.
# Unlike CPU time on a shared VM, these counts repeat to within ~1% from
# run to run, so a change of a few percent in a proxy's own work shows.
# They leave out the kernel and the vDSO (clock reads), and say nothing
# about time directly: read them next to benches/ab.sh.
#
# usage: benches/callgrind.sh <compare-output-dir> <switchyard-binary|haproxy>...
# environment: N=4000 (measured requests) CONNS=50 CACHE=0 KEEP=0
# e.g.   benches/callgrind.sh target/compare/s4-full target/release/switchyard haproxy
#
# Like ab.sh it reuses a compare.sh run's haproxy.cfg and nginx upstream
# (same ports, so compare.sh must not be running). The proxy runs under
# callgrind with the counters zeroed after a 1000-request warm-up; hey
# sends N requests at -c CONNS; the counters are dumped and divided by N.
# KEEP=1 keeps the callgrind files (for callgrind_annotate). Every process
# started here is stopped by its pid.
set -euo pipefail
SRC=${1:?compare output dir}
shift
N=${N:-4000} CONNS=${CONNS:-50} CACHE=${CACHE:-0} KEEP=${KEEP:-0}
for t in valgrind callgrind_control hey nginx curl; do
    command -v "$t" >/dev/null || { echo "callgrind.sh: $t not found" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/sy-cg.XXXXXX)
. "$(dirname "$0")/compare-lab.sh"
compare_lab
URL="http://127.0.0.1:$PORT/"
OPTS=()
[[ $CACHE == 1 ]] && OPTS=(--cache-sim=yes --branch-sim=yes)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    [[ $KEEP == 1 ]] || rm -rf "$WORK"
}
trap cleanup EXIT
nginx -c "$WORK/upstream.conf" -p "$WORK/" >/dev/null 2>&1 &
PIDS+=($!)
i=0
for b in "$@"; do
    i=$((i + 1))
    bin=$b
    [[ $b == haproxy ]] && bin=$(command -v haproxy)
    out="$WORK/cg-$i.out"
    valgrind --tool=callgrind --callgrind-out-file="$out" "${OPTS[@]}" \
        "$bin" -db -f "$WORK/haproxy.cfg" >"$WORK/p-$i.log" 2>&1 &
    P=$!
    PIDS+=("$P")
    for _ in $(seq 150); do curl -sf "$URL" >/dev/null && break; sleep 0.2; done
    hey -n 1000 -c "$CONNS" "$URL" >/dev/null
    callgrind_control -z "$P" >/dev/null 2>&1
    hey -n "$N" -c "$CONNS" "$URL" >"$WORK/hey-$i.txt"
    callgrind_control -d "$P" >/dev/null 2>&1
    kill "$P"
    wait "$P" 2>/dev/null || true
    ok=$(awk '$1 == "[200]" {print $2}' "$WORK/hey-$i.txt")
    # The dump after zeroing is the file with the ".1" suffix.
    python3 - "$b" "$out.1" "$N" "${ok:-0}" <<'PY'
import sys
name, path, n, ok = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ev = tot = None
for line in open(path):
    if line.startswith("events:"):
        ev = line.split()[1:]
    elif line.startswith("summary:"):
        tot = [int(x) for x in line.split()[1:]]
want = ["Ir", "Dr", "Dw", "I1mr", "D1mr", "D1mw", "Bcm", "Bim"]
cols = [f"{k}={tot[ev.index(k)] / n:,.0f}" for k in want if k in ev]
warn = "" if ok == n else f"  (only {ok} of {n} answered 200)"
print(f"{name:32s} per request: " + " ".join(cols) + warn)
PY
done
[[ $KEEP == 1 ]] && echo "callgrind files kept in $WORK"
