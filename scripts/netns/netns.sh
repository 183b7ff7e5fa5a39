#!/usr/bin/env bash
# Creates and removes the network namespaces of hop's media test rig.
#
# Janus gathers no ICE candidates on loopback, so media tests put Janus and
# the browsers in two namespaces joined by a veth pair:
#
#   hop-j-ID (Janus)   veth-j 198.18.0.1/30 <--> veth-b 198.18.0.2/30   hop-b-ID (browsers)
#
# 198.18.0.0/15 is reserved for network device testing (RFC 2544), so the
# addresses cannot clash with a real network. Nothing connects the namespaces
# to the root namespace; test/support/netns.ts crosses over with Unix socket
# relays (scripts/netns/forward.mjs).
#
# ID should start with the pid of the process that owns the rig
# ("<pid>-<n>"): `cleanup-stale` removes rigs whose owner no longer runs.
#
# Usage (as root):
#   netns.sh create ID
#   netns.sh delete ID
#   netns.sh cleanup-stale
#   netns.sh shape ID RATE [BURST [LATENCY]]   e.g. shape 1234-1 120kbit 16kb 300ms
#   netns.sh unshape ID
#   netns.sh loss ID PERCENT     random loss of UDP packets arriving on each veth end (0 removes it)
#   netns.sh cut ID on|off       drops every packet on both veth ends (a cut link) or restores them
set -euo pipefail

JANUS_ADDRESS=198.18.0.1/30
BROWSER_ADDRESS=198.18.0.2/30

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

check_id() {
  [[ "${1:-}" =~ ^[0-9]+-[0-9a-z]+$ ]] || { echo "netns.sh: invalid rig id '${1:-}' (expected <pid>-<n>)" >&2; exit 2; }
}

namespace_exists() {
  ip netns list | awk '{print $1}' | grep -qx "$1"
}

# Stops the processes still running in a namespace (ours: Janus, relays,
# browsers), by pid: SIGTERM, then SIGKILL after 5 seconds.
stop_namespace_processes() {
  local ns=$1 pids
  namespace_exists "$ns" || return 0
  pids=$(ip netns pids "$ns" || true)
  [ -n "$pids" ] || return 0
  kill -TERM $pids 2>/dev/null || true
  for _ in $(seq 50); do
    pids=$(ip netns pids "$ns" || true)
    [ -n "$pids" ] || return 0
    sleep 0.1
  done
  kill -KILL $pids 2>/dev/null || true
}

delete_rig() {
  local id=$1 ns
  for ns in "hop-j-$id" "hop-b-$id"; do
    stop_namespace_processes "$ns"
    if namespace_exists "$ns"; then
      ip netns del "$ns"
    fi
  done
}

create_rig() {
  local id=$1 jns="hop-j-$1" bns="hop-b-$1"
  if namespace_exists "$jns" || namespace_exists "$bns"; then
    echo "netns.sh: rig $id exists; delete it first" >&2
    exit 1
  fi
  ip netns add "$jns"
  ip netns add "$bns"
  # Both ends are created directly inside their namespaces, so their names
  # never clash with interfaces of the root namespace or of other rigs.
  ip link add veth-j netns "$jns" type veth peer name veth-b netns "$bns"
  ip -n "$jns" addr add "$JANUS_ADDRESS" dev veth-j
  ip -n "$bns" addr add "$BROWSER_ADDRESS" dev veth-b
  ip -n "$jns" link set lo up
  ip -n "$bns" link set lo up
  ip -n "$jns" link set veth-j up
  ip -n "$bns" link set veth-b up
}

cleanup_stale() {
  local ns id owner
  for ns in $(ip netns list | awk '{print $1}' | grep -E '^hop-[jb]-[0-9]+-[0-9a-z]+$' || true); do
    id=${ns#hop-?-}
    owner=${id%%-*}
    if ! kill -0 "$owner" 2>/dev/null; then
      echo "netns.sh: removing $ns (owner pid $owner is gone)" >&2
      stop_namespace_processes "$ns"
      namespace_exists "$ns" && ip netns del "$ns"
    fi
  done
}

# Limits the rate in both directions with a token bucket filter (tbf) on each
# veth end. tbf is used because netem is not available on every kernel.
shape_rig() {
  local id=$1 rate=$2 burst=${3:-16kb} latency=${4:-300ms}
  ip -n "hop-j-$id" link show veth-j >/dev/null 2>&1 || { echo "netns.sh: rig $id does not exist" >&2; exit 1; }
  tc -n "hop-j-$id" qdisc replace dev veth-j root tbf rate "$rate" burst "$burst" latency "$latency"
  tc -n "hop-b-$id" qdisc replace dev veth-b root tbf rate "$rate" burst "$burst" latency "$latency"
}

unshape_rig() {
  local id=$1
  tc -n "hop-j-$id" qdisc del dev veth-j root 2>/dev/null || true
  tc -n "hop-b-$id" qdisc del dev veth-b root 2>/dev/null || true
}

# Random loss with iptables `statistic` (netem is not available on every
# kernel): UDP packets arriving on each veth end are dropped with probability
# PERCENT/100, so both directions of the media path lose that share. The
# rules sit in their own chain, hop-loss, which `loss ID 0` empties.
loss_rig() {
  local id=$1 percent=$2 ns dev probability
  [[ "$percent" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "netns.sh: invalid loss percentage '$percent'" >&2; exit 2; }
  probability=$(awk -v p="$percent" 'BEGIN { printf "%.4f", p / 100 }')
  for ns in "hop-j-$id" "hop-b-$id"; do
    dev=veth-j
    [ "$ns" = "hop-b-$id" ] && dev=veth-b
    ip netns exec "$ns" iptables -N hop-loss 2>/dev/null || ip netns exec "$ns" iptables -F hop-loss
    ip netns exec "$ns" iptables -C INPUT -j hop-loss 2>/dev/null || ip netns exec "$ns" iptables -I INPUT -j hop-loss
    if [ "$probability" != "0.0000" ]; then
      ip netns exec "$ns" iptables -A hop-loss -i "$dev" -p udp -m statistic --mode random --probability "$probability" -j DROP
    fi
  done
}

# A cut link: every packet on the browser-side veth end is dropped, both ways.
cut_rig() {
  local id=$1 state=$2 ns="hop-b-$1"
  ip netns exec "$ns" iptables -N hop-cut 2>/dev/null || ip netns exec "$ns" iptables -F hop-cut
  ip netns exec "$ns" iptables -C INPUT -j hop-cut 2>/dev/null || ip netns exec "$ns" iptables -I INPUT -j hop-cut
  ip netns exec "$ns" iptables -C OUTPUT -j hop-cut 2>/dev/null || ip netns exec "$ns" iptables -I OUTPUT -j hop-cut
  case "$state" in
    on)
      ip netns exec "$ns" iptables -A hop-cut -i veth-b -j DROP
      ip netns exec "$ns" iptables -A hop-cut -o veth-b -j DROP
      ;;
    off) ;;
    *) usage ;;
  esac
}

command=${1:-}
case "$command" in
  create) check_id "${2:-}"; create_rig "$2" ;;
  delete) check_id "${2:-}"; delete_rig "$2" ;;
  cleanup-stale) cleanup_stale ;;
  shape) check_id "${2:-}"; [ -n "${3:-}" ] || usage; shape_rig "$2" "$3" "${4:-}" "${5:-}" ;;
  unshape) check_id "${2:-}"; unshape_rig "$2" ;;
  loss) check_id "${2:-}"; [ -n "${3:-}" ] || usage; loss_rig "$2" "$3" ;;
  cut) check_id "${2:-}"; [ -n "${3:-}" ] || usage; cut_rig "$2" "$3" ;;
  *) usage ;;
esac
