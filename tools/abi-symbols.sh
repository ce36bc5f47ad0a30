#!/usr/bin/env bash
# The exported symbols of a shared libhappy_dial against the list committed for its SONAME
# (issue 18): binaries linked against libhappy_dial.so.N (0.N before 1.0) keep working only while
# the symbols they use are there, so under one SONAME the list must not change.
#
# Usage: tools/abi-symbols.sh [--update] LIBRARY
#   LIBRARY    a shared build of happy_dial (BUILD_SHARED_LIBS=ON): libhappy_dial.so[.N[.M.P]]
#   --update   write the list of LIBRARY to abi/<SONAME>.symbols instead of comparing
#
# The list: the mangled names, sorted, of the dynamic symbols that LIBRARY defines as strong
# code or data (nm -D --defined-only, types T, D, B, R) whose demangled name contains
# "happy_dial::". Weak symbols (inline functions, templates, vtables of classes without a key
# function) are left out: they depend on what the optimiser inlines, and every user that needs
# one has its own copy. So the list is the same at -O0 and -O2.
#
# Exit status: 0 when the lists are the same (or with --update), 1 when they differ or there is
# no list for LIBRARY's SONAME, 77 (skipped) when LIBRARY was built without the c-ares backend
# (the committed lists are of builds with it, as Debian's and CI's are), 2 on bad usage.
set -euo pipefail

update=false
if [ "${1:-}" = --update ]; then
  update=true
  shift
fi
if [ $# -ne 1 ]; then
  echo "usage: $0 [--update] LIBRARY" >&2
  exit 2
fi
lib="$1"
abi_dir="$(cd "$(dirname "$0")/.." && pwd)/abi"
for tool in nm readelf c++filt; do
  command -v "$tool" >/dev/null || { echo "abi-symbols: $tool is not installed (binutils)" >&2; exit 1; }
done
[ -f "$lib" ] || { echo "abi-symbols: no such file: $lib" >&2; exit 1; }

soname="$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')"
if [ -z "$soname" ]; then
  echo "abi-symbols: $lib has no SONAME (not a shared library built by happy_dial's CMake?)" >&2
  exit 1
fi
if ! readelf -d "$lib" | grep -q '(NEEDED).*\[libcares\.so'; then
  echo "SKIPPED: $lib was built without c-ares; abi/$soname.symbols is of a build with it"
  exit 77
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# nm -D prints a symbol version after "@" when there is one; the name is what the list keeps.
nm -D --defined-only --format=posix "$lib" | awk '$2 ~ /^[TDBR]$/ { sub(/@.*/, "", $1); print $1 }' |
  LC_ALL=C sort -u >"$work/mangled"
c++filt <"$work/mangled" >"$work/demangled"
paste -d '\t' "$work/mangled" "$work/demangled" | awk -F '\t' 'index($2, "happy_dial::") { print $1 }' \
  >"$work/actual"
[ -s "$work/actual" ] || { echo "abi-symbols: no happy_dial:: symbol exported by $lib" >&2; exit 1; }
count="$(wc -l <"$work/actual")"
expected="$abi_dir/$soname.symbols"

if $update; then
  mkdir -p "$abi_dir"
  if [ -f "$expected" ]; then
    diff -u "$expected" "$work/actual" | c++filt || true
  fi
  cp "$work/actual" "$expected"
  echo "abi-symbols: wrote $count symbols of $soname to $expected"
  exit 0
fi

if [ ! -f "$expected" ]; then
  echo "abi-symbols: FAILED: no list of the symbols of $soname ($expected)." >&2
  echo "  A new SONAME starts a new list: tools/abi-symbols.sh --update $lib, and commit it." >&2
  exit 1
fi
if ! diff -u "$expected" "$work/actual" >"$work/diff"; then
  echo "abi-symbols: FAILED: the exported symbols of $lib differ from $expected," >&2
  echo "under the same SONAME $soname (- no longer exported, + new), demangled:" >&2
  c++filt <"$work/diff" | tail -n +3 | grep '^[-+]' >&2 || true
  cat >&2 <<MSG
If the change is on purpose:
  * a symbol removed or changed breaks programs linked against $soname: bump the SONAME
    (the minor of project(VERSION) in CMakeLists.txt before 1.0, the major after), then record
    the new list;
  * a symbol added breaks nothing: record it.
  Record: tools/abi-symbols.sh --update $lib (writes abi/<SONAME>.symbols), and commit it.
MSG
  exit 1
fi
echo "abi-symbols: $count exported happy_dial symbols of $soname, as in abi/$soname.symbols"
