#!/usr/bin/env bash
# One entry point for a fresh machine: sets up a virtualenv in .venv (once, and
# again whenever pyproject.toml changes), then runs what was asked.
#
#   ./run.sh demo [ARGS]   bounceback parse samples/ (ARGS replace samples/ if given)
#   ./run.sh test [ARGS]   the test suite (ARGS go to pytest)
#   ./run.sh setup         only the virtualenv
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

VENV="${BOUNCEBACK_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

say() { printf 'run.sh: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi
}

check_python() {
    command -v "$PYTHON" >/dev/null || { say "needs $PYTHON (3.11 or newer): apt-get install python3"; exit 1; }
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || { say "needs Python 3.11 or newer, $PYTHON is $("$PYTHON" -V 2>&1)"; exit 1; }
}

make_venv() {
    # Debian ships venv's pip bootstrap apart (python3-venv); install it if we may.
    "$PYTHON" -m venv "$VENV" >/dev/null 2>&1 && return
    rm -rf "$VENV"
    say "python3 -m venv failed; installing python3-venv"
    if command -v apt-get >/dev/null && as_root apt-get update -qq \
        && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    then
        "$PYTHON" -m venv "$VENV"
    else
        say "could not install python3-venv; run: sudo apt-get install python3-venv"
        exit 1
    fi
}

# setup EXTRA: install the package (editable) with the given extra, unless the
# same pyproject.toml was already installed with it.
setup() {
    local extra="$1" stamp want
    check_python
    [ -x "$VENV/bin/python" ] || make_venv
    stamp="$VENV/.bounceback-installed"
    want="$extra $(cksum < pyproject.toml)"
    if [ -f "$stamp" ] && grep -qxF "$want" "$stamp"; then
        return
    fi
    say "installing bounceback${extra:+[$extra]} into $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".${extra:+[$extra]}"
    # A dev install also satisfies a plain one.
    if [ -n "$extra" ]; then printf '%s\n %s\n' "$want" "$(cksum < pyproject.toml)" > "$stamp"
    else printf '%s\n' "$want" > "$stamp"; fi
}

cmd="${1:-demo}"
[ $# -gt 0 ] && shift
case "$cmd" in
    demo)
        setup ""
        if [ $# -eq 0 ]; then set -- samples/; fi
        exec "$VENV/bin/bounceback" parse "$@"
        ;;
    test)
        setup dev
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    setup)
        setup dev
        ;;
    *)
        say "usage: ./run.sh demo|test|setup [ARGS]"
        exit 2
        ;;
esac
