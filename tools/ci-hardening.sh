#!/usr/bin/env bash
# Hardening CI (issue #7, docs/reliability.md): the operation, fault, stress and TLS tests under
# AddressSanitizer + UndefinedBehaviorSanitizer (build-asan), the operation, fault and stress
# tests under ThreadSanitizer (build-tsan), then the libFuzzer targets for a fixed time from the committed seed corpus
# (build-fuzz). The netns scenarios, examples, tools and benchmarks are not built here.
#
# Usage: tools/ci-hardening.sh [all|asan|tsan|fuzz]...     (default: all)
# Environment:
#   HAPPY_DIAL_FUZZ_SECONDS   fuzzing time in total (default 60: engine 3/6, input,
#                             proxy_reply and svcb 1/6 each)
#   HAPPY_DIAL_STRESS_DIALS   dials of the stress test (default 10,000, in every build: under
#                             TSan they take about 1.5 s, so no reduction is needed)
set -euo pipefail
cd "$(dirname "$0")/.."

steps=("$@")
if [ ${#steps[@]} -eq 0 ] || [ "${steps[0]}" = all ]; then
  steps=(asan tsan fuzz)
fi
jobs="$(nproc)"
# Their CTest tests carry the label of the executable (test/CMakeLists.txt, happy_dial_test):
# unit_tests -> unit, and so on. Nothing else (netns, consumer, docs, bench, cli, examples) has
# one of these labels. Neither sanitizer runs unit_tests: the engine's unit tests run on one
# thread (TSan has nothing to find there), and the core code they test most (the engine, the
# input checks, the proxy handshakes, the DNS and SVCB parsers) runs under ASan+UBSan in the fuzz
# step below; the history and the allocator run under both sanitizers inside the operation
# tests' dials. Leaving them out saves about 50 s of ASan build (issue 18: CI under 25 minutes).
# tls_tests runs under ASan only: it checks that a losing attempt's SSL state is freed.
asan_targets=(op_tests fault_tests stress_tests tls_tests)
asan_labels='^(op|fault|stress|tls)$'
tsan_targets=(op_tests fault_tests stress_tests)
tsan_labels='^(op|fault|stress)$'
summary=()

tools/install-deps.sh

# Fail on the first report of any sanitizer (UBSan would otherwise print and go on).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"

# sanitized_suite NAME DIR SANITIZERS: builds the test targets with the sanitizers, runs them.
sanitized_suite() {
  local name="$1" dir="$2" sanitizers="$3" start=$SECONDS
  local -n test_targets="${name}_targets"
  local test_labels="${name}_labels"
  test_labels="${!test_labels}"
  echo "== ci-hardening: $name: build ($dir, HAPPY_DIAL_SANITIZE=$sanitizers)"
  # -g1: line numbers in every report; assertions on. ASan+UBSan at -O0: its build is CI's
  # longest step, and -O0 compiles the Asio-heavy tests about a third faster than -O1
  # (op/token_test.cpp 27.5 s against 17.6 s here) while its tests wait on sockets and timers,
  # not on the CPU. TSan stays at -O1, where its own overhead is smaller.
  local opt="-O1"
  if [ "$name" = asan ]; then
    opt="-O0"
  fi
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$opt -g1" \
    -DHAPPY_DIAL_SANITIZE="$sanitizers" -DHAPPY_DIAL_BUILD_TOOLS=OFF \
    -DHAPPY_DIAL_BUILD_EXAMPLES=OFF -DHAPPY_DIAL_BUILD_BENCHMARKS=OFF \
    -DHAPPY_DIAL_WERROR="${HAPPY_DIAL_WERROR:-ON}" >/dev/null
  cmake --build "$dir" -j"$jobs" --target "${test_targets[@]}"
  local built=$SECONDS
  echo "== ci-hardening: $name: run ${test_targets[*]} (ctest -L '$test_labels')"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 1200 -L "$test_labels" \
    --no-tests=error
  summary+=("$name: build $((built - start)) s, tests $((SECONDS - built)) s")
}

fuzz_suite() {
  local start=$SECONDS total="${HAPPY_DIAL_FUZZ_SECONDS:-60}"
  local input_time=$((total / 6)) proxy_time=$((total / 6)) svcb_time=$((total / 6))
  local engine_time=$((total - input_time - proxy_time - svcb_time))
  echo "== ci-hardening: fuzz: build (build-fuzz, clang)"
  cmake -S fuzz -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build-fuzz -j"$jobs"
  local built=$SECONDS work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  for target in engine input proxy_reply svcb; do
    local seconds=$engine_time
    if [ $target = input ]; then seconds=$input_time; fi
    if [ $target = proxy_reply ]; then seconds=$proxy_time; fi
    if [ $target = svcb ]; then seconds=$svcb_time; fi
    echo "== ci-hardening: fuzz: ${target}_fuzz for $seconds s from fuzz/corpus/$target"
    mkdir -p "$work/$target"
    # New inputs go to the scratch directory; the committed corpus is only read.
    if ! "build-fuzz/${target}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$work/" "$work/$target" "fuzz/corpus/$target" \
      >"$work/$target.log" 2>&1; then
      tail -n 60 "$work/$target.log"
      for crash in "$work"/crash-* "$work"/timeout-* "$work"/oom-* "$work"/leak-*; do
        [ -e "$crash" ] && { echo "reproducer: $crash"; od -An -tx1 "$crash" | head -n 20; }
      done
      exit 1
    fi
    local execs
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$target.log")"
    summary+=("fuzz ${target}_fuzz: ${execs:-?} executions in $seconds s, no failure")
  done
  summary+=("fuzz: build $((built - start)) s, total $((SECONDS - start)) s")
}

for step in "${steps[@]}"; do
  case "$step" in
    asan) sanitized_suite asan build-asan address,undefined ;;
    tsan) sanitized_suite tsan build-tsan thread ;;
    fuzz) fuzz_suite ;;
    *)
      echo "usage: $0 [all|asan|tsan|fuzz]..." >&2
      exit 2
      ;;
  esac
done

echo "== ci-hardening: done in $SECONDS s"
for line in "${summary[@]}"; do
  echo "   $line"
done
