# Helpers shared by the CLI test scripts (sourced). The script sets, before sourcing:
#   tmp        a private temp dir
#   etcd_bin   the real etcd used for data dirs
# and gets: ok, fail, printed, expect, reserve_ports, start_etcd, etcd_is_ours, stop_etcd,
# stop_all_etcd, removed_member, snapshot. $failed is 1 once a check failed.
#
# Ports: other suites (and other copies of this one) run at the same time on this machine,
# so a test never probes a port and binds it later. reserve_ports holds kernel-chosen ports
# for the whole run (tests/cli/hold-ports); start_etcd lets its etcd bind ports held that
# way, and takes an etcd for its own only when the member list it answers names the member
# it started (a name made of this script's pid and the port), never because something
# answers /health on the port.

failed=0
etcd_pid=
etcd_log=
etcd_pids=()
hold_ports=${HOLD_PORTS:-hold-ports} # meson builds it and passes its path
# How often start_etcd tries other ports when its etcd finds one taken.
etcd_start_attempts=5

ok() { echo "ok - $1"; }
fail() {
	echo "FAIL - $1"
	shift
	for text in "$@"; do
		printf '%s\n' "$text" | sed 's/^/    /'
	done
	failed=1
}

# What the last run printed, for a failure report.
printed() {
	echo "exit $rc; stdout: $(head -c 1500 "$tmp/out" | tr '\n' '|')"
	echo "stderr: $(head -c 1500 "$tmp/err" | tr '\n' '|')"
}

# expect NAME RC STREAM TEXT...: the last run exited RC and STREAM (out, err or all) holds
# every TEXT (fixed strings).
expect() {
	local name=$1 want=$2 stream=$3 text missing=
	shift 3
	case $stream in
	out) cat "$tmp/out" >"$tmp/seen" ;;
	err) cat "$tmp/err" >"$tmp/seen" ;;
	*) cat "$tmp/out" "$tmp/err" >"$tmp/seen" ;;
	esac
	for text in "$@"; do
		grep -qF -- "$text" "$tmp/seen" || missing+="'$text' "
	done
	if [ "$rc" != "$want" ] || [ -n "$missing" ]; then
		fail "$name" "expected exit $want${missing:+ and std$stream with $missing}" \
			"$(printed)"
	else
		ok "$name"
	fi
}

# reserve_ports [--shared] N: N loopback ports, held until this script exits; sets $ports
# (space-separated). Without --shared nothing can listen on them: a connection is refused.
# With --shared an etcd can bind them (start_etcd).
reserve_ports() {
	local shared=
	if [ "$1" = --shared ]; then
		shared=--shared
		shift
	fi
	ports=$("$hold_ports" $shared $$ "$1") && [ -n "$ports" ]
}

# etcd_is_ours: the etcd answering at $client is the one start_etcd started last (its member
# list names $etcd_name), and it runs.
etcd_is_ours() {
	kill -0 "$etcd_pid" 2>/dev/null &&
		curl -sf -m 1 -X POST -d '{}' "$client/v3/cluster/member/list" 2>/dev/null |
		grep -qF "\"name\":\"$etcd_name\""
}

# stop_etcd [PID]: stop the etcd start_etcd started last, or the one with PID.
stop_etcd() {
	local pid=${1:-$etcd_pid}
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	[ "$pid" != "$etcd_pid" ] || etcd_pid=
}

stop_all_etcd() {
	local pid
	for pid in "${etcd_pids[@]}"; do
		stop_etcd "$pid"
	done
}

# start_etcd DATA_DIR: a 1-member etcd on 127.0.0.1 with its data in DATA_DIR (new or a
# restart), serving within 20 s. Sets etcd_pid, etcd_name, etcd_log, client_port, peer_port
# and client; etcd_pids collects every etcd started. When etcd exits because one of its
# ports was taken (someone who chose the number by themselves), it tries other ports.
start_etcd() {
	local peer
	for _ in $(seq "$etcd_start_attempts"); do
		reserve_ports --shared 2 || return 1
		read -r client_port peer_port <<<"$ports"
		client=http://127.0.0.1:$client_port
		peer=http://127.0.0.1:$peer_port
		etcd_name=$(basename "$0" .sh)-$$-$client_port
		etcd_log=$tmp/etcd-$etcd_name.log
		# (on a restart etcd ignores the --initial-* flags and keeps its member, whose
		# name it updates to --name)
		env -i PATH=/usr/bin:/bin "$etcd_bin" --name "$etcd_name" --data-dir "$1" \
			--listen-client-urls "$client" --advertise-client-urls "$client" \
			--listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
			--initial-cluster "$etcd_name=$peer" --initial-cluster-state new \
			--initial-cluster-token "$etcd_name" >"$etcd_log" 2>&1 &
		etcd_pid=$!
		etcd_pids+=("$etcd_pid")
		for _ in $(seq 200); do
			etcd_is_ours && return 0
			kill -0 "$etcd_pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$etcd_pid" 2>/dev/null; then
			stop_etcd
			return 1
		fi
		wait "$etcd_pid" 2>/dev/null
		etcd_pid=
		grep -q "address already in use" "$etcd_log" || return 1
		echo "# etcd found port $client_port or $peer_port taken; other ports"
	done
	return 1
}

# removed_member DATA_DIR: while the etcd of start_etcd runs, add a second member, start it on
# DATA_DIR (ports of its own), wait until it is healthy, remove it (it exits by itself) and
# wait for it to let go of its data. Returns 0 when DATA_DIR then holds its data.
removed_member() {
	local data=$1 c2 p2 peer=http://127.0.0.1:$peer_port added id pid n1 deadline
	reserve_ports --shared 2 || { fail "two ports for a second member"; return 1; }
	read -r c2 p2 <<<"$ports"
	c2=http://127.0.0.1:$c2
	p2=http://127.0.0.1:$p2
	mkdir -p "$(dirname "$data")"
	# A restart of start_etcd's data listens on new ports but keeps the peer URL of its
	# first start: make the membership name the port it listens on, or n2 cannot reach it.
	n1=$(curl -sf -m 5 -X POST "$client/v3/cluster/member/list" -d '{}' |
		sed -n 's/.*"header":{[^}]*"member_id":"\([0-9]*\)".*/\1/p')
	curl -sf -m 5 -X POST "$client/v3/cluster/member/update" \
		-d "{\"ID\":\"$n1\",\"peerURLs\":[\"$peer\"]}" >/dev/null ||
		{ fail "member update of the first member's peer URL"; return 1; }
	added=$(curl -sf -m 5 -X POST "$client/v3/cluster/member/add" \
		-d "{\"peerURLs\":[\"$p2\"]}") || { fail "member add" "$added"; return 1; }
	id=$(printf '%s' "$added" | sed -n 's/.*"member":{"ID":"\([0-9]*\)".*/\1/p')
	env -i PATH=/usr/bin:/bin "$etcd_bin" --name n2 --data-dir "$data" \
		--listen-client-urls "$c2" --advertise-client-urls "$c2" \
		--listen-peer-urls "$p2" --initial-advertise-peer-urls "$p2" \
		--initial-cluster "$etcd_name=$peer,n2=$p2" --initial-cluster-state existing \
		>>"$tmp/etcd2.log" 2>&1 &
	pid=$!
	# bounded in time, not in tries: each try may take its whole -m on a busy machine
	deadline=$((SECONDS + 60))
	until curl -sf -m 1 "$c2/health" 2>/dev/null | grep -q true; do
		if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$pid" 2>/dev/null; then
			kill "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			fail "a second member that becomes healthy" "$(tail -n 5 "$tmp/etcd2.log")"
			return 1
		fi
		sleep 0.1
	done
	# etcd refuses to remove a member that connected less than 5 s ago (strict check)
	deadline=$((SECONDS + 60))
	until curl -sf -m 5 -X POST "$client/v3/cluster/member/remove" -d "{\"ID\":\"$id\"}" \
		>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || break
		sleep 0.2
	done
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if [ ! -d "$data/member/wal" ] || curl -sf -m 2 -X POST "$client/v3/cluster/member/list" |
		grep -q "$p2"; then
		fail "a second member added, started and removed" "$(tail -n 5 "$tmp/etcd2.log")"
		return 1
	fi
	ok "a second member added, started and removed"
}

# Every entry under DIR with its type, size and mtime (symlinks not followed).
snapshot() {
	find "$1" -printf '%p %y %s %T@\n' | sort
}
