#!/bin/bash
# The programs' exit codes and messages (style.md rule 12, design.md "Exit codes", "Logs"):
# each check runs a built program with a private environment (env -i) and temp dirs, and
# asserts its exit code AND what it printed. Nothing under /var/run/etcd is touched: every
# run names a data dir in the temp dir.
#
#   tests/cli/test-cli.sh HOOKS_BUILD_DIR
#
# Some checks need a REAL etcd 3.4 (ETCD_BIN, default /var/cache/etcd-hooks/3.4.23/bin/etcd, from
# tests/fetch-etcd 3.4) for a valid data dir and one in use; without it they FAIL, they do
# not pass silently. One line per check (ok/FAIL/skip); exit 1 if any failed.
set -u

hooks=${1:?usage: test-cli.sh HOOKS_BUILD_DIR}
etcd_bin=${ETCD_BIN:-/var/cache/etcd-hooks/3.4.23/bin/etcd}
programs=(etcd-join etcd-promote etcd-leave etcd-clean)
secret=s3cr3t-xyz
# on a file system of its own (tmpfs), as a volume would be: the programs refuse a
# data dir on the root file system
tmp=$(mktemp -d /dev/shm/test-cli-XXXXXX)
# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

cleanup() {
	stop_all_etcd
	rm -rf "$tmp"
}
trap cleanup EXIT

# run [VAR=value...] PROGRAM [args...]: run a built program with only PATH (and the given
# variables) in its environment, bounded; sets $rc, and $tmp/out, $tmp/err.
run() {
	local vars=()
	while [ $# -gt 0 ] && [[ $1 == *=* ]]; do
		vars+=("$1")
		shift
	done
	local prog=$1
	shift
	timeout -k 5 60 env -i PATH=/usr/bin:/bin HOME="$tmp" "${vars[@]}" "$hooks/$prog" "$@" \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# no_secret NAME: the password appears nowhere in what the last run printed.
no_secret() {
	if grep -qF -- "$secret" "$tmp/out" "$tmp/err"; then
		fail "$1: the password is printed" "$(printed)"
	else
		ok "$1: no password in the output"
	fi
}

termination_log_existed=false
[ -e /dev/termination-log ] && termination_log_existed=true

# ---- every program: --help, --version, an unknown flag ----

for p in "${programs[@]}"; do
	run "$p" --help
	expect "$p --help: exit 0, usage on stdout" 0 out "Usage: $p"
	if [ "$rc" = 0 ] && [ "$(head -c $((7 + ${#p})) "$tmp/out")" != "Usage: $p" ]; then
		fail "$p --help: stdout starts with 'Usage: $p'" "$(printed)"
	fi
	[ -s "$tmp/err" ] && fail "$p --help: nothing on stderr" "$(printed)"

	# --help is generated from the option tables: it and the man page name the same options
	man_dir="$(dirname "$(readlink -f "$0")")/../../man"
	# whole options only ("--name" is not found in "--namespace"), in the OPTIONS section
	# of the program's own page (the rest also names etcd's flags and other programs')
	sed -n '/^# OPTIONS/,/^# [A-Z]/p' "$man_dir/$p.8.scd" >"$tmp/options.scd"
	missing=
	for o in $(grep -oE '\*--[a-z][a-z-]*\*' "$tmp/options.scd" | tr -d '*' | sort -u); do
		grep -qE -- "$o([^a-z-]|$)" "$tmp/out" ||
			missing="$missing $o (in the man page, not in --help)"
	done
	for o in $(grep -oE -- '--[a-z][a-z-]+' "$tmp/out" | sort -u); do
		grep -qE -- "\*$o\*" "$tmp/options.scd" ||
			missing="$missing $o (in --help, not in $p(8))"
	done
	grep -q "(undocumented)" "$tmp/out" && missing="$missing an option without its help line"
	if [ -n "$missing" ]; then
		fail "$p --help and $p(8) name the same options" "$missing"
	else
		ok "$p --help and $p(8) name the same options"
	fi

	run "$p" --version
	expect "$p --version: exit 0, '$p <version>' on stdout" 0 out "$p "
	if ! grep -qE "^$p [0-9]+\.[0-9]+\.[0-9]+" "$tmp/out"; then
		fail "$p --version: stdout is '$p X.Y.Z'" "$(printed)"
	fi

	run "$p" --no-such-flag
	expect "$p --no-such-flag: exit 2, Try '$p --help'." 2 err "Try '$p --help'." \
		"--no-such-flag"
	# style rule 5: the program's name first, not the path it was run by
	if ! head -n 1 "$tmp/err" | grep -q "^$p: error: "; then
		fail "$p --no-such-flag: the message starts with '$p: error: '" "$(printed)"
	else
		ok "$p --no-such-flag: the message starts with '$p: error: '"
	fi

	run "$p" --timeout
	expect "$p --timeout without a value: exit 2" 2 err "Try '$p --help'."

	# a unique prefix is not taken for the option ("--wi" for --wipe), nor its value shown
	run "$p" "--data=$secret" --name etcd-0
	expect "$p --data=...: exit 2, never abbreviated" 2 err "options are never abbreviated" \
		"did you mean '--data-dir'?"
	no_secret "$p --data=..."
	run "$p" --dry --name etcd-0
	expect "$p --dry: exit 2, never abbreviated" 2 err "unknown option '--dry'"
	run "$p" "--dry-run=$secret" --name etcd-0
	expect "$p --dry-run=...: exit 2, takes no value" 2 err \
		"option '--dry-run' takes no value"
	no_secret "$p --dry-run=..."
done

# ---- configuration errors (etcd-join) ----

nodata=$tmp/nowhere/default.etcd

run etcd-join --name etcd-x --data-dir "$nodata"
expect "--name etcd-x: exit 2, not an ordinal" 2 err "is not an ordinal" "etcd-x"

run etcd-join --name etcd-0 --set-name foo --data-dir "$nodata"
expect "--name etcd-0 --set-name foo: exit 2, names both" 2 err "etcd-0" "'foo'"

run INITIAL_CLUSTER_SIZE=abc etcd-join --name etcd-0 --data-dir "$nodata"
expect "INITIAL_CLUSTER_SIZE=abc: exit 2, names the variable" 2 err "INITIAL_CLUSTER_SIZE" \
	"'abc'"

for v in ETCD_DATA_DIR SET_NAME INITIAL_CLUSTER_SIZE ETCD_HOOKS_JOIN_TIMEOUT; do
	run "$v=" etcd-join --name etcd-0 --data-dir "$nodata"
	expect "$v empty: exit 2, named" 2 err "environment variable $v is empty"
done
run etcd-join --name etcd-0 --timeout 0 --data-dir "$nodata"
expect "--timeout 0: exit 2" 2 err "--timeout" "'0'"

run etcd-join --name etcd-0 --data-dir relative
expect "--data-dir relative: exit 2" 2 err "'relative'" "absolute"

run etcd-join --name etcd-0 --data-dir "$nodata" stray
expect "an argument before '--' that is not an option: exit 2" 2 err "unexpected argument" \
	"Try 'etcd-join --help'."

for p in etcd-promote etcd-leave etcd-clean; do
	run "$p" --name etcd-0 --data-dir "$nodata" stray
	expect "$p: an argument that is not an option: exit 2" 2 err "unexpected argument" \
		"Try '$p --help'."
done

# an argument is never repeated past its '=': a password typed where it does not belong
# stays out of the log and the termination log
run etcd-join --name etcd-0 --data-dir "$nodata" --user root "$secret"
expect "--user root PASSWORD: exit 2" 2 err "unexpected argument"
no_secret "--user root PASSWORD"
run etcd-join --name etcd-0 --data-dir "$nodata" "--no-such=$secret"
expect "--no-such=...: exit 2" 2 err "unknown option '--no-such'"
no_secret "--no-such=..."

# a hook's bad deadline variable fails the container's command too (its error is the one
# kubectl describe shows); etcd-promote holds its exit 2 for 5 s, except in a dry run
for v in ETCD_HOOKS_PROMOTE_TIMEOUT ETCD_HOOKS_LEAVE_TIMEOUT ETCD_HOOKS_CLEAN_TIMEOUT \
	ETCD_HOOKS_LEAVE_POLICY; do
	run "$v=soon" etcd-join --name etcd-0 --data-dir "$nodata" --dry-run
	expect "etcd-join, $v=soon: exit 2, named" 2 err "environment variable $v"
done
run ETCD_HOOKS_LEAVE_POLICY= etcd-join --name etcd-0 --data-dir "$nodata" --dry-run
expect "etcd-join, ETCD_HOOKS_LEAVE_POLICY empty: exit 2" 2 err \
	"environment variable ETCD_HOOKS_LEAVE_POLICY is empty"
# a value after '=' is the user's: never taken for an option, never repeated
run etcd-join --name etcd-0 --data-dir "$nodata" --dry-run "--user=--admin:$secret"
expect "--user=--admin:PASSWORD: exit 2, refused" 2 err "puts the password on the command line"
no_secret "--user=--admin:PASSWORD"
run ETCD_HOOKS_LEAVE_POLICY= etcd-leave --name etcd-0 --data-dir "$nodata" --dry-run
expect "etcd-leave, ETCD_HOOKS_LEAVE_POLICY empty: exit 2" 2 err \
	"environment variable ETCD_HOOKS_LEAVE_POLICY is empty"
t0=$SECONDS
run etcd-promote --name etcd-0 --data-dir "$nodata" --no-such-flag
expect "etcd-promote, a bad flag: exit 2, held" 2 err "unknown option" "exit 2 in 5 s"
if [ $((SECONDS - t0)) -lt 4 ]; then
	fail "... held about 5 s" "$((SECONDS - t0)) s"
else
	ok "... held about 5 s"
fi
run etcd-promote --name etcd-0 --data-dir "$nodata" --dry-run --no-such-flag
expect "etcd-promote --dry-run, a bad flag: exit 2, not held" 2 err "unknown option"
if grep -q "exit 2 in" "$tmp/err"; then
	fail "... not held" "$(printed)"
else
	ok "... not held"
fi

# ETCDAPI_VERSION=2: there is no v2 mode, and every program says so before anything else
for p in "${programs[@]}"; do
	run ETCDAPI_VERSION=2 "$p" --name etcd-0 --data-dir "$nodata"
	expect "$p: ETCDAPI_VERSION=2: exit 2" 2 err "ETCDAPI_VERSION=2" "v3 API only"
done

# ---- the termination log: written only when it exists, never created ----

if $termination_log_existed; then
	echo "skip - a fatal error does not create /dev/termination-log (it exists here)"
else
	run INITIAL_CLUSTER_SIZE=abc etcd-join --name etcd-0 --data-dir "$nodata"
	run etcd-leave --name etcd-x --data-dir "$nodata"
	run etcd-promote --name etcd-x --data-dir "$nodata"
	if [ -e /dev/termination-log ]; then
		fail "a fatal error does not create /dev/termination-log"
		rm -f /dev/termination-log
	else
		ok "a fatal error does not create /dev/termination-log"
	fi
fi

# ---- etcd-promote, etcd-leave, etcd-clean with a valid configuration ----

# Ports where nothing listens, held for the whole run: the "no etcd" checks.
if reserve_ports 2; then
	read -r none_client_port none_peer_port <<<"$ports"
else
	fail "two loopback ports held for this run (hold-ports at HOLD_PORTS='$hold_ports')"
	exit 1
fi
run etcd-promote --name etcd-0 --data-dir "$nodata" --timeout 1 \
	--client-port "$none_client_port" --peer-port "$none_peer_port"
expect "etcd-promote without etcd, --timeout 1: exit 4 naming 127.0.0.1" 4 err "127.0.0.1" \
	"etcd-promote: error: "
# a dry run says what a run would do within seconds, not after its whole --timeout (run
# stops it after 60 s)
run etcd-promote --name etcd-0 --data-dir "$nodata" --timeout 120 --dry-run \
	--client-port "$none_client_port" --peer-port "$none_peer_port"
expect "etcd-promote --dry-run without etcd, --timeout 120: exit 0 at once, decision: wait" \
	0 out "decision: wait" "127.0.0.1:$none_peer_port" "dry run: nothing changed"
if [ -e "$tmp/nowhere" ]; then
	fail "etcd-promote --dry-run creates nothing" "$(ls -la "$tmp/nowhere")"
else
	ok "etcd-promote --dry-run creates nothing"
fi

# etcd-leave: the policy decides before anything is asked of etcd
run etcd-leave --name etcd-0 --data-dir "$nodata" --policy never
expect "etcd-leave --policy never: exit 0, stays" 0 err "policy never: this member stays"
# every program's dry run answers in one format, the last line the same
run etcd-leave --name etcd-1 --data-dir "$nodata" --policy above-initial \
	--initial-cluster-size 3 --dry-run
expect "etcd-leave --dry-run, a member that stays: the decision and its reason" 0 out \
	"decision: stay" "reason: policy above-initial: ordinal 1, initial cluster size 3"
if [ "$(tail -n 1 "$tmp/out")" != "dry run: nothing changed" ]; then
	fail "... its last line is 'dry run: nothing changed'" "$(printed)"
else
	ok "... its last line is 'dry run: nothing changed'"
fi
run etcd-leave --name etcd-0 --data-dir "$nodata" --policy sometimes
expect "etcd-leave --policy sometimes: exit 2" 2 err "--policy must be"
run ETCD_HOOKS_LEAVE_POLICY=sometimes etcd-leave --name etcd-0 --data-dir "$nodata"
expect "ETCD_HOOKS_LEAVE_POLICY=sometimes: exit 2 naming the variable" 2 err \
	"ETCD_HOOKS_LEAVE_POLICY"
run etcd-leave --name etcd-1 --data-dir "$nodata" --initial-cluster-size 3
expect "etcd-leave auto outside Kubernetes, ordinal below the initial size: exit 0, stays" 0 \
	err "using above-initial" "this member stays"
run etcd-leave --name etcd-0 --data-dir "$nodata"
expect "etcd-leave above-initial without INITIAL_CLUSTER_SIZE: exit 2" 2 err \
	"needs INITIAL_CLUSTER_SIZE"
run etcd-leave --name etcd-0 --data-dir "$nodata" --policy scale-down
expect "etcd-leave scale-down outside Kubernetes: exit 1, does not remove" 1 err \
	"not removing this member"
run etcd-leave --name etcd-3 --data-dir "$nodata" --initial-cluster-size 3 --timeout 2 \
	--client-port "$none_client_port" --peer-port "$none_peer_port"
expect "etcd-leave above the initial size with no etcd and no data: exit 1" 1 err \
	"cannot tell this member's ID"
# the container's ETCD_HOOKS_TIMEOUT, meant for etcd-join, is capped below the grace period;
# etcd-leave's own variable is not
run ETCD_HOOKS_TIMEOUT=300s etcd-leave --name etcd-3 --data-dir "$nodata" \
	--initial-cluster-size 3 --client-port "$none_client_port" --peer-port "$none_peer_port"
expect "etcd-leave with ETCD_HOOKS_TIMEOUT=300s: capped at 20s" 1 err \
	"ETCD_HOOKS_TIMEOUT=300s" "capped at 20s"
run ETCD_HOOKS_TIMEOUT=300s ETCD_HOOKS_LEAVE_TIMEOUT=25s etcd-leave --name etcd-3 \
	--data-dir "$nodata" --initial-cluster-size 3 --client-port "$none_client_port" \
	--peer-port "$none_peer_port" --debug
expect "etcd-leave with ETCD_HOOKS_LEAVE_TIMEOUT=25s: not capped" 1 err \
	"cannot tell this member's ID"
if grep -q "capped" "$tmp/err"; then
	fail "ETCD_HOOKS_LEAVE_TIMEOUT is not capped" "$(printed)"
else
	ok "ETCD_HOOKS_LEAVE_TIMEOUT is not capped"
fi
run ETCD_HOOKS_JOIN_TIMEOUT=soon etcd-join --name etcd-0 --data-dir "$nodata"
expect "ETCD_HOOKS_JOIN_TIMEOUT=soon: exit 2 naming it" 2 err "ETCD_HOOKS_JOIN_TIMEOUT" "'soon'"

# ---- etcd-join on a REAL data dir ----

vol=$tmp/vol
data=$vol/default.etcd
mkdir -p "$vol"
join_args=(--name etcd-0 --initial-cluster-size 1 --data-dir "$data")
have_etcd=false
if [ ! -x "$etcd_bin" ]; then
	fail "a real etcd 3.4 at ETCD_BIN='$etcd_bin'" "run tests/fetch-etcd 3.4"
elif ! start_etcd "$data"; then
	fail "etcd 3.4 starts on 127.0.0.1" "$(tail -n 5 "$etcd_log")"
else
	have_etcd=true
fi

if $have_etcd; then
	# in use by a running etcd: refused, and no password printed on the way
	run ETCDCTL_USER=root "ETCDCTL_PASSWORD=$secret" etcd-join "${join_args[@]}" \
		--etcd /bin/true --dry-run
	expect "a data dir in use: exit 3" 3 err "another etcd holds the data dir"
	no_secret "refused (in use)"
	run etcd-join "${join_args[@]}" --etcd /bin/true
	expect "a data dir in use, not a dry run: exit 3" 3 err "another etcd holds the data dir"
	stop_etcd

	# valid: a dry run decides restart, prints the exec line and changes nothing
	before=$(snapshot "$vol")
	run etcd-join "${join_args[@]}" --etcd /bin/true --dry-run
	expect "--dry-run on a valid data dir: exit 0, decision: restart" 0 out \
		"decision: restart" "exec: /bin/true " "--data-dir=$data"
	if [ "$(tail -n 1 "$tmp/out")" != "dry run: nothing changed" ]; then
		fail "... its last line is 'dry run: nothing changed'" "$(printed)"
	else
		ok "... its last line is 'dry run: nothing changed'"
	fi
	if [ "$before" != "$(snapshot "$vol")" ]; then
		fail "--dry-run changes nothing" "$(diff <(echo "$before") <(snapshot "$vol"))"
	elif [ -e "$vol/.etcd-hooks" ]; then
		fail "--dry-run creates no .etcd-hooks folder"
	else
		ok "--dry-run changes nothing (no .etcd-hooks folder)"
	fi

	# --wal-dir, either way: exit 2 before anything is done
	run ETCD_WAL_DIR=/tmp/wal etcd-join "${join_args[@]}" --etcd /bin/true
	expect "ETCD_WAL_DIR: exit 2" 2 err "ETCD_WAL_DIR" "not supported"
	run etcd-join "${join_args[@]}" --etcd /bin/true -- --wal-dir=/tmp/wal
	expect "--wal-dir after --: exit 2" 2 err "--wal-dir" "not supported"
	if [ "$before" != "$(snapshot "$vol")" ]; then
		fail "--wal-dir refused: nothing changed" \
			"$(diff <(echo "$before") <(snapshot "$vol"))"
	else
		ok "--wal-dir refused: nothing changed"
	fi

	# the password: not in a dry run, not with --debug, not on error paths
	for env_name in ETCDCTL_PASSWORD ROOT_PASSWORD; do
		run ETCDCTL_USER=root "$env_name=$secret" etcd-join "${join_args[@]}" \
			--etcd /bin/true --dry-run --debug
		expect "$env_name, --dry-run --debug: exit 0" 0 out "decision: restart"
		no_secret "$env_name, --dry-run --debug"
	done
	printf '%s\n' "$secret" >"$tmp/password"
	run etcd-join "${join_args[@]}" --user root --password-file "$tmp/password" \
		--etcd /bin/true --dry-run --debug
	expect "--password-file, --dry-run --debug: exit 0" 0 out "decision: restart"
	no_secret "--password-file, --dry-run --debug"
	run ETCDCTL_USER=root "ETCDCTL_PASSWORD=$secret" etcd-join --name etcd-0 \
		--data-dir relative
	expect "a bad data dir with a password set: exit 2" 2 err "'relative'"
	no_secret "a bad data dir with a password set"
	run ETCDCTL_USER=root "ETCDCTL_PASSWORD=$secret" INITIAL_CLUSTER_SIZE=abc etcd-join \
		--name etcd-0 --data-dir "$data"
	expect "a bad INITIAL_CLUSTER_SIZE with a password set: exit 2" 2 err "INITIAL_CLUSTER_SIZE"
	no_secret "a bad INITIAL_CLUSTER_SIZE with a password set"
	run ETCDCTL_USER=root "ETCDCTL_PASSWORD=$secret" etcd-promote --name etcd-0 \
		--data-dir "$data" --timeout 1 --client-port "$none_client_port" \
		--peer-port "$none_peer_port"
	expect "etcd-promote with a password set: exit 4" 4 err "127.0.0.1"
	no_secret "etcd-promote with a password set"
	run ETCDCTL_USER=root "ETCDCTL_PASSWORD=$secret" etcd-leave --name etcd-0 --data-dir "$data" \
		--policy always --timeout 2 --client-port "$none_client_port" \
		--peer-port "$none_peer_port"
	expect "etcd-leave with a password set: exit 1" 1 err "cannot log in"
	no_secret "etcd-leave with a password set"

	# flags etcd-join owns cannot be passed after '--'
	run etcd-join "${join_args[@]}" --etcd /bin/true --dry-run -- --name=x
	expect "-- --name=x: exit 2, the flag is owned" 2 err "--name"
	run etcd-join "${join_args[@]}" --etcd /bin/true --dry-run -- --data-dir /elsewhere
	expect "-- --data-dir /elsewhere: exit 2, the flag is owned" 2 err "--data-dir"
	# ... decided before anything else: not after waiting for peers (an empty data dir
	# bootstraps: it first waits for the peer names, which never resolve here)
	run etcd-join --name etcd-0 --initial-cluster-size 1 --data-dir "$tmp/empty/default.etcd" \
		--timeout 3 --etcd /bin/true --dry-run -- --name=x
	expect "-- --name=x with an empty data dir: exit 2 at once" 2 err "--name"

	# a real exec (of a stand-in that prints what it got), on a copy of the data
	cp -a "$data" "$vol/copy.etcd"
	printf '#!/bin/sh\necho "argv: $*"\nenv\n' >"$tmp/show-exec"
	chmod +x "$tmp/show-exec"
	run ETCDCTL_USER=root "ETCDCTL_PASSWORD=$secret" "ROOT_PASSWORD=$secret" etcd-join \
		--name etcd-0 --initial-cluster-size 1 --data-dir "$vol/copy.etcd" \
		--etcd "$tmp/show-exec"
	expect "exec on a valid data dir: the exec'd program gets etcd's flags" 0 out \
		"argv: --name=etcd-0 " "--data-dir=$vol/copy.etcd"
	no_secret "exec with a password set (argv and environment of the exec'd program)"
	if grep -q '^ETCDCTL_USER=' "$tmp/out"; then
		fail "exec: ETCDCTL_USER is removed from etcd's environment" "$(printed)"
	else
		ok "exec: ETCDCTL_USER is removed from etcd's environment"
	fi

	# etcd cannot be executed
	run etcd-join --name etcd-0 --initial-cluster-size 1 --data-dir "$vol/copy.etcd" \
		--etcd /nonexistent
	expect "--etcd /nonexistent on a valid data dir: exit 127" 127 err "'/nonexistent'"
	printf 'not a program\n' >"$tmp/not-executable"
	chmod 0644 "$tmp/not-executable"
	run etcd-join --name etcd-0 --initial-cluster-size 1 --data-dir "$vol/copy.etcd" \
		--etcd "$tmp/not-executable"
	expect "--etcd NOT-EXECUTABLE on a valid data dir: exit 126" 126 err "not-executable"

	# a WAL that cannot be read (a symlinked segment, never followed; an I/O error reads
	# the same) says nothing about the data: nothing decided, nothing moved (exit 1)
	mkdir -p "$tmp/walio"
	cp -a "$data" "$tmp/walio/default.etcd"
	seg=$(ls "$tmp/walio/default.etcd/member/wal/"*.wal | head -n 1)
	mv "$seg" "$tmp/walio/segment"
	ln -s "$tmp/walio/segment" "$seg"
	before=$(snapshot "$tmp/walio")
	run etcd-join --name etcd-0 --initial-cluster-size 1 --data-dir "$tmp/walio/default.etcd" \
		--etcd /bin/true --timeout 5
	expect "a WAL that cannot be read: exit 1, nothing decided" 1 err \
		"cannot read the WAL's metadata" "nothing moved"
	if [ "$before" != "$(snapshot "$tmp/walio")" ]; then
		fail "... nothing changed" "$(diff <(echo "$before") <(snapshot "$tmp/walio"))"
	else
		ok "... nothing changed"
	fi
fi

# ---- etcd-leave on a member that is gone from its cluster ----

# This member's data (a) is of a member that its own cluster (b) added, started and removed:
# b's leader, with a's cluster ID, does not list it, so "removed already", and etcd-leave
# moves the data dir aside once nothing holds it. While the backend db is locked (here by
# flock(1), as bbolt does) the deadline passes: it must still look, and keep a data dir held.
# Another cluster that does not list it says nothing: refused, nothing written.
leave_a=$tmp/leave-a
leave_c=$tmp/leave-c
mkdir -p "$leave_a" "$leave_c"
if ! $have_etcd; then
	: # reported above
elif ! start_etcd "$leave_a/b.etcd"; then
	fail "etcd 3.4 (b) starts on 127.0.0.1" "$(tail -n 5 "$etcd_log")"
else
	b_pid=$etcd_pid
	b_client=$client
	if removed_member "$leave_a/default.etcd"; then
		leave_args=(--name etcd-0 --initial-cluster-size 1 --policy always
			--data-dir "$leave_a/default.etcd" --client-port "$none_client_port"
			--peer-port "$none_peer_port")
		# another cluster (c), which does not list it either
		if start_etcd "$leave_c/default.etcd"; then
			run etcd-leave "${leave_args[@]}" --endpoints "$client" --timeout 5
			expect "etcd-leave, the list of another cluster: exit 3, refused" 3 err \
				"refusing to leave" "split brain suspected"
			if [ -e "$leave_a/.etcd-hooks/tombstone" ] ||
				[ -n "$(ls -A "$leave_a/.etcd-hooks/quarantine" 2>/dev/null)" ]; then
				fail "... no tombstone, nothing moved" "$(ls -R "$leave_a/.etcd-hooks")"
			else
				ok "... no tombstone, nothing moved"
			fi
			stop_etcd
		else
			fail "etcd 3.4 (c) starts on 127.0.0.1" "$(tail -n 5 "$etcd_log")"
		fi
		# a sleep that holds the flock (as bbolt does), killed below to let go
		(exec 9<"$leave_a/default.etcd/member/snap/db" && flock -n 9 && exec sleep 600) \
			>/dev/null 2>&1 &
		flock_pid=$!
		sleep 0.2
		run etcd-leave "${leave_args[@]}" --endpoints "$b_client" --timeout 3
		expect "etcd-leave, gone from its cluster, its data held, deadline passed: exit 0" 0 \
			err "is not in its cluster: removed already" "etcd still holds the data dir"
		if [ -d "$leave_a/default.etcd/member/wal" ] &&
			[ -z "$(ls -A "$leave_a/.etcd-hooks/quarantine" 2>/dev/null)" ]; then
			ok "... the data dir that is held stays in place"
		else
			fail "... the data dir that is held stays in place" "$(printed)" \
				"$(ls -R "$leave_a" | head -n 20)"
		fi
		# let go: the one look says the data dir is free, so it moves
		kill "$flock_pid"
		wait "$flock_pid" 2>/dev/null
		run etcd-leave "${leave_args[@]}" --endpoints "$b_client" --timeout 3
		expect "etcd-leave, gone from its cluster, nothing holds its data: moved" 0 err \
			"is not in its cluster: removed already" "moved the data dir aside"
		if [ ! -e "$leave_a/default.etcd" ] &&
			ls -d "$leave_a"/.etcd-hooks/quarantine/*-left/default.etcd/member >/dev/null 2>&1
		then
			ok "... into the quarantine, tagged left"
		else
			fail "... into the quarantine, tagged left" "$(printed)"
		fi
	fi
	stop_etcd "$b_pid"
fi

exit $failed
