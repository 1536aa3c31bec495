#!/usr/bin/env bash
# The request desk's staff app on a large SQLite store: queue pages, a
# ticket page with a long timeline, the monthly and yearly reports, and a
# cold start, timed through the real router as a signed-in browser calls it.
#
#   bench/desk.sh                               # 10,000 tickets, 50 requests a figure
#   bench/desk.sh --tickets 20000 --requests 20
#   bench/desk.sh --fill-dir /var/tmp           # fill on disk instead of /dev/shm
#
# Options: --tickets N (10000), --year-tickets N (1500), --requests N (50),
# --disk-sample N (100: tickets filled on disk to time the on-disk rate),
# --fill-dir DIR (/dev/shm when there is one).
#
# Not run by CI: it takes a minute or two and its figures depend on the
# machine. It fails only when the build or a request fails; missed targets
# are reported, not fatal. See bench/README.md.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}

# Everything the bench writes lives here. The release profile aborts on a
# panic, so the bench's own clean-up may not run; this one does.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/desk-bench.XXXXXX")
FILL=""
if [[ -d /dev/shm && -w /dev/shm ]]; then
    FILL=$(mktemp -d /dev/shm/desk-bench.XXXXXX)
fi
cleanup() { rm -rf "$WORK" ${FILL:+"$FILL"}; }
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== building desk-bench (release)"
(cd "$REPO" && cargo build --release --quiet -p desk-bench)

args=()
[[ -n $FILL ]] && args+=(--fill-dir "$FILL")
# A --fill-dir given on the command line comes later and wins.
TMPDIR=$WORK "$TARGET_DIR/release/desk-bench" "${args[@]}" "$@"
