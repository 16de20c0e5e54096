#!/usr/bin/env bash
# A/B of proxy binaries on compare.sh's config: alternating rounds, one
# proxy at a time, medians of user/system CPU µs per request.
#
# usage: benches/ab.sh <compare-output-dir> <switchyard-binary|haproxy|nginx>...
# environment: ROUNDS=4 SECS=5 CONNS=50
# e.g.   cp target/release/switchyard /tmp/sy-new   (and an older build as /tmp/sy-old)
#        benches/ab.sh target/compare/s3-full /tmp/sy-old /tmp/sy-new haproxy
#
# It reuses that run's haproxy.cfg and nginx-upstream.conf (same ports, so
# compare.sh must not be running), with their temporary paths moved to a
# new work directory. Every process started here is stopped by its pid.
set -euo pipefail
SRC=${1:?compare output dir}
shift
ROUNDS=${ROUNDS:-4} SECS=${SECS:-5} CONNS=${CONNS:-50}
WORK=$(mktemp -d /tmp/sy-ab.XXXXXX)
. "$(dirname "$0")/compare-lab.sh"
compare_lab
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
nginx -c "$WORK/upstream.conf" -p "$WORK/" >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.3
stat_cpu() { awk '{print $14, $15}' "/proc/$1/stat"; }
for ((r = 1; r <= ROUNDS; r++)); do
    i=0
    for b in "$@"; do
        i=$((i + 1))
        if [[ $b == haproxy ]]; then haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/p.out" 2>&1 &
        elif [[ $b == nginx ]]; then nginx -c "$WORK/nginx-proxy.conf" -p "$WORK/" >"$WORK/p.out" 2>&1 &
        else "$b" -db -f "$WORK/haproxy.cfg" >"$WORK/p.out" 2>&1 & fi
        P=$!
        PIDS+=("$P")
        for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.1; done
        wrk -t1 -c"$CONNS" -d1s "http://127.0.0.1:$PORT/" >/dev/null
        read -r u0 k0 < <(stat_cpu "$P")
        wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "http://127.0.0.1:$PORT/" >"$WORK/wrk.txt"
        read -r u1 k1 < <(stat_cpu "$P")
        reqs=$(awk '/requests in/{print $1}' "$WORK/wrk.txt")
        p99=$(awk '$1=="99%"{print $2}' "$WORK/wrk.txt")
        echo "$(( (u1 - u0) * 10000000 / reqs )) $(( (k1 - k0) * 10000000 / reqs )) $((reqs / SECS)) $p99" >>"$WORK/ab-$i.txt"
        kill "$P"
        wait "$P" 2>/dev/null || true
    done
done
i=0
for b in "$@"; do
    i=$((i + 1))
    python3 - "$b" "$WORK/ab-$i.txt" <<'PY'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[2])]
med = lambda k: st.median(int(r[k]) for r in rows)
tot = st.median(int(r[0]) + int(r[1]) for r in rows)
print(f"{sys.argv[1]:32s} user={med(0)/1000:.2f} sys={med(1)/1000:.2f} "
      f"total={tot/1000:.2f} µs/req  rps={med(2):.0f}  p99={[r[3] for r in rows]}")
PY
done
rm -rf "$WORK"
