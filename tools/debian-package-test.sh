#!/usr/bin/env bash
# Builds the Debian packages (debian/: libhappy-dial-dev and happy-dial) from a copy of the
# source tree and tests what they install, without installing anything on this system:
#   1. copies the files git knows (tracked, and untracked ones that are not ignored) to WORK_DIR
#   2. dpkg-buildpackage -us -uc -b there (the .deb files land in WORK_DIR, next to the copy)
#   3. dpkg-deb -c / -I: the expected files and dependencies are in the packages
#   4. dpkg -x both packages into WORK_DIR/root (a directory, not the system)
#   5. builds test/consumer/main.cpp (dials a loopback listener) against that root with
#      find_package (CMAKE_PREFIX_PATH=WORK_DIR/root/usr) and with pkg-config
#      (PKG_CONFIG_SYSROOT_DIR=WORK_DIR/root), and runs both programs
#   6. runs the packaged WORK_DIR/root/usr/bin/happy-dial --version
# Usage: tools/debian-package-test.sh [WORK_DIR]
#   WORK_DIR is emptied first and kept afterwards (CTest passes one under the build tree); without
#   it a temporary directory is used and removed. Exits 77 (skipped) when dpkg-buildpackage,
#   debhelper or a build dependency of debian/control is missing (tools/install-deps.sh installs
#   them all).
# Environment: CMAKE_BUILD_PARALLEL_LEVEL jobs for the package build (default: nproc);
#   HAPPY_DIAL_DEB_TIMEOUT seconds for dpkg-buildpackage (default 780: CTest's TIMEOUT is 900).
set -euo pipefail
source_dir="$(cd "$(dirname "$0")/.." && pwd)"
jobs="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
build_timeout="${HAPPY_DIAL_DEB_TIMEOUT:-780}"
marker=.happy-dial-debian-package-test

fail() {
  echo "debian-package: FAILED: $*" >&2
  exit 1
}
skip() {
  echo "SKIPPED: $*"
  exit 77
}

for tool in dpkg-buildpackage dpkg-deb dpkg-architecture dpkg-checkbuilddeps git cmake c++; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (tools/install-deps.sh)"
done
if ! command -v dh >/dev/null || [ ! -e /usr/share/perl5/Debian/Debhelper/Dh_Lib.pm ]; then
  skip "debhelper is not installed (Debian: apt-get install debhelper)"
fi
git -C "$source_dir" rev-parse --git-dir >/dev/null 2>&1 ||
  skip "$source_dir is not a git checkout (the copy takes the files git knows)"
if ! unmet="$(cd "$source_dir" && dpkg-checkbuilddeps 2>&1)"; then
  skip "build dependencies of debian/control are missing: $unmet"
fi

if [ $# -ge 1 ]; then
  work="$1"
  # Empties only a directory this script made (or an empty one), never an arbitrary path.
  if [ -d "$work" ] && [ ! -e "$work/$marker" ] && [ -n "$(ls -A "$work")" ]; then
    fail "$work exists and was not made by this script; not emptying it"
  fi
  rm -rf "$work"
  mkdir -p "$work"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi
work="$(cd "$work" && pwd)"
touch "$work/$marker"

# The environment of a CTest or make run must not leak into the package build or the consumers.
unset MAKEFLAGS MFLAGS MAKELEVEL CMAKE_PREFIX_PATH PKG_CONFIG_PATH DESTDIR
arch="$(dpkg-architecture -qDEB_HOST_ARCH)"
multiarch="$(dpkg-architecture -qDEB_HOST_MULTIARCH)"
version="$(cd "$source_dir" && dpkg-parsechangelog -S Version)"
upstream="${version%-*}"
tree="$work/happy-dial-$upstream"
root="$work/root"
dev_deb="$work/libhappy-dial-dev_${version}_${arch}.deb"
cli_deb="$work/happy-dial_${version}_${arch}.deb"

timings=()
step_start=""
step_name=""
now_ms() { local t="${EPOCHREALTIME/[.,]/}"; echo "${t:0:-3}"; }
step() {
  step_end
  step_name="$1"
  step_start="$(now_ms)"
  echo "== debian-package: $step_name"
}
step_end() {
  if [ -n "$step_name" ]; then
    local ms=$(($(now_ms) - step_start))
    timings+=("$(printf '%7d.%01d s  %s' $((ms / 1000)) $((ms % 1000 / 100)) "$step_name")")
  fi
  step_name=""
}
total_start="$(now_ms)"

step "copy the source tree (git ls-files)"
echo "to $tree"
mkdir -p "$tree"
(cd "$source_dir" && git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf -) | tar -xf - -C "$tree"
echo "$(find "$tree" -type f | wc -l) files"
# A throwaway index of the copy: after the build, git status shows what the build left in it.
(cd "$tree" && git init -q . && git add -A)

step "dpkg-buildpackage -us -uc -b (parallel=$jobs)"
echo "log: $work/build.log"
# noopt (-O0) and noddebs (no -dbgsym package): this checks what the packages hold and that a
# consumer builds against them, not the optimized code; it halves the build (issue 18, CI time).
export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-noopt noddebs} parallel=$jobs"
if ! (cd "$tree" && timeout "$build_timeout" dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
  tail -n 40 "$work/build.log" >&2
  fail "dpkg-buildpackage failed or took more than $build_timeout s (log: $work/build.log)"
fi
for deb in "$dev_deb" "$cli_deb"; do
  [ -f "$deb" ] || fail "dpkg-buildpackage made no $(basename "$deb"): $(ls "$work")"
done
for deb in "$work"/*.deb; do
  echo "  $(basename "$deb") ($(($(stat -c %s "$deb") / 1024)) KiB)"
done
# The package build leaves no file that git would see in the tree (.gitignore covers debian/'s
# build products and obj-*/), and changes no file of it.
leftover="$(cd "$tree" && git status --porcelain --untracked-files=all | { grep -v '^A  ' || true; })"
[ -z "$leftover" ] || fail "the build left or changed files in the tree that git sees:"$'\n'"$leftover"
echo "git status of the tree after the build: clean"

step "dpkg-deb -c / -I: files and dependencies"
# check_contents DEB PATH...: each PATH (absolute) is in DEB. The listing is kept in WORK_DIR.
check_contents() {
  local deb="$1" list
  shift
  list="$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|; s|/$||')"
  echo "$list" >"$work/$(basename "$deb" .deb).contents"
  for want in "$@"; do
    grep -qxF -- "$want" <<<"$list" || fail "$(basename "$deb") lacks $want; it has:"$'\n'"$list"
  done
}
lib="/usr/lib/$multiarch"
check_contents "$dev_deb" /usr/include/happy_dial/happy_dial.hpp \
  "$lib/libhappy_dial.a" "$lib/libhappy_dial_testing.a" \
  "$lib/cmake/happy_dial/happy_dial-config.cmake" \
  "$lib/cmake/happy_dial/happy_dial-config-version.cmake" \
  "$lib/cmake/happy_dial/happy_dial-targets.cmake" \
  "$lib/pkgconfig/happy_dial.pc" "$lib/pkgconfig/happy_dial_testing.pc" \
  /usr/share/doc/libhappy-dial-dev/copyright
check_contents "$cli_deb" /usr/bin/happy-dial /usr/share/doc/happy-dial/copyright
if dpkg-deb -c "$dev_deb" | grep -E '\.so(\.[0-9]+)*$|/usr/bin/'; then
  fail "libhappy-dial-dev has shared libraries or programs (static libraries only)"
fi
if dpkg-deb -c "$cli_deb" | grep -E '/usr/(include|lib)/'; then
  fail "happy-dial has headers or libraries (the CLI only)"
fi
headers="$(dpkg-deb -c "$dev_deb" | grep -c '/usr/include/happy_dial/.*\.hpp$' || true)"
echo "libhappy-dial-dev: $headers headers, libhappy_dial.a, libhappy_dial_testing.a, CMake package, 2 .pc files"
dev_depends="$(dpkg-deb -f "$dev_deb" Depends)"
cli_depends="$(dpkg-deb -f "$cli_deb" Depends)"
echo "libhappy-dial-dev Depends: $dev_depends"
echo "happy-dial Depends: $cli_depends"
for dep in libboost1.81-dev libc-ares-dev; do
  [[ ", $dev_depends" == *", $dep"* ]] || fail "libhappy-dial-dev does not depend on $dep"
done
for dep in libc6 libstdc++6 libc-ares2 libssl3; do  # ${shlibs:Depends} of the CLI (--tls: OpenSSL)
  [[ ", $cli_depends" == *", $dep"* ]] || fail "happy-dial does not depend on $dep"
done
dpkg-deb -I "$dev_deb" >"$work/libhappy-dial-dev.info"
dpkg-deb -I "$cli_deb" >"$work/happy-dial.info"

step "dpkg -x both packages into WORK_DIR/root (not the system)"
dpkg -x "$dev_deb" "$root"
dpkg -x "$cli_deb" "$root"
echo "$(find "$root" -type f | wc -l) files under $root"

step "consumer with find_package (CMAKE_PREFIX_PATH=WORK_DIR/root/usr): build, run"
consumer="$work/consumer-cmake"
timeout 300 cmake -S "$tree/test/consumer" -B "$consumer" -DHOW=find_package \
  -DCMAKE_PREFIX_PATH="$root/usr" >"$work/consumer-cmake.log" 2>&1 ||
  { cat "$work/consumer-cmake.log" >&2; fail "configuring the find_package consumer failed"; }
found="$(sed -n 's/^happy_dial_DIR:PATH=//p' "$consumer/CMakeCache.txt")"
[ "$found" = "$root$lib/cmake/happy_dial" ] ||
  fail "find_package found happy_dial in '$found', not in $root$lib/cmake/happy_dial"
echo "happy_dial_DIR=$found"
# A static libhappy_dial built with c-ares carries c-ares in its link interface.
grep -o 'INTERFACE_LINK_LIBRARIES "[^"]*cares[^"]*"' \
  "$root$lib/cmake/happy_dial/happy_dial-targets.cmake" ||
  fail "the exported happy_dial::happy_dial does not link c-ares"
timeout 300 cmake --build "$consumer" >>"$work/consumer-cmake.log" 2>&1 ||
  { cat "$work/consumer-cmake.log" >&2; fail "building the find_package consumer failed"; }
timeout 60 "$consumer/consumer" || fail "the find_package consumer failed"

step "consumer with pkg-config (PKG_CONFIG_SYSROOT_DIR=WORK_DIR/root): build, run"
command -v pkg-config >/dev/null || fail "pkg-config is not installed (apt-get install pkgconf)"
export PKG_CONFIG_SYSROOT_DIR="$root" PKG_CONFIG_LIBDIR="$root$lib/pkgconfig"
pkg-config --print-errors --validate happy_dial
pkg-config --print-errors --validate happy_dial_testing
cflags="$(pkg-config --cflags happy_dial)" libs="$(pkg-config --libs happy_dial)"
echo "happy_dial $(pkg-config --modversion happy_dial): $cflags $libs"
[[ " $cflags " == *" -I$root/usr/include "* ]] || fail "Cflags lack -I$root/usr/include"
[[ " $libs " == *" -L$root$lib -lhappy_dial -lcares "* ]] ||
  fail "Libs are not -L$root$lib -lhappy_dial -lcares ...: $libs"
# shellcheck disable=SC2086 # word splitting of the pkg-config output is intended
timeout 300 c++ -std=c++20 -o "$work/consumer-pkg-config" "$tree/test/consumer/main.cpp" \
  $cflags $libs || fail "building the pkg-config consumer failed"
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR
timeout 60 "$work/consumer-pkg-config" || fail "the pkg-config consumer failed"

step "the packaged happy-dial --version"
out="$(timeout 10 "$root/usr/bin/happy-dial" --version)" || fail "happy-dial --version failed"
echo "$out"
[ "$out" = "happy-dial $upstream" ] || fail "happy-dial --version printed '$out', not 'happy-dial $upstream'"
step_end

total_ms=$(($(now_ms) - total_start))
echo "== debian-package: passed in $((total_ms / 1000)).$((total_ms % 1000 / 100)) s (WORK_DIR: $work)"
printf '%s\n' "${timings[@]}"
