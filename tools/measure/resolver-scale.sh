#!/usr/bin/env bash
# Runs the resolver netns scenarios (test/netns/resolver_test.cpp) N times and prints their
# figures as markdown tables for docs/benchmarks.md: bursts of 1,000 dials by name per backend
# (median, p99, max, threads, fds, RSS), shared lookups, the CLI's exit, the wave-1 DNS
# scenarios per backend, the TCP fallback. Each cell is the median over the runs with the
# min..max spread in parentheses.
#
#   sudo tools/measure/resolver-scale.sh [-n RUNS] [BUILD_DIR]
#
# RUNS: 1..20, default 3. BUILD_DIR: default build/ of this checkout; it must hold a built
# netns_scenarios and happy-dial (cmake --build BUILD_DIR -j1 --target netns_scenarios
# happy-dial). Needs root (each test runs in a fresh network namespace); all traffic stays on
# loopback inside the namespaces.
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=tools/measure/common.sh
source "$repo/tools/measure/common.sh"
measure_args resolver-scale 3 "2,14p" "$@"

# The cases of resolver_test.cpp (CTest names: "netns/" + the TEST_CASE name).
tests='^netns/(1,000 concurrent dials by |system backend: identical concurrent lookups|A dial whose AAAA is never answered|wave-1 DNS scenarios give the same times|c-ares: a TC answer|lookups per second)'
# The number of tests the pattern selects, as CTest lists them.
expected=$(ctest --test-dir "$build" -N -R "$tests" | sed -n 's/^Total Tests: *//p')

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

summary=""
failed_runs=0
for run in $(seq 1 "$runs"); do
  log="$work/run-$run.log"
  status=0
  # Each test has a 60 s CTest timeout; the whole run is bounded too.
  timeout 600 ctest --test-dir "$build" -R "$tests" -V >"$log" 2>&1 || status=$?
  passed=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed' "$log" || true)
  seconds=$(sed -n 's/^Total Test time (real) = *\([0-9.]*\) sec.*/\1/p' "$log")
  summary="$summary- run $run: $passed/$expected passed, ${seconds:-?} s"
  if [ "$status" -ne 0 ] || [ "$passed" -ne "$expected" ]; then
    failed_runs=$((failed_runs + 1))
    failing=$(sed -nE 's/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: (.*[^ .*]) *\.*\**(Failed|Timeout|Not Run|Exception).*/\1 (\2)/p' "$log" |
      paste -sd ';' - | sed 's/;/; /g')
    summary="$summary; FAILED: ${failing:-ctest exit status $status}"
  fi
  summary="$summary"$'\n'
  # "NNN: [resolver-scale] case=... k=v ..." -> "run=R case=... k=v ..."
  sed -n "s/^[0-9]*: \[resolver-scale\] /run=$run /p" "$log" >>"$work/figures"
done

commit="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit="$commit (with uncommitted changes)"
fi

echo "### Resolver backends at scale (tools/measure/resolver-scale.sh)"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) CPUs, commit $commit," \
  "$runs run(s); each cell: median over the runs (min..max)."
echo
printf '%s' "$summary"
echo

# Median (min..max) of each figure per case and backend, over the runs.
awk '
function fmt(v) {
  if (v == int(v)) return sprintf("%d", v)
  return (v < 1 && v > -1) ? sprintf("%.3f", v) : sprintf("%.1f", v)
}
function cell(key, name,    n, i, j, t, v, lo, hi, med) {
  n = count[key SUBSEP name]
  if (n == 0) return "-"
  for (i = 1; i <= n; i++) v[i] = val[key SUBSEP name SUBSEP i]
  for (i = 2; i <= n; i++) {            # insertion sort: n <= 20
    t = v[i]
    for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]
    v[j + 1] = t
  }
  lo = v[1]; hi = v[n]
  med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  if (lo == hi) return fmt(med)
  return fmt(med) " (" fmt(lo) ".." fmt(hi) ")"
}
{
  c = ""; b = "-"
  for (i = 1; i <= NF; i++) {
    split($i, kv, "=")
    if (kv[1] == "case") c = kv[2]
    else if (kv[1] == "backend") b = kv[2]
  }
  key = c SUBSEP b
  if (!(key in seen)) { seen[key] = 1; order[++keys] = key }
  for (i = 1; i <= NF; i++) {
    split($i, kv, "=")
    if (kv[1] == "case" || kv[1] == "backend" || kv[1] == "run") continue
    n = ++count[key SUBSEP kv[1]]
    val[key SUBSEP kv[1] SUBSEP n] = kv[2] + 0
  }
}
END {
  print "| burst of dials by name | backend | connected | median ms | p99 ms | max ms |" \
        " first ms | lost AAAA: IPv4 after A ms | threads before | threads peak | fds peak |" \
        " RSS peak MB |"
  print "|---|---|---|---|---|---|---|---|---|---|---|---|"
  for (k = 1; k <= keys; k++) {
    split(order[k], p, SUBSEP)
    if (p[1] != "lossy" && p[1] != "prompt" && p[1] != "shared" && p[1] != "floor") continue
    what = (p[1] == "lossy") ? "1,000 names, 10% of AAAA lost" \
         : (p[1] == "prompt") ? "1,000 names, every answer prompt" \
         : (p[1] == "floor") ? "floor: 1,000 dials by IP literal, no DNS" \
         : "50 dials, one name, A +30 ms, AAAA +200 ms"
    if (p[1] == "floor") p[2] = "none"
    lost = p[1] "-lost" SUBSEP p[2]
    print "| " what " | " p[2] " | " cell(order[k], "connected") "/" cell(order[k], "dials") \
          " | " cell(order[k], "median_ms") " | " cell(order[k], "p99_ms") " | " \
          cell(order[k], "max_ms") " | " cell(order[k], "min_ms") " | " \
          cell(lost, "lost_wait_max_ms") " | " cell(order[k], "threads_base") " | " \
          cell(order[k], "threads_peak") " | " cell(order[k], "fds_peak") " | " \
          cell(order[k], "rss_peak_mb") " |"
  }
  print ""
  print "Times from one t0 just before the first dial starts (start-up of the burst included)." \
        " \"lost AAAA\": the latest IPv4 attempt start after its A answer among the dials whose" \
        " AAAA query was dropped (the Resolution Delay is 50 ms). Threads, fds: sampled every 100" \
        " dials started, then every 5 ms by a timer on the io_context of the dials (a busy context" \
        " samples rarely, so the fd peak is a lower bound); RSS: VmHWM."
  print ""
  print "| scenario | backend | figure | value |"
  print "|---|---|---|---|"
  for (k = 1; k <= keys; k++) {
    split(order[k], p, SUBSEP)
    if (p[1] == "shared-queries") {
      print "| 50 identical lookups (system) | system | AAAA queries sent | " \
            cell(order[k], "aaaa_queries") " |"
      print "| 50 identical lookups (system) | system | A queries sent | " \
            cell(order[k], "a_queries") " |"
    } else if (p[1] == "cli-exit") {
      print "| happy-dial, AAAA never answered | " p[2] " | connected after ms | " \
            cell(order[k], "connect_ms") " |"
      print "| happy-dial, AAAA never answered | " p[2] " | exit after its output line ms | " \
            cell(order[k], "exit_after_line_ms") " |"
      print "| happy-dial, AAAA never answered | " p[2] " | exit after start ms | " \
            cell(order[k], "exit_ms") " |"
    } else if (p[1] ~ /^wave1-/) {
      name = (p[1] == "wave1-aaaa-slow") ? "AAAA +100 ms, A prompt" : "A +100 ms, AAAA prompt"
      print "| " name " | system | connected after ms | " cell(order[k], "system_median_ms") " |"
      print "| " name " | c-ares | connected after ms | " cell(order[k], "c_ares_median_ms") " |"
    } else if (p[1] == "rate") {
      print "| 2,000 lookups, 100 in flight | " p[2] " | lookups per second | " \
            cell(order[k], "lookups_per_s") " |"
    } else if (p[1] == "pending") {
      print "| 1,000 lookups pending (never answered) | " p[2] " | heap bytes per lookup | " \
            cell(order[k], "heap_bytes_per_lookup") " |"
      print "| 1,000 lookups pending (never answered) | " p[2] " | fds per lookup | " \
            cell(order[k], "fds_per_lookup") " |"
    } else if (p[1] == "tc-fallback") {
      print "| AAAA and A truncated over UDP | c-ares | connected after ms | " \
            cell(order[k], "elapsed_ms") " |"
      print "| AAAA and A truncated over UDP | c-ares | TCP queries (AAAA + A) | " \
            cell(order[k], "aaaa_tcp") " + " cell(order[k], "a_tcp") " |"
    }
  }
}
' "$work/figures"

if [ "$failed_runs" -gt 0 ]; then
  echo
  echo "($failed_runs of $runs run(s) had failing tests: see the list above)"
  exit 1
fi
