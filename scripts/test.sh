#!/usr/bin/env bash
# The test suite: installs the Debian packages the tests drive if missing
# (the real haproxy is the oracle; socat, hey, nginx, ...), builds the
# release binaries, then runs every crate's unit and integration tests.
# Exits non-zero on any failure. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/packages.sh
. scripts/lib/packages.sh

ensure_cargo
ensure_packages build-essential=cc haproxy=/usr/sbin/haproxy socat=socat hey=hey nginx=/usr/sbin/nginx \
    hatop=hatop tmux=tmux wrk=wrk curl=curl iproute2=ip bsdextrautils=column util-linux=unshare \
    chromium=/usr/bin/chromium

cargo build --workspace --bins
# --no-fail-fast: report every failing test binary, still exit non-zero.
cargo test --workspace --no-fail-fast "$@"

# Lints, where the toolchain has them (a minimal rustup profile lacks them).
if cargo fmt --version >/dev/null 2>&1; then
    cargo fmt --all -- --check
fi
if cargo clippy --version >/dev/null 2>&1; then
    cargo clippy --workspace --all-targets -- -D warnings
fi
