#!/usr/bin/env bash
# Render compare.sh's tables (markdown) from a results directory: medians
# over rounds per (proxy, metric, concurrency), sums for failure counts, and
# ratios to haproxy. compare.sh runs this at the end; run it again on an old
# directory to re-render: benches/compare-summary.sh target/compare/<time>
set -euo pipefail
OUT=${1:?usage: compare-summary.sh <results dir>}
# shellcheck disable=SC1091
source "$OUT/params.env"

# Median per (proxy, metric, concurrency) over rounds; sums for counts that
# must be zero.
summary() {
    sort -t$'\t' -k2,2 -k3,3 -k4,4n -k5,5g "$OUT/results.tsv" | awk -F'\t' '
        { key = $2 "\t" $3 "\t" $4; vals[key] = vals[key] " " $5; n[key]++ ; sum[key] += $5 }
        END {
            for (k in vals) {
                split(substr(vals[k], 2), v, " ")
                c = n[k]
                med = (c % 2) ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2
                split(k, parts, "\t")
                m = parts[2]
                if (m == "errors" || m ~ /_failed$/ || m ~ /_stale$/ || m ~ /missing_new$/ || m == "idle_failed")
                    med = sum[k]
                print k "\t" med "\t" c
            }
        }' | sort -t$'\t' -k2,2 -k3,3n -k1,1
}
summary >"$OUT/medians.tsv"

get() { awk -F'\t' -v p="$1" -v m="$2" -v c="$3" '$1 == p && $2 == m && $3 == c {print $4}' "$OUT/medians.tsv"; }
ratio() {
    local a b
    a=$(get "$1" "$2" "$3")
    b=$(get haproxy "$2" "$3")
    [[ -n $a && -n $b ]] && awk -v a="$a" -v b="$b" 'BEGIN { if (b == 0) print "—"; else printf "%.2f×", a / b }' || echo "—"
}
cell() { local v; v=$(get "$1" "$2" "$3"); echo "${v:-—}"; }
errors_total() {
    awk -F'\t' -v p="$1" '$2 == p && $3 == "errors" {s += $5; n++} END {print n ? s : "—"}' "$OUT/results.tsv"
}

{
    echo "## compare.sh — ${RUN_DATE:-?}, ${CORES:-?} cores, rounds=$ROUNDS, wrk -t$WRK_THREADS -d${DURATION}s, nbthread $NBTHREAD"
    echo
    echo "Medians over rounds (counts of failures: totals over rounds)."
    echo
    echo "| metric | switchyard | haproxy | nginx | switchyard/haproxy | nginx/haproxy |"
    echo "|---|---|---|---|---|---|"
    row() { echo "| $1 | $(cell switchyard "$2" "$3") | $(cell haproxy "$2" "$3") | $(cell nginx "$2" "$3") | $(ratio switchyard "$2" "$3") | $(ratio nginx "$2" "$3") |"; }
    row "CPU µs/request (-c $MAIN_CONNS)" cpu_us_per_req "$MAIN_CONNS"
    row "requests/s (-c $MAIN_CONNS)" rps "$MAIN_CONNS"
    row "p50 ms (-c $MAIN_CONNS)" p50_ms "$MAIN_CONNS"
    row "p99 ms (-c $MAIN_CONNS)" p99_ms "$MAIN_CONNS"
    for c in $SWEEP; do
        [[ $c == "$MAIN_CONNS" ]] || row "p99 ms (-c $c)" p99_ms "$c"
    done
    echo "| wrk errors, all runs (non-2xx + socket errors) | $(errors_total switchyard) | $(errors_total haproxy) | $(errors_total nginx) | | |"
    row "RSS MiB, fresh (after 1s of -c 10)" rss_fresh_mib 0
    row "RSS MiB after the -c sweep" rss_after_load_mib 0
    row "RSS MiB with $IDLE idle keep-alive conns" rss_idle_mib "$IDLE"
    row "bytes per idle keep-alive conn" bytes_per_idle_conn "$IDLE"
    row "set map → first new-backend response, ms (p50, -c 4)" cutover_light_first_new_p50_ms 4
    row "set map round trip, ms (p50, -c 4)" cutover_light_rtt_p50_ms 4
    row "old-backend answers after set map returned (-c 4, total)" cutover_light_stale 4
    row "set map → first new-backend response, ms (p50, -c $CUTOVER_CONNS)" cutover_load_first_new_p50_ms "$CUTOVER_CONNS"
    row "set map → first new-backend response, ms (max, -c $CUTOVER_CONNS)" cutover_load_first_new_max_ms "$CUTOVER_CONNS"
    row "old-backend answers after set map returned (-c $CUTOVER_CONNS, total)" cutover_load_stale "$CUTOVER_CONNS"
    row "failed requests across $FLIPS cutovers × rounds (-c $CUTOVER_CONNS)" cutover_load_failed "$CUTOVER_CONNS"
    echo
    echo "### By concurrency (medians): requests/s · p99 ms · CPU µs/request"
    echo
    echo "| -c | switchyard | haproxy | nginx |"
    echo "|---|---|---|---|"
    for c in $SWEEP; do
        line="| $c |"
        for p in switchyard haproxy nginx; do
            line="$line $(cell $p rps "$c") · $(cell $p p99_ms "$c") · $(cell $p cpu_us_per_req "$c") |"
        done
        echo "$line"
    done
} | tee "$OUT/summary.md"
