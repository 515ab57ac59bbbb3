#!/bin/bash
# Record the head of a REAL etcd WAL, for test-wal. Not run by the tests: the recordings are
# committed. Re-run by hand to refresh them:
#
#   tests/unit/data/record-wal.sh SERIES=ETCD_BINARY...
#   e.g. tests/unit/data/record-wal.sh 3.3=/var/cache/etcd-hooks/3.3/bin/etcd \
#            3.4=/var/cache/etcd-hooks/3.4/bin/etcd 3.5=/var/cache/etcd-hooks/3.5/bin/etcd
#
# For each server: a 1-member cluster on 127.0.0.1:24790 (client) / 24800 (peer) in a temp
# data dir, with the initial cluster token "record-wal-<series>" so that every series gets
# other IDs; wait until it is healthy, read the member ID and the cluster ID from the header
# of POST /v3/cluster/member/list (3.3: /v3beta/...), stop it, and keep:
#   wal-<series>.head  the first 4096 bytes of member/wal/0000000000000000-0000000000000000.wal
#                      (the file is a preallocated 64 MB segment; its records start at 0)
#   wal-<series>.ids   "member_id=<decimal>\ncluster_id=<decimal>\n", as the server said
#   wal-<series>.log   the records of that segment after 20 puts, cut after its last
#                      non-zero byte and 8 zero bytes (the preallocated tail), for
#                      wal_read_state()
#   wal-<series>.state "raft_index=<decimal>\n": the member's maintenance/status raftIndex
#                      right before it was stopped (the commit index its WAL must show)
set -euo pipefail

dir=$(cd "$(dirname "$0")" && pwd)
client=http://127.0.0.1:24790
peer=http://127.0.0.1:24800
head_bytes=4096
first_wal=0000000000000000-0000000000000000.wal
tmp=$(mktemp -d)
pid=

stop() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	pid=
}

cleanup() {
	stop
	rm -rf "$tmp"
}
trap cleanup EXIT

wait_health() {
	for _ in $(seq 100); do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "etcd exited; its log:" >&2
			cat "$tmp/etcd.log" >&2
			return 1
		fi
		curl -sf -m 1 "$client/health" | grep -q true && return 0
		sleep 0.1
	done
	echo "no healthy etcd at $client after 10 s" >&2
	return 1
}

# header_field JSON NAME: the decimal string of header.NAME
header_field() {
	sed -n 's/.*"header":{[^}]*"'"$2"'":"\([0-9]*\)".*/\1/p' <<<"$1"
}

record() {
	local series=$1 bin=$2 p=/v3 data list member cluster index
	[ "$series" = 3.3 ] && p=/v3beta
	data=$tmp/$series.etcd
	env -i PATH=/usr/bin:/bin "$bin" --name n1 --data-dir "$data" \
		--listen-client-urls $client --advertise-client-urls $client \
		--listen-peer-urls $peer --initial-advertise-peer-urls $peer \
		--initial-cluster "n1=$peer" --initial-cluster-state new \
		--initial-cluster-token "record-wal-$series" >"$tmp/etcd.log" 2>&1 &
	pid=$!
	wait_health
	list=$(curl -sS -m 10 -X POST -d '{}' "$client$p/cluster/member/list")
	member=$(header_field "$list" member_id)
	cluster=$(header_field "$list" cluster_id)
	if [ -z "$member" ] || [ -z "$cluster" ]; then
		echo "no member_id/cluster_id in the member list of $series: $list" >&2
		return 1
	fi
	for i in $(seq 20); do
		curl -sSf -m 10 -X POST -d '{"key":"cmVjb3Jk","value":"'"$(printf 'v%02d' "$i" | base64)"'"}' \
			"$client$p/kv/put" >/dev/null
	done
	index=$(curl -sS -m 10 -X POST -d '{}' "$client$p/maintenance/status" |
		sed -n 's/.*"raftIndex":"\([0-9]*\)".*/\1/p')
	stop
	head -c $head_bytes "$data/member/wal/$first_wal" >"$dir/wal-$series.head"
	printf 'member_id=%s\ncluster_id=%s\n' "$member" "$cluster" >"$dir/wal-$series.ids"
	python3 -c 'import sys; d = open(sys.argv[1], "rb").read(1 << 20); d = d.rstrip(b"\0"); sys.stdout.buffer.write(d + bytes(8 + (-len(d)) % 8))' \
		"$data/member/wal/$first_wal" >"$dir/wal-$series.log"
	printf 'raft_index=%s\n' "$index" >"$dir/wal-$series.state"
	echo "wal-$series: member_id=$member cluster_id=$cluster ($("$bin" --version | head -n 1))"
}

[ $# -gt 0 ] || {
	echo "usage: $0 SERIES=ETCD_BINARY..." >&2
	exit 2
}
for arg in "$@"; do
	record "${arg%%=*}" "${arg#*=}"
done
