#!/usr/bin/env bash
# Compile cost of one coroutine dial against resolver + asio::async_connect (issue 12): CPU time
# of compiling each file (median of N runs, with min and max) and the text each adds to an object.
# Usage: tools/measure/compile-cost.sh [include-dir] [runs]     (default: include, 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
include="${1:-include}"
runs="${2:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat >"$work/plain.cpp" <<'CPP'
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
boost::asio::awaitable<boost::asio::ip::tcp::socket> f(boost::asio::any_io_executor ex) {
    boost::asio::ip::tcp::resolver resolver(ex);
    auto results = co_await resolver.async_resolve("example.com", "443", boost::asio::use_awaitable);
    boost::asio::ip::tcp::socket socket(ex);
    co_await boost::asio::async_connect(socket, results, boost::asio::use_awaitable);
    co_return socket;
}
CPP
cat >"$work/dial.cpp" <<'CPP'
#include <happy_dial/happy_dial.hpp>
#include <boost/asio/use_awaitable.hpp>
boost::asio::awaitable<boost::asio::ip::tcp::socket> f(boost::asio::any_io_executor ex) {
    co_return co_await happy_dial::async_dial(ex, "example.com", "443", boost::asio::use_awaitable);
}
CPP
cat >"$work/empty.cpp" <<'CPP'
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
boost::asio::awaitable<int> f(boost::asio::any_io_executor) { co_return 0; }
CPP

flags=(-std=c++20 -O2 -g -DNDEBUG -I"$include" -c)
measure() {  # prints the median, min and max user+sys seconds of compiling $1
    local file="$1" times=()
    for _ in $(seq "$runs"); do
        /usr/bin/time -f "%U %S" -o "$work/t" g++ "${flags[@]}" "$work/$file.cpp" -o "$work/$file.o"
        times+=("$(awk '{printf "%.2f", $1 + $2}' "$work/t")")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f %.2f %.2f", a[int((NR+1)/2)], a[1], a[NR]}'
}
text() { size -A "$work/$1.o" | awk '$1 ~ /^\.text/ {s += $2} END {print s}'; }

echo "compile cost, $(date -u +%F), $(nproc) cores, $(g++ --version | head -1), commit $(git -C "$include" rev-parse --short HEAD), include=$include, $runs runs"
read -r em emin emax <<<"$(measure empty)"
read -r pm pmin pmax <<<"$(measure plain)"
read -r dm dmin dmax <<<"$(measure dial)"
et=$(text empty); pt=$(text plain); dt=$(text dial)
printf "%-36s %8s %14s %12s\n" "file" "cpu s" "(min-max)" ".text bytes"
printf "%-36s %8s %14s %12s\n" "coroutine, nothing" "$em" "($emin-$emax)" "$et"
printf "%-36s %8s %14s %12s\n" "coroutine, resolver + async_connect" "$pm" "($pmin-$pmax)" "$pt"
printf "%-36s %8s %14s %12s\n" "coroutine, happy_dial::async_dial" "$dm" "($dmin-$dmax)" "$dt"
awk -v p="$pm" -v d="$dm" -v e="$em" -v pt="$pt" -v dt="$dt" -v et="$et" 'BEGIN {
    printf "CPU ratio dial/plain: %.2fx; text over the empty coroutine: plain %d, dial %d (%.2fx)\n",
           d / p, pt - et, dt - et, (dt - et) / (pt - et) }'
