# Helpers shared by the CLI test scripts (sourced). The script sets, before sourcing:
#   tmp        a private temp dir
#   etcd_bin   the real etcd used for data dirs
#   port_base  the first loopback port pick_ports tries (client; peer is 10 above)
# and gets: ok, fail, printed, expect, port_free, pick_ports (sets client_port, peer_port,
# client), start_etcd DATA_DIR, stop_etcd, snapshot DIR. $failed is 1 once a check failed.

failed=0
etcd_pid=

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

port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Two free loopback ports from $port_base up (client, and peer 10 above).
pick_ports() {
	local p=$port_base
	while ! port_free $p || ! port_free $((p + 10)); do
		p=$((p + 1))
		[ $p -lt $((port_base + 100)) ] || return 1
	done
	client_port=$p
	peer_port=$((p + 10))
	client=http://127.0.0.1:$client_port
}

stop_etcd() {
	if [ -n "$etcd_pid" ]; then
		kill "$etcd_pid" 2>/dev/null
		wait "$etcd_pid" 2>/dev/null
	fi
	etcd_pid=
}

# start_etcd DATA_DIR: a 1-member etcd on loopback, healthy within 20 s.
start_etcd() {
	local peer=http://127.0.0.1:$peer_port
	env -i PATH=/usr/bin:/bin "$etcd_bin" --name n1 --data-dir "$1" \
		--listen-client-urls "$client" --advertise-client-urls "$client" \
		--listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
		--initial-cluster "n1=$peer" --initial-cluster-state new \
		>>"$tmp/etcd.log" 2>&1 &
	etcd_pid=$!
	for _ in $(seq 200); do
		if ! kill -0 "$etcd_pid" 2>/dev/null; then
			etcd_pid=
			return 1
		fi
		curl -sf -m 1 "$client/health" 2>/dev/null | grep -q true && return 0
		sleep 0.1
	done
	return 1
}

# Every entry under DIR with its type, size and mtime (symlinks not followed).
snapshot() {
	find "$1" -printf '%p %y %s %T@\n' | sort
}
