#!/usr/bin/env bash
# Run the switchyard blue/green demo on a Debian/Ubuntu machine that has Rust
# (cargo): installs the tools the demo's guide uses (curl, socat, hey) if
# missing, builds the release binaries, starts `switchyard demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/packages.sh
. scripts/lib/packages.sh

ensure_cargo
ensure_packages build-essential=cc curl=curl socat=socat hey=hey

# switchyard and the demo upstream (switchyard-echo) side by side in target/release.
cargo build --release -p switchyard -p switchyard-loadtest --bins
exec target/release/switchyard demo
