#!/usr/bin/env bash
# Runs the history netns scenarios (test/netns/history_test.cpp) N times and prints, per case,
# the first dial and the repeated dials (min / median / max over every repeat of every run) and
# the SYNs each repeat sent, as a markdown table for docs/history.md.
#
#   sudo tools/measure/history.sh [-n RUNS] [BUILD_DIR]
#
# RUNS: 1..20, default 5. BUILD_DIR: default build/ of this checkout, with netns_scenarios built
# (cmake --build BUILD_DIR -j1 --target netns_scenarios). Needs root (each case runs in a fresh
# network namespace); all traffic stays on loopback inside the namespaces.
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=tools/measure/common.sh
source "$repo/tools/measure/common.sh"
measure_args history 5 "2,10p" "$@"

lines="$(mktemp)"
trap 'rm -f "$lines"' EXIT
for _ in $(seq "$runs"); do
  ctest --test-dir "$build" -R '^netns/history: ' -V 2>&1 | grep -o '\[history\] .*' >>"$lines" || {
    echo "history: the scenarios failed; run ctest -R 'netns/history' to see why" >&2
    exit 1
  }
done

echo "History scenarios, $runs runs, $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r)," \
  "commit $(git -C "$repo" rev-parse --short HEAD)"
echo
echo "| case | first dial ms (min..max) | repeat ms min / median / max | SYNs per repeat |"
echo "|---|---|---|---|"
awk '
  {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    c = v["case"]
    if (!(c in n)) { order[++cases] = c; fmin[c] = 1e9; fmax[c] = 0; smin[c] = 1e9; smax[c] = 0 }
    n[c]++; r[c, n[c]] = v["repeat_ms"] + 0
    if (v["first_ms"] + 0 < fmin[c]) fmin[c] = v["first_ms"] + 0
    if (v["first_ms"] + 0 > fmax[c]) fmax[c] = v["first_ms"] + 0
    if (v["repeat_syns"] + 0 < smin[c]) smin[c] = v["repeat_syns"] + 0
    if (v["repeat_syns"] + 0 > smax[c]) smax[c] = v["repeat_syns"] + 0
  }
  END {
    for (k = 1; k <= cases; k++) {
      c = order[k]; m = n[c]
      for (i = 1; i <= m; i++) s[i] = r[c, i]
      for (i = 2; i <= m; i++) { x = s[i]; j = i - 1; while (j > 0 && s[j] > x) { s[j + 1] = s[j]; j-- } s[j + 1] = x }
      med = (m % 2) ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
      syns = (smin[c] == smax[c]) ? smin[c] : smin[c] ".." smax[c]
      printf "| %s | %.0f..%.0f | %.2f / %.2f / %.2f (%d dials) | %s |\n", c, fmin[c], fmax[c], s[1], med, s[m], m, syns
    }
  }' "$lines"
