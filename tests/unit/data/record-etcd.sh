#!/bin/bash
# Record the etcd gateway responses that test-etcd decodes, from REAL servers on loopback.
# Not run by the tests: the recordings are committed. Re-run by hand to refresh them:
#
#   tests/unit/data/record-etcd.sh SERIES=ETCD_BINARY...
#   e.g. tests/unit/data/record-etcd.sh 3.3=/var/cache/etcd-hooks/3.3/bin/etcd \
#            3.4=/var/cache/etcd-hooks/3.4/bin/etcd 3.5=/var/cache/etcd-hooks/3.5/bin/etcd
#
# For each server: a 1-member cluster on 127.0.0.1:23790 (client) / 23800 (peer) in a temp
# data dir; then, in this order (the voting add near the end loses quorum on purpose):
#   version, member list, status, remove of an unknown ID (code 5), malformed body (code 3),
#   add of the member's own peer URL (code 9);
#   3.4+: learner add, the list with it unstarted, the learner started as n2 on
#   23791/23802: its status, member list sent to it (14), the list with it, a second
#   learner add (9);
#   unstarted voting add, member list with it, a further voting add (code 2, not enough
#   started members); 3.4+: learner add while a voter is unstarted (14);
#   status without a leader, the peer port's /members (IDs as bare numbers).
# RECORDED lists each file with its HTTP status and Content-Type. Member IDs other than
# n1's are random: test-etcd.c names them, update it after a new recording.
set -euo pipefail

dir=$(cd "$(dirname "$0")" && pwd)
client=http://127.0.0.1:23790
peer=http://127.0.0.1:23800
tmp=$(mktemp -d)
learner=http://127.0.0.1:23791
learner_peer=http://127.0.0.1:23802
pid=
pid2=

stop() {
	local p
	for p in $pid $pid2; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	pid=
	pid2=
}

cleanup() {
	stop
	rm -rf "$tmp"
}
trap cleanup EXIT

# rec FILE METHOD PATH [BODY]: save the body to FILE and a line to RECORDED
rec() {
	rec_at "$client" "$@"
}

rec_at() {
	local base=$1 file=$2 method=$3 path=$4 body=${5-} out
	if [ "$method" = GET ]; then
		out=$(curl -sS -m 10 -o "$dir/$file" -w '%{http_code} %{content_type}' "$base$path")
	else
		out=$(curl -sS -m 10 -o "$dir/$file" -w '%{http_code} %{content_type}' \
			-X POST -d "$body" "$base$path")
	fi
	printf '%s %s %s %s%s %s\n' "$file" "$out" "$method" "$base" "$path" "$body" \
		>>"$dir/RECORDED.new"
	echo "$file: $out"
}

# wait_for URL PATTERN: poll a client URL's /health (or a POST path) for up to 10 s
wait_health() {
	for _ in $(seq 100); do
		curl -sf -m 1 "$1/health" | grep -q true && return 0
		sleep 0.1
	done
	echo "no healthy etcd at $1" >&2
	return 1
}

record() {
	local series=$1 bin=$2 p=/v3
	[ "$series" = 3.3 ] && p=/v3beta
	"$bin" --name n1 --data-dir "$tmp/$series" \
		--listen-client-urls $client --advertise-client-urls $client \
		--listen-peer-urls $peer --initial-advertise-peer-urls $peer \
		--initial-cluster n1=$peer --initial-cluster-state new \
		--initial-cluster-token etcd-hooks-rec >"$tmp/$series.log" 2>&1 &
	pid=$!
	wait_health $client
	"$bin" --version | head -n 1 >>"$dir/RECORDED.new"
	local e=etcd-$series
	rec "$e-version.json" GET /version
	rec "$e-member-list-1.json" POST $p/cluster/member/list '{}'
	rec "$e-status.json" POST $p/maintenance/status '{}'
	rec "$e-error-remove-unknown.json" POST $p/cluster/member/remove '{"ID":"1234"}'
	rec "$e-error-malformed.json" POST $p/cluster/member/remove '{bad'
	rec "$e-error-peer-exists.json" POST $p/cluster/member/add "{\"peerURLs\":[\"$peer\"]}"
	if [ "$series" != 3.3 ]; then
		rec "$e-member-add-learner.json" POST $p/cluster/member/add \
			"{\"peerURLs\":[\"$learner_peer\"],\"isLearner\":true}"
		rec "$e-member-list-learner-unstarted.json" POST $p/cluster/member/list '{}'
		"$bin" --name n2 --data-dir "$tmp/$series-n2" \
			--listen-client-urls $learner --advertise-client-urls $learner \
			--listen-peer-urls $learner_peer --initial-advertise-peer-urls $learner_peer \
			--initial-cluster n1=$peer,n2=$learner_peer --initial-cluster-state existing \
			>"$tmp/$series-n2.log" 2>&1 &
		pid2=$!
		wait_health $learner
		rec_at $learner "$e-status-learner.json" POST $p/maintenance/status '{}'
		rec_at $learner "$e-error-learner-list.json" POST $p/cluster/member/list '{}'
		rec "$e-member-list-learner.json" POST $p/cluster/member/list '{}'
		rec "$e-error-second-learner.json" POST $p/cluster/member/add \
			'{"peerURLs":["http://127.0.0.1:23804"],"isLearner":true}'
	fi
	rec "$e-member-add-voter.json" POST $p/cluster/member/add \
		'{"peerURLs":["http://127.0.0.1:23806"]}'
	rec "$e-member-list-unstarted.json" POST $p/cluster/member/list '{}'
	rec "$e-error-not-enough-started.json" POST $p/cluster/member/add \
		'{"peerURLs":["http://127.0.0.1:23808"]}'
	if [ "$series" != 3.3 ]; then
		rec "$e-error-unhealthy.json" POST $p/cluster/member/add \
			'{"peerURLs":["http://127.0.0.1:23810"],"isLearner":true}'
	fi
	# check-quorum makes the leader step down within an election timeout or two
	sleep 3
	rec "$e-status-no-leader.json" POST $p/maintenance/status '{}'
	rec_at $peer "$e-peer-members.json" GET /members
	if [ "$series" = 3.4 ]; then
		rec "$e-error-v3alpha.txt" POST /v3alpha/cluster/member/list '{}'
		rec "$e-error-get.txt" GET $p/cluster/member/list
	fi
	stop
}

[ $# -gt 0 ] || { echo "usage: $0 SERIES=ETCD_BINARY..." >&2; exit 2; }
: >"$dir/RECORDED.new"
for arg in "$@"; do
	record "${arg%%=*}" "${arg#*=}"
done
mv "$dir/RECORDED.new" "$dir/RECORDED"
