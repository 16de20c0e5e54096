# shellcheck shell=bash
# ensure_packages PKG=PROBE...: apt-get install the Debian packages whose
# probe (a command name, or an absolute path) is missing. Uses sudo when not
# root. Sourced by demo.sh and test.sh.
ensure_packages() {
    local missing=() spec pkg probe
    for spec in "$@"; do
        pkg=${spec%%=*}
        probe=${spec#*=}
        if [[ $probe == /* ]]; then
            [ -x "$probe" ] || missing+=("$pkg")
        else
            command -v "$probe" >/dev/null 2>&1 || missing+=("$pkg")
        fi
    done
    ((${#missing[@]})) || return 0
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    echo "installing Debian packages: ${missing[*]}"
    $sudo apt-get update
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# ensure_cargo: cargo on PATH (a fresh rustup install may not be on it yet).
ensure_cargo() {
    if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
        # shellcheck disable=SC1091
        . "$HOME/.cargo/env"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        echo "cargo not found: install Rust first (https://rustup.rs), then re-run $0" >&2
        exit 1
    fi
}
