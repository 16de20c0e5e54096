#!/usr/bin/env bash
# The test suite: release binaries (used by load/soak scripts and benchmarks),
# then every crate's unit and integration tests. Exits non-zero on any
# failure. Integration tests start real processes (haproxy, socat, hey, nginx
# from Debian packages; see .ci/run) on loopback ports below 32768.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --workspace --bins
# --no-fail-fast: report every failing crate, still exit non-zero.
cargo test --workspace --no-fail-fast "$@"
