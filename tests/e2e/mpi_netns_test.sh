#!/usr/bin/env bash
# One MPI job whose two ranks live in two network namespaces, so that their exchange crosses a real network
# stack (Open MPI's TCP transport over a veth pair) rather than shared memory: every output must be the bytes of
# one process, and the partial states must really go through the link.
#
#   root namespace: mpirun, rank 0   10.77.0.1 ==== veth ==== 10.77.0.2   namespace lcnb: rank 1
#   (PMIx, which rank 1 reaches over the same link, and the ranks' btl tcp traffic)
#
#   bash tests/e2e/mpi_netns_test.sh path/to/labcount
# Exit 77 (ctest: skipped) without root, ip netns, mpirun or the MPI plugin.
set -uo pipefail
labcount=$(realpath "${1:?usage: mpi_netns_test.sh LABCOUNT}")
skip() { echo "skipped: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
command -v ip > /dev/null || skip "no ip(8)"
command -v mpirun > /dev/null || skip "no mpirun"
[ -e "$(dirname "$labcount")/liblabcount_mpi.so" ] || skip "this labcount has no MPI plugin"

tag=$$
ns=lcnb$tag here=lcx$tag there=lcy$tag
work=$(mktemp -d)
cleanup() {
  ip netns del "$ns" 2> /dev/null
  ip link del "$here" 2> /dev/null
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns" 2> /dev/null || skip "cannot create network namespaces here"
set -e
ip link add "$here" type veth peer name "$there"
ip link set "$there" netns "$ns"
ip addr add 10.77.0.1/24 dev "$here"
ip link set "$here" up
ip netns exec "$ns" ip addr add 10.77.0.2/24 dev "$there"
ip netns exec "$ns" ip link set "$there" up
ip netns exec "$ns" ip link set lo up
set +e

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# PMIx listens on the veth (not on loopback only), so that the rank in the other namespace reaches mpirun.
export PMIX_MCA_ptl_tcp_remote_connections=1 PMIX_MCA_ptl_tcp_if_include=10.77.0.0/24
export LABCOUNT_MPI_SPLIT_BYTES=1  # every file cut between the two ranks
"$labcount" generate --rows 300k --samples 40k --lf -o "$work/data.csv"
awk -F, 'NR == 1 { print $0 ",Assay"; next } { print $0 "," (NR % 3 ? "PCR" : "ELISA") }' "$work/data.csv" > "$work/two.csv"

failed=0
link_bytes() { cat "/sys/class/net/$here/statistics/rx_bytes"; }
check() {  # check NAME ARGS...: the two-namespace job against one process
  local name=$1; shift
  local before; before=$(link_bytes)
  timeout 120 mpirun --oversubscribe --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 \
    -np 1 "$labcount" count "$@" -o "$work/job.csv" : \
    -np 1 ip netns exec "$ns" "$labcount" count "$@" -o "$work/job.csv" > "$work/job.log" 2>&1
  local status=$?
  local sent=$(( $(link_bytes) - before ))
  "$labcount" count "$@" -o "$work/one.csv" 2> /dev/null
  if [ $status -ne 0 ] || ! cmp -s "$work/job.csv" "$work/one.csv"; then
    echo "FAIL $name: exit $status"; head -8 "$work/job.log"; failed=1
  elif [ "$sent" -lt 1000 ]; then
    echo "FAIL $name: only $sent bytes crossed the link between the namespaces"; failed=1
  else
    echo "ok   $name ($sent bytes over the veth pair)"
  fi
}
check counts "$work/data.csv"
check stats "$work/data.csv" --stats
check per-day "$work/data.csv" --per day
check per-file "$work/data.csv" "$work/two.csv" --per-file
check composite "$work/two.csv" --key SampleID,Assay --stats
exit $failed
