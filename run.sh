#!/usr/bin/env bash
# One entry point for a fresh machine: sets up a virtualenv in .venv (once, and
# again whenever pyproject.toml changes), then runs what was asked.
#
#   ./run.sh serve [ARGS]  bounceback serve --config samples/serve.toml on SQLite, fed with
#                          the sample bounces (ARGS go to serve, e.g. --only http)
#   ./run.sh demo [ARGS]   bounceback parse samples/ (ARGS replace samples/ if given)
#   ./run.sh test [ARGS]   the test suite (ARGS go to pytest)
#   ./run.sh setup         only the virtualenv
#   ./run.sh compiled ARGS python ARGS in .venv-compiled: a regular install of this checkout,
#                          its parser and classifier compiled with mypyc (setup.py), rebuilt
#                          when src/ changes; e.g. ./run.sh compiled bench/parse_speed.py
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

# compiled_setup: a regular (not editable) install of this checkout with the dev extra,
# which setup.py compiles; built again whenever a source file changes.
compiled_setup() {
    local venv="${BOUNCEBACK_COMPILED_VENV:-.venv-compiled}" stamp want
    check_python
    [ -x "$venv/bin/python" ] || VENV="$venv" make_venv
    stamp="$venv/.bounceback-installed"
    want="$(find pyproject.toml setup.py src -name '*.egg-info' -prune -o -type f \
        ! -name '*.pyc' -print0 | sort -z | xargs -0 cat | cksum)"
    if [ -f "$stamp" ] && grep -qxF "$want" "$stamp"; then
        return
    fi
    say "building a compiled bounceback (mypyc, about a minute) into $venv"
    local pip=("$venv/bin/python" -m pip -q --disable-pip-version-check) wheels wheel
    "${pip[@]}" install --upgrade pip
    wheels="$(mktemp -d)"
    BOUNCEBACK_MYPYC=1 "${pip[@]}" wheel --no-deps -w "$wheels" .
    wheel="$(echo "$wheels"/bounceback-*.whl)"
    "${pip[@]}" install "$wheel[dev]"
    "${pip[@]}" install --force-reinstall --no-deps "$wheel"  # same version, new build
    rm -rf "$wheels"
    printf '%s\n' "$want" > "$stamp"
}

# The demo ledger starts with the sample contacts and one send per sample bounce; the
# sample bounces, stamped with the signed return path of their send as the receiving MTA
# would (Delivered-To), are dropped into the demo Maildir that serve polls. With signed
# VERP on (samples/serve.toml), only a bounce that proves a send of ours acts on a contact.
feed_samples() {
    local db=bounceback.db maildir=var/bounces stamped=var/demo-samples f n=0
    if [ ! -e "$db" ] || [ ! -d "$stamped" ]; then
        if [ ! -e "$db" ]; then
            BOUNCEBACK_CONFIG=samples/serve.toml "$VENV/bin/bounceback" contacts import samples/contacts.csv >/dev/null
            say "new ledger $db with the contacts of samples/contacts.csv"
        fi
        say "logging a send per sample bounce: $("$VENV/bin/python" scripts/stamp_samples.py samples/serve.toml samples "$stamped")"
    fi
    mkdir -p "$maildir/new" "$maildir/cur" "$maildir/tmp"
    for f in "$stamped"/*.eml; do
        n=$((n + 1))
        cp "$f" "$maildir/tmp/$(date +%s).sample$n.$(basename "$f")"
    done
    mv "$maildir"/tmp/*.sample* "$maildir/new/"
    say "$n sample bounces put in $maildir/new/ (seen before: stored once, the ledger says duplicate)"
}

serve_banner() {
    cat >&2 <<'TEXT'
run.sh: bounceback serve is starting (Ctrl-C stops it). Look at:
  http://127.0.0.1:8025/              the dashboard; first, in another terminal:
                                      .venv/bin/bounceback users create admin --config samples/serve.toml
  http://127.0.0.1:8025/health        each source's last poll
  http://127.0.0.1:8025/api/v1/       the API (docs: /api/v1/docs; a key: .venv/bin/bounceback apikeys create NAME --config samples/serve.toml)
  http://127.0.0.1:8025/metrics       Prometheus, with: Authorization: Bearer <api key>
  smtp 127.0.0.1:2525                 send DSNs here (README: "Try the SMTP receiver"); drop messages into var/bounces/new/
TEXT
}

cmd="${1:-serve}"
[ $# -gt 0 ] && shift
case "$cmd" in
    serve)
        setup ""
        feed_samples
        serve_banner
        exec "$VENV/bin/bounceback" serve --config samples/serve.toml "$@"
        ;;
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
    compiled)
        compiled_setup
        exec "${BOUNCEBACK_COMPILED_VENV:-.venv-compiled}/bin/python" "$@"
        ;;
    *)
        say "usage: ./run.sh demo|test|setup|serve|compiled [ARGS]"
        exit 2
        ;;
esac
