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
