#!/usr/bin/env bash
# The long suites, kept out of scripts/test.sh (CI's default run):
#  1. the request-head parser under millions of mutated heads (no panic,
#     no length beyond the input), seeded by the clock;
#  2. random Runtime API command lines (time seed): in process, none
#     panics and a failing one changes no routing; against haproxy 2.6,
#     the same lines give the same answers and leave the same state;
#     random requests (combinations of the request oracle's pieces) give
#     what haproxy 2.6 gives, to the client and to the server; random
#     server responses reach the client (HTTP/1, and HTTP/2 through curl)
#     as through haproxy 2.6;
#  3. a cutover soak: switchyard (release build) between two upstreams,
#     flipped through the Runtime API under load; fails on any failed request.
#     With PGO=1, the profile-guided build of benches/pgo.sh is built and
#     soaked too.
#
#   [PGO=1] scripts/long.sh [fuzz-iterations (20000000)] [cutovers (500)] [-c (200)]
set -euo pipefail
cd "$(dirname "$0")/.."
iters=${1:-20000000}
cutovers=${2:-500}
conc=${3:-200}

echo "== parser fuzz: $iters mutated heads"
SWITCHYARD_FUZZ_ITERS=$iters cargo test --release -p switchyard-proxy --lib \
    mutated_heads_never_panic -- --nocapture

echo "== random Runtime API commands: $((iters / 100)) in process, $((iters / 4000)) against haproxy"
SWITCHYARD_FUZZ_ITERS=$((iters / 100)) cargo test --release -p switchyard-admin \
    --test random_commands -- --nocapture
SWITCHYARD_FUZZ_ITERS=$((iters / 4000)) cargo test --release -p switchyard-admin \
    --test differential random_command_lines_match_haproxy -- --nocapture

echo "== random requests against haproxy 2.6: $((iters / 20000))"
SWITCHYARD_FUZZ_ITERS=$((iters / 20000)) cargo test --release -p switchyard-proxy \
    --test request_oracle random_requests_get_haproxys_answers -- --nocapture

echo "== random server responses against haproxy 2.6: $((iters / 20000))"
SWITCHYARD_FUZZ_ITERS=$((iters / 20000)) cargo test --release -p switchyard-proxy \
    --test response_oracle random_server_responses_reach_the_client_as_through_haproxy -- --nocapture
SWITCHYARD_FUZZ_ITERS=$((iters / 40000)) cargo test --release -p switchyard-proxy \
    --test response_oracle random_server_responses_reach_http2_clients_as_through_haproxy -- --nocapture

echo "== cutover soak: $cutovers cutovers at -c $conc"
cargo build --release -p switchyard -p switchyard-loadtest --bins
LOAD_BIN=target/release/switchyard-load ECHO_BIN=target/release/switchyard-echo \
    loadtest/scenarios/cutover-demo.sh --proxy target/release/switchyard \
    --cutovers "$cutovers" -c "$conc" --interval 100ms

if [[ ${PGO:-0} == 1 ]]; then
    echo "== profile-guided build, and the cutover soak on it"
    benches/pgo.sh
    LOAD_BIN=target/release/switchyard-load ECHO_BIN=target/release/switchyard-echo \
        loadtest/scenarios/cutover-demo.sh --proxy target/pgo/switchyard \
        --cutovers "$cutovers" -c "$conc" --interval 100ms
fi
