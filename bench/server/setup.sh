#!/bin/sh
# One-time setup of the server benchmarks' tools on Debian (as root).
#   wrk                 apt (Debian's wrk 4.1; wrk2 is not packaged, see loadgen.py)
#   localstripe         PyPI, in its own venv: ~/.cache/opentms-bench/localstripe
#   py-spy              PyPI, in its own venv: ~/.cache/opentms-bench/tools
# The project itself: .venv with opentms installed editable with dev,postgres.
set -eu
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { apt-get update && apt-get install -y wrk; }
CACHE="$HOME/.cache/opentms-bench"
mkdir -p "$CACHE"
[ -x "$CACHE/localstripe/bin/localstripe" ] || {
    python3 -m venv "$CACHE/localstripe" && "$CACHE/localstripe/bin/pip" install -q localstripe
}
[ -x "$CACHE/tools/bin/py-spy" ] || {
    python3 -m venv "$CACHE/tools" && "$CACHE/tools/bin/pip" install -q py-spy
}
[ -x .venv/bin/opentms ] || {
    python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev,postgres]'
}
echo "ready: wrk $(wrk -v 2>&1 | head -1 | cut -d' ' -f2), localstripe, py-spy, .venv"
