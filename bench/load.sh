#!/usr/bin/env bash
# The local request desk under load (issue 12): a burst of 1,000
# submissions and the mail backlog it leaves, then 60 s of page views and
# submissions at once, driven by wrk; afterwards every acknowledged ticket
# must be stored and mailed exactly once.
#
#   bench/load.sh                         # burst 1000, mix 60 s at 200 submissions/s
#   bench/load.sh --seconds 20 --rate 100 # a shorter, gentler run
#   bench/load.sh --store dynamodb        # the desk on DynamoDB (moto): its
#                                         # overhead over a raw PutItem
#
# Everything runs on 127.0.0.1. Not run by CI: it takes two minutes and its
# figures depend on the machine. It fails only when the server cannot start
# or a ticket or email goes missing; missed targets are reported.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-target}
[[ $TARGET_DIR == /* ]] || TARGET_DIR="$REPO/$TARGET_DIR"
# The DynamoDB store is the `aws` feature: a binary of its own, built in
# its own target folder so the plain release binary stays as it is.
aws=""
[[ " $* " == *" dynamodb "* || " $* " == *"--store=dynamodb"* ]] && aws=1
if [[ -n $aws ]]; then
    BIN=${SITE_GEN:-$TARGET_DIR/aws/release/site-gen}
    [[ -x $REPO/.venv/bin/python ]] || bash "$REPO/scripts/aws-deps.sh"
else
    BIN=${SITE_GEN:-$TARGET_DIR/release/site-gen}
fi

if ! command -v wrk >/dev/null; then
    echo "== installing wrk (Debian)"
    if [[ $(id -u) -eq 0 ]]; then
        apt-get install -y -qq wrk >/dev/null
    else
        sudo apt-get install -y -qq wrk >/dev/null
    fi
fi
if [[ -z ${SITE_GEN:-} ]]; then
    echo "== building site-gen (release)"
    if [[ -n $aws ]]; then
        (cd "$REPO" && cargo build --release --quiet -p site-gen --features desk/aws --target-dir "$TARGET_DIR/aws")
    else
        (cd "$REPO" && cargo build --release --quiet -p site-gen)
    fi
fi
echo "== $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$REPO/bench/load.py" --binary "$BIN" "$@"
