#!/usr/bin/env bash
# Run the switchyard blue/green demo on a fresh Debian/Ubuntu machine that has
# Rust (cargo) installed: installs the command-line tools the demo's guide
# uses (curl, socat, hey), builds the release binaries, starts the demo.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in curl socat hey; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    echo "installing ${missing[*]} (Debian packages)"
    $sudo apt-get update
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

# switchyard and the demo upstream (switchyard-echo) side by side in target/release.
cargo build --release -p switchyard -p switchyard-loadtest --bins
exec target/release/switchyard demo
