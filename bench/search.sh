#!/usr/bin/env bash
# Search benchmark: site-gen's index against Pagefind on the same built site.
#
#   bench/search.sh            # the synthetic 10,000-page site
#   bench/search.sh 1000       # another size
#   PAGEFIND=0 bench/search.sh # without Pagefind
#
# Builds the release site-gen, generates the synthetic corpus (bench/corpus.py)
# with the repository's synonyms, times `site-gen build` with and without
# search (the difference is what the index adds), installs pagefind@1.6.0
# from the npm registry (its package ships the binary) and indexes the same
# built site, then runs bench/search-queries.json through both in headless
# Chromium (bench/search.mjs). Needs Chromium and tests/browser's
# node_modules (bash scripts/browser-deps.sh). Not run by CI. Missed targets
# are printed, not fatal.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PAGES=${1:-10000}
RUNS=${RUNS:-3}
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
BIN=${SITE_GEN_BIN:-$TARGET/release/site-gen}
HELPER="$REPO/bench/corpus.py"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/site-gen-search-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
RESULTS=$WORK/builds.jsonl
: >"$RESULTS"

if [[ -z ${SITE_GEN_BIN:-} ]]; then
    echo "== building site-gen (release)"
    (cd "$REPO" && cargo build --release --quiet -p site-gen)
fi
[[ -d $REPO/tests/browser/node_modules/playwright-core ]] || bash "$REPO/scripts/browser-deps.sh"

echo "== generating $PAGES pages"
# corpus.py generates shapes: 100 sections of PAGES/100 pages.
SHAPE=100x$((PAGES / 100))
python3 "$HELPER" generate --sections 100 --per-section $((PAGES / 100)) --out "$WORK/site" --theme "$REPO/themes/default"
# The repository's search settings (its synonyms), as an estate would have.
sed -n '/^search:/,$p' "$REPO/config.yaml" >>"$WORK/site/config.yaml"
cp -r "$WORK/site" "$WORK/plain"
sed -i '/^search:/,$d' "$WORK/plain/config.yaml"
printf 'search:\n  enabled: false\n' >>"$WORK/plain/config.yaml"

echo "== site-gen build, with and without search ($RUNS runs each)"
python3 "$HELPER" measure --tool site-gen-nosearch --shape "$SHAPE" --runs "$RUNS" --results "$RESULTS" -- \
    "$BIN" build --root "$WORK/plain" --out "$WORK/plain-out"
python3 "$HELPER" measure --tool site-gen --shape "$SHAPE" --runs "$RUNS" --results "$RESULTS" -- \
    "$BIN" build --root "$WORK/site" --out "$WORK/out"

if [[ ${PAGEFIND:-1} != 0 ]]; then
    echo "== Pagefind 1.6.0 on the same built site"
    if npm install --silent --prefix "$WORK/pf" pagefind@1.6.0 >/dev/null 2>"$WORK/npm.log"; then
        python3 "$HELPER" measure --tool pagefind --shape "$SHAPE" --runs 1 --timeout 1800 --results "$RESULTS" -- \
            "$WORK/pf/node_modules/.bin/pagefind" --site "$WORK/out"
    else
        echo "   pagefind could not be installed (no comparison):"; cat "$WORK/npm.log"
    fi
fi

echo "== queries in headless Chromium"
node "$REPO/bench/search.mjs" "$WORK/out" "$REPO/bench/search-queries.json" "$RESULTS"
