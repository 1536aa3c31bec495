#!/usr/bin/env bash
# Build-speed and memory benchmark for site-gen, with Hugo beside it when
# installed, and the edit-to-reload time of `site-gen serve`.
#
#   bench/run.sh              # 1,000 and 10,000 pages
#   bench/run.sh 1000 50000   # any page counts
#   HUGO= bench/run.sh 1000   # without the Hugo comparison
#
# Not run by CI: it takes minutes and its figures depend on the machine.
# It fails only when a build fails; missed targets are reported, not fatal.
# See bench/README.md for what is measured and why.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HELPER="$REPO/bench/corpus.py"
BIN="$REPO/target/release/site-gen"
RUNS=3             # the first run warms the page cache; the best one counts
RUN_TIMEOUT=600    # seconds for any one build; a hung build is a failure
SERVE_PAGES=1000   # the serve target is stated for the 1,000-page site

sizes=("$@")
[[ ${#sizes[@]} -eq 0 ]] && sizes=(1000 10000)
for n in "${sizes[@]}"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [PAGES...]  (e.g. $0 1000 10000)" >&2; exit 2; }
done

command -v python3 >/dev/null || { echo "bench: python3 is needed" >&2; exit 2; }

# Everything the benchmark writes lives here; nothing in the repository is
# touched except target/ (the release build).
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

echo "== building site-gen (release)"
(cd "$REPO" && bounded 1800 cargo build --release --quiet -p site-gen)

# HUGO=/path/to/hugo picks a build; HUGO= (empty) skips the comparison.
HUGO=${HUGO-$(command -v hugo || true)}
if [[ -n $HUGO ]]; then
    echo "== comparing with $("$HUGO" version | head -n1)"
else
    echo "== hugo not found (or HUGO= set): no same-machine comparison (optional: apt-get install hugo)"
fi

generate() { # PAGES DIR
    [[ -d $2 ]] || python3 "$HELPER" generate --pages "$1" --out "$2" --theme "$REPO/themes/default"
}

for n in "${sizes[@]}"; do
    site=$WORK/site-$n
    echo
    echo "== $n pages"
    generate "$n" "$site"

    python3 "$HELPER" measure --tool site-gen --pages "$n" --runs "$RUNS" \
        --timeout "$RUN_TIMEOUT" --results "$RESULTS" -- \
        "$BIN" build --root "$site" --out "$site/public"
    # The same work without writing files: the gap to `build` is what the
    # file system costs (staging folder, swap, removing the old output).
    python3 "$HELPER" measure --tool site-gen-check --pages "$n" --runs "$RUNS" \
        --timeout "$RUN_TIMEOUT" --results "$RESULTS" -- \
        "$BIN" check --root "$site"

    if [[ -n $HUGO ]]; then
        # Beside the site, not in it: Hugo reads the very same content/.
        python3 "$HELPER" hugo-site --content "$site/content" --out "$WORK/hugo-$n"
        python3 "$HELPER" measure --tool hugo --pages "$n" --runs "$RUNS" \
            --timeout "$RUN_TIMEOUT" --results "$RESULTS" -- \
            "$HUGO" --quiet --source "$WORK/hugo-$n" --destination "$WORK/hugo-$n/public"
    fi
done

echo
echo "== serve: edit one page, wait for the reload ($SERVE_PAGES pages)"
generate "$SERVE_PAGES" "$WORK/site-$SERVE_PAGES"
python3 "$HELPER" serve --bin "$BIN" --root "$WORK/site-$SERVE_PAGES" \
    --data "$WORK/serve-data" --pages "$SERVE_PAGES" --edits 5 --timeout 60 \
    --pid-file "$WORK/serve.pid" --results "$RESULTS"

python3 "$HELPER" report --results "$RESULTS" --runs "$RUNS"
