#!/usr/bin/env bash
# Runs one netns scenario test binary inside a fresh private network namespace and tears the
# namespace down afterwards, also on failure and on SIGINT/SIGTERM/SIGHUP.
#
#   run-in-netns.sh BINARY [catch arguments...]
#
# Exit status: the binary's, or 77 (CTest SKIP_RETURN_CODE) when this machine cannot run it: not
# root, no `ip netns`, missing nft/iptables or their kernel support. Set HAPPY_DIAL_NETNS_REQUIRED=1 to make those
# cases fail instead. Listing (--list-*) runs the binary directly: CTest discovery needs no root.
set -u

binary="$1"
shift
for arg in "$@"; do
  case "$arg" in
    --list* | -h | --help) exec "$binary" "$@" ;;
  esac
done

skip() {
  echo "SKIPPED: netns scenario suite not run: $*" >&2
  if [ "${HAPPY_DIAL_NETNS_REQUIRED:-0}" = 1 ]; then exit 1; fi
  exit 77
}

[ "$(id -u)" -eq 0 ] || skip "needs root (CI runs as root); run: sudo ctest -R netns"
for tool in ip nft iptables ip6tables; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool not found (tools/install-deps.sh installs it)"
done

prefix="hdnetns-"
ns="${prefix}$$"
etc_dir="/etc/netns/$ns"
created_etc_netns=0
child=""

# Namespaces left by a run that was SIGKILLed (its trap could not run): its pid is gone.
for old in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${prefix}[0-9]+$" || true); do
  pid="${old#"$prefix"}"
  if ! kill -0 "$pid" 2>/dev/null; then
    ip netns delete "$old" 2>/dev/null || true
    rm -rf "/etc/netns/$old"
  fi
done

cleanup() {
  trap - EXIT INT TERM HUP
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null || true
    for _ in $(seq 1 20); do # at most 2 s
      kill -0 "$child" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  ip netns delete "$ns" 2>/dev/null || true
  rm -rf "$etc_dir"
  if [ "$created_etc_netns" = 1 ]; then rmdir /etc/netns 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

[ -d /etc/netns ] || created_etc_netns=1
ip netns add "$ns" 2>/dev/null || skip "cannot create a network namespace (ip netns add $ns failed)"
# ip netns exec bind-mounts these over /etc/hosts, /etc/resolv.conf and /etc/nsswitch.conf;
# the test binary writes their contents.
{ mkdir -p "$etc_dir" && : >"$etc_dir/hosts" && : >"$etc_dir/resolv.conf" &&
  : >"$etc_dir/nsswitch.conf"; } 2>/dev/null || skip "cannot write $etc_dir"
ip netns exec "$ns" true 2>/dev/null || skip "cannot enter network namespace $ns"
# The kernel features the bench needs, probed inside the fresh namespace (gone with it).
ip netns exec "$ns" nft add table inet hd_probe 2>/dev/null ||
  skip "nftables does not work here (nft add table failed)"
ip netns exec "$ns" iptables -w -A OUTPUT -p tcp --dport 9 -j NFQUEUE --queue-num 9 2>/dev/null ||
  skip "the iptables NFQUEUE target does not work here"
ip netns exec "$ns" ip6tables -w -A OUTPUT -p tcp --dport 9 -j NFQUEUE --queue-num 9 2>/dev/null ||
  skip "the ip6tables NFQUEUE target does not work here"
ip netns exec "$ns" nft delete table inet hd_probe
ip netns exec "$ns" iptables -w -D OUTPUT -p tcp --dport 9 -j NFQUEUE --queue-num 9
ip netns exec "$ns" ip6tables -w -D OUTPUT -p tcp --dport 9 -j NFQUEUE --queue-num 9

# Timing windows are tight: run above other work on the machine (nice -10, root only), which
# changes nothing in what is measured but keeps scheduling noise out of it.
HAPPY_DIAL_NETNS="$ns" nice -n -10 ip netns exec "$ns" "$binary" "$@" &
child=$!
wait "$child"
rc=$?
child=""
exit "$rc"
