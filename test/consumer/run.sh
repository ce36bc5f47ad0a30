#!/usr/bin/env bash
# Builds and runs the consumer (main.cpp: dials a loopback listener) one way, and checks what a
# user of that way gets. Usage: run.sh HOW SOURCE_DIR BUILD_DIR WORK_DIR
#   find_package   cmake --install BUILD_DIR into a prefix; the consumer finds it (CMake package)
#   subdirectory   add_subdirectory(SOURCE_DIR): library only; no install rules unless
#                  HAPPY_DIAL_INSTALL=ON, which then installs the package. Built shared
#                  (BUILD_SHARED_LIBS=ON, the only shared build of the suite: the CTest test
#                  "abi: ..." checks its symbols, tools/abi-symbols.sh) and with Catch2 hidden
#                  (CMAKE_DISABLE_FIND_PACKAGE_Catch2=TRUE): this is the build that proves the
#                  library builds without Catch2
#   fetchcontent   FetchContent from SOURCE_DIR: library only (static, unoptimized: the unity
#                  build makes it about 25 s on 2 cores), no install rules
#   pkg-config     cmake --install BUILD_DIR into a prefix; plain
#                  c++ -std=c++20 main.cpp $(pkg-config --cflags --libs happy_dial)
#                  (exits 77, skipped, when pkg-config is not installed)
#   library-only   configures SOURCE_DIR as a top-level project without Catch2
#                  (-DCMAKE_DISABLE_FIND_PACKAGE_Catch2=TRUE): the configure succeeds, says the
#                  tests are skipped and configures no test directory, and the library target
#                  is in the build system (a dry run); that the same sources compile and link
#                  without Catch2 is the subdirectory case's build, not built a third time here
# Builds use CMAKE_BUILD_PARALLEL_LEVEL jobs (default: nproc).
set -euo pipefail
how="$1" source="$2" build="$3" work="$4/$how"
jobs="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$work"
mkdir -p "$work"

fail() {
  echo "consumer $how: FAILED: $*" >&2
  exit 1
}

# Installs nothing of happy_dial: the consumer project has no install rules of its own, so an
# install of it must leave the prefix empty.
check_installs_nothing() {
  cmake --install "$work/build" --prefix "$work/prefix" >"$work/install.log"
  if [ -d "$work/prefix" ] && [ -n "$(find "$work/prefix" -mindepth 1 -print -quit)" ]; then
    find "$work/prefix" >&2
    fail "cmake --install of the parent project installed files of happy_dial"
  fi
  echo "consumer $how: cmake --install of the parent installs nothing of happy_dial"
}

case "$how" in
  find_package | subdirectory | fetchcontent)
    args=(-DHOW="$how")
    if [ "$how" = find_package ]; then
      cmake --install "$build" --prefix "$work/prefix" >/dev/null
      args+=(-DCMAKE_PREFIX_PATH="$work/prefix")
    else
      args+=(-DHAPPY_DIAL_SOURCE="$source")
    fi
    if [ "$how" = subdirectory ]; then
      args+=(-DBUILD_SHARED_LIBS=ON -DCMAKE_DISABLE_FIND_PACKAGE_Catch2=TRUE)
    fi
    cmake -S "$source/test/consumer" -B "$work/build" "${args[@]}" >/dev/null
    cmake --build "$work/build" -j"$jobs" >/dev/null
    "$work/build/consumer"
    if [ "$how" != find_package ]; then
      # The library only: the test kit is built only for a target that links it.
      [ -z "$(find "$work/build" -name 'libhappy_dial_testing.*' -print -quit)" ] ||
        fail "the parent's build built happy_dial_testing, which nothing links"
      check_installs_nothing
    fi
    if [ "$how" = subdirectory ]; then
      # Asked for, the install rules are there: the package and the library land in the prefix.
      cmake "$work/build" -DHAPPY_DIAL_INSTALL=ON >/dev/null
      cmake --build "$work/build" -j"$jobs" >/dev/null
      cmake --install "$work/build" --prefix "$work/prefix" >/dev/null
      for f in happy_dial-config.cmake happy_dial-config-version.cmake happy_dial.pc \
               happy_dial.hpp; do
        [ -n "$(find "$work/prefix" -name "$f" -print -quit)" ] || fail "HAPPY_DIAL_INSTALL=ON: no $f"
      done
      [ -n "$(find "$work/prefix" -name 'libhappy_dial.*' -print -quit)" ] ||
        fail "HAPPY_DIAL_INSTALL=ON: no libhappy_dial"
      echo "consumer $how: with HAPPY_DIAL_INSTALL=ON, cmake --install installs happy_dial"
    fi
    ;;
  pkg-config)
    if ! command -v pkg-config >/dev/null; then
      echo "SKIPPED: pkg-config is not installed (Debian: apt-get install pkgconf)"
      exit 77
    fi
    cmake --install "$build" --prefix "$work/prefix" >/dev/null
    pc="$(find "$work/prefix" -name happy_dial.pc -print -quit)"
    [ -n "$pc" ] || fail "no happy_dial.pc installed under $work/prefix"
    PKG_CONFIG_PATH="$(dirname "$pc")"
    export PKG_CONFIG_PATH
    pkg-config --print-errors --validate happy_dial
    pkg-config --print-errors --validate happy_dial_testing
    cflags="$(pkg-config --cflags happy_dial)" libs="$(pkg-config --libs happy_dial)"
    echo "consumer $how: happy_dial $(pkg-config --modversion happy_dial): $cflags $libs"
    [[ " $cflags " == *" -I$work/prefix/include "* ]] || fail "Cflags lack -I$work/prefix/include"
    [[ " $libs " == *" -lhappy_dial "* ]] || fail "Libs lack -lhappy_dial"
    testing_libs="$(pkg-config --libs happy_dial_testing)"
    [[ " $testing_libs " == *" -lhappy_dial_testing "*"-lhappy_dial "* ]] ||
      fail "happy_dial_testing's Libs are not -lhappy_dial_testing ... -lhappy_dial: $testing_libs"
    libdir="$(pkg-config --variable=libdir happy_dial)"
    # -std=c++20 is the consumer's (g++ 12 defaults to C++17); the rpath finds a shared build.
    # shellcheck disable=SC2086 # word splitting of the pkg-config output is intended
    c++ -std=c++20 -o "$work/consumer" "$here/main.cpp" $cflags $libs -Wl,-rpath,"$libdir"
    "$work/consumer"
    ;;
  library-only)
    # Build type None (no -O, no -g): whether the library builds, not how fast it runs; the
    # top-level default (RelWithDebInfo) would double this test's time.
    if ! cmake -S "$source" -B "$work/build" -DCMAKE_DISABLE_FIND_PACKAGE_Catch2=TRUE \
      -DCMAKE_BUILD_TYPE=None -DHAPPY_DIAL_BUILD_BENCHMARKS=OFF >"$work/configure.log" 2>&1; then
      cat "$work/configure.log" >&2
      fail "the configure without Catch2 failed"
    fi
    message="happy_dial: Catch2 2.13 not found, so the tests are not built"
    if ! tr -s ' \n' ' ' <"$work/configure.log" | grep -qF "$message"; then
      cat "$work/configure.log" >&2
      fail "the configure did not say: $message"
    fi
    [ ! -e "$work/build/test" ] || fail "the test directory was configured without Catch2"
    echo "consumer $how: configure without Catch2 said: $message"
    # A dry run (make -n / ninja -n): the library target and its sources are in the build
    # system. Compiling them again would cost 100 s of CI for what the subdirectory case proves.
    cmake --build "$work/build" --target happy_dial -- -n >"$work/dry-run.log" 2>&1 ||
      { cat "$work/dry-run.log" >&2; fail "no buildable happy_dial target"; }
    # The sources one by one, or in the unity batches (HAPPY_DIAL_UNITY_BUILD, the default).
    grep -Eq 'src/dial_core\.cpp|happy_dial\.dir/Unity/unity_0_cxx\.cxx' "$work/dry-run.log" ||
      { cat "$work/dry-run.log" >&2; fail "the dry run of happy_dial compiles none of its sources"; }
    [ -z "$(find "$work/build" -name '*.o' -print -quit)" ] || fail "the dry run compiled something"
    echo "consumer $how: the happy_dial target is in the build system (dry run)"
    ;;
  *)
    echo "usage: $0 find_package|subdirectory|fetchcontent|pkg-config|library-only" \
      "SOURCE_DIR BUILD_DIR WORK_DIR" >&2
    exit 2
    ;;
esac
