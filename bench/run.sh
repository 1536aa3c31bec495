#!/usr/bin/env bash
# Build-speed, memory and output-size benchmark for site-gen, with Hugo
# (a bare template) beside it on the same content, and the edit-to-reload
# time of `site-gen serve`.
#
#   bench/run.sh                      # 10x100, 100x100 and 10x1000
#   bench/run.sh 100x100 10x1000      # shapes: SECTIONSxPAGES per section
#   HUGO= bench/run.sh 10x100         # without the Hugo comparison
#   SITE_GEN=old/site-gen bench/run.sh  # a binary built before, not built here
#
# Not run by CI: it takes minutes and its figures depend on the machine.
# It fails only when a build fails; missed targets are reported, not fatal.
# See bench/README.md for what is measured and why.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HELPER="$REPO/bench/corpus.py"
# Cargo resolves a relative CARGO_TARGET_DIR against where it runs: $REPO.
TARGET_DIR=${CARGO_TARGET_DIR:-target}
[[ $TARGET_DIR == /* ]] || TARGET_DIR="$REPO/$TARGET_DIR"
BIN=${SITE_GEN:-$TARGET_DIR/release/site-gen}
RUNS=3             # the first run warms the page cache; the best one counts
RUN_TIMEOUT=600    # seconds for any one build; a hung build is a failure
SERVE_PAGES=10000  # the serve target is stated for 10,000 pages

shapes=("$@")
[[ ${#shapes[@]} -eq 0 ]] && shapes=(10x100 100x100 10x1000)
for shape in "${shapes[@]}"; do
    [[ $shape =~ ^[1-9][0-9]*x[1-9][0-9]*$ ]] || { echo "usage: $0 [SECTIONSxPAGES...]  (e.g. $0 100x100 10x1000)" >&2; exit 2; }
done

command -v python3 >/dev/null || { echo "bench: python3 is needed" >&2; exit 2; }

# Everything the benchmark writes lives here; nothing in the repository is
# touched except the target folder (the release build).
WORK=$(mktemp -d "${TMPDIR:-/tmp}/site-gen-bench.XXXXXX")
cleanup() {
    # corpus.py stops its server itself; this covers it being killed first.
    if [[ -f $WORK/serve.pid ]]; then
        kill "$(cat "$WORK/serve.pid")" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM   # run the EXIT trap on Ctrl-C too

RESULTS=$WORK/results.jsonl
: >"$RESULTS"

# `timeout` bounds the compile; coreutils has it, macOS may not.
bounded() {
    if command -v timeout >/dev/null; then timeout "$@"; else shift; "$@"; fi
}

if [[ -z ${SITE_GEN:-} ]]; then
    echo "== building site-gen (release) into $TARGET_DIR"
    (cd "$REPO" && bounded 1800 cargo build --release --quiet -p site-gen)
fi
echo "== site-gen: $BIN"

# HUGO=/path/to/hugo picks a build; HUGO= (empty) skips the comparison.
HUGO=${HUGO-$(command -v hugo || true)}
if [[ -n $HUGO ]]; then
    echo "== comparing with $("$HUGO" version | head -n1)"
else
    echo "== hugo not found (or HUGO= set): no same-machine comparison (optional: apt-get install hugo)"
fi

for shape in "${shapes[@]}"; do
    site=$WORK/site-$shape
    sections=${shape%x*}
    per_section=${shape#*x}
    pages=$((sections * per_section))
    echo
    echo "== $shape: $sections sections x $per_section pages"
    python3 "$HELPER" generate --sections "$sections" --per-section "$per_section" \
        --out "$site" --theme "$REPO/themes/default"

    python3 "$HELPER" measure --tool site-gen --shape "$shape" --runs "$RUNS" \
        --timeout "$RUN_TIMEOUT" --results "$RESULTS" -- \
        "$BIN" build --root "$site" --out "$site/public"
    python3 "$HELPER" output --tool site-gen --shape "$shape" --dir "$site/public" --results "$RESULTS"
    # The same work without writing files: the gap to `build` is what the
    # file system costs (staging folder, swap, removing the old output).
    python3 "$HELPER" measure --tool site-gen-check --shape "$shape" --runs "$RUNS" \
        --timeout "$RUN_TIMEOUT" --results "$RESULTS" -- \
        "$BIN" check --root "$site"
    rm -rf "$site/public"   # a 10,000-page output is hundreds of MB

    if [[ -n $HUGO ]]; then
        # Beside the site, not in it: Hugo reads the very same content/.
        python3 "$HELPER" hugo-site --content "$site/content" --out "$WORK/hugo-$shape"
        python3 "$HELPER" measure --tool hugo --shape "$shape" --runs "$RUNS" \
            --timeout "$RUN_TIMEOUT" --results "$RESULTS" -- \
            "$HUGO" --quiet --source "$WORK/hugo-$shape" --destination "$WORK/hugo-$shape/public"
        python3 "$HELPER" output --tool hugo --shape "$shape" --dir "$WORK/hugo-$shape/public" --results "$RESULTS"
        rm -rf "$WORK/hugo-$shape"
    fi

    if [[ $pages -eq $SERVE_PAGES ]]; then
        echo "== serve: edit one page, wait for the reload ($shape)"
        python3 "$HELPER" serve --bin "$BIN" --root "$site" \
            --data "$WORK/serve-data-$shape" --shape "$shape" --edits 5 --timeout 60 \
            --pid-file "$WORK/serve.pid" --results "$RESULTS"
        rm -rf "$WORK/serve-data-$shape"
    fi
    rm -rf "$site"
done

python3 "$HELPER" report --results "$RESULTS" --runs "$RUNS"
