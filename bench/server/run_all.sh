#!/bin/sh
# Every server benchmark, one after the other (about 85 minutes on 2 cores when
# the machine is otherwise idle, most of it filling the vault with 1,000,000 IIs,
# on SQLite (~23 min) and on PostgreSQL (~40 min)).
# Usage: bench/server/run_all.sh   (run bench/server/setup.sh once first)
#        BENCH_SKIP_VAULT=1 bench/server/run_all.sh   (all but the 1,000,000-II vault: ~20 min)
#
# The servers and the in-process parts run the committed src/ of HEAD, exported
# to a snapshot, so that edits made while it runs (it takes a while) do not mix
# two versions into one table. The single commands measure the work tree.
set -eu
cd "$(dirname "$0")/../.."
BENCH_COMMIT=$(git rev-parse --short HEAD)
SNAPSHOT="${TMPDIR:-/tmp}/opentms-bench-src-$BENCH_COMMIT"
if [ ! -d "$SNAPSHOT/src" ]; then
    mkdir -p "$SNAPSHOT"
    git archive HEAD src | tar -x -C "$SNAPSHOT"
fi
export BENCH_COMMIT
export PYTHONPATH="$SNAPSHOT/src:$PWD"
PY=.venv/bin/python
$PY -c 'import opentms, sys; sys.stderr.write(f"measuring {opentms.__file__}\n")'
$PY -m bench.server.credentials
$PY -m bench.server.floor
$PY -m bench.server.fixed_rate
$PY -m bench.server.identifiers
$PY -m bench.server.profile --endpoint credentials --database sqlite
$PY -m bench.server.profile --endpoint credentials --database sqlite --workers 2 --idle
$PY -m bench.server.profile --endpoint credentials --database postgresql
$PY -m bench.server.profile --endpoint credentials --database postgresql --idle
$PY -m bench.server.profile --endpoint identifiers --database sqlite
if [ -z "${BENCH_SKIP_VAULT:-}" ]; then
    $PY -m bench.server.vault --count 1000000
    $PY -m bench.server.vault --count 1000000 --database postgresql
fi
