#!/usr/bin/env bash
# Times the git history read (history.git: true) on a site of N pages
# with M commits: a build with it against the same build without it.
# Usage: bench/history.sh [PAGES] [COMMITS]   (default 1000 1000)
# Uses the release site-gen under CARGO_TARGET_DIR (default target/), or
# the binary SITE_GEN names (then nothing is built).
set -euo pipefail
pages="${1:-1000}"
commits="${2:-1000}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$here/target}"
if [ -z "${SITE_GEN:-}" ]; then
  (cd "$here" && cargo build --release --quiet -p site-gen)
fi
bin="${SITE_GEN:-$target/release/site-gen}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
site="$work/site"
mkdir -p "$site/content/pages"
cp -r "$here/themes" "$site/"
printf 'title: 基准\nbase_url: https://example.org\n' > "$site/config.yaml"
printf -- '---\ntitle: 首页\n---\n' > "$site/content/_index.md"
printf -- '---\ntitle: 页面\n---\n' > "$site/content/pages/_index.md"
for i in $(seq 1 "$pages"); do
  printf -- '---\ntitle: 第 %d 页\n---\n\n## 内容\n\n第 %d 页的正文。\n' "$i" "$i" > "$site/content/pages/p$i.md"
done
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.org GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.org
git -C "$site" init --quiet
printf 'public/\n' > "$site/.gitignore"
git -C "$site" add . && git -C "$site" commit --quiet -m "第一版"
# Each commit changes one page, round-robin, on its own day.
for c in $(seq 2 "$commits"); do
  p=$(( (c % pages) + 1 ))
  echo "修改 $c" >> "$site/content/pages/p$p.md"
  day=$(date -u -d "2024-01-01 + $c days" +%Y-%m-%dT12:00:00Z)
  GIT_AUTHOR_DATE="$day" GIT_COMMITTER_DATE="$day" git -C "$site" commit --quiet -am "修订 $c"
done
best() {
  local best=""
  for _ in 1 2 3; do
    local start end ms
    start=$(date +%s%N)
    "$bin" check --root "$site" >/dev/null 2>&1
    end=$(date +%s%N)
    ms=$(( (end - start) / 1000000 ))
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
  done
  echo "$best"
}
without=$(best)
printf 'history:\n  git: true\n' >> "$site/config.yaml"
with=$(best)
git_only_start=$(date +%s%N)
git -C "$site/content" log --no-renames --relative --name-only --format='%x1e%cs %s' -- . > /dev/null
git_only=$(( ($(date +%s%N) - git_only_start) / 1000000 ))
echo "pages=$pages commits=$commits"
echo "site-gen check without history: ${without} ms (best of 3)"
echo "site-gen check with history.git: ${with} ms (best of 3)"
echo "the git log itself: ${git_only} ms"
awk -v a="$with" -v b="$without" 'BEGIN { printf "added by history: %d ms, ratio %.2f\n", a - b, (b > 0 ? a / b : 0) }'
