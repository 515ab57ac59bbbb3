#!/bin/bash
# etcd-clean against REAL data dirs (design.md "etcd-clean", "Exit codes"): data dirs made by a
# real etcd 3.4 on loopback, then every mode's exit code, what it printed and what it did on
# disk. Each run has a private environment (env -i) and names a data dir in a temp dir;
# nothing under /var/run/etcd is touched.
#
#   tests/cli/test-clean.sh HOOKS_BUILD_DIR
#
# Needs ETCD_BIN (default /var/cache/etcd-hooks/3.4.23/bin/etcd, from tests/fetch-etcd 3.4): a
# missing etcd is a FAIL, not a skip. One line per check (ok/FAIL); exit 1 if any failed.
set -u

hooks=${1:?usage: test-clean.sh HOOKS_BUILD_DIR}
etcd_bin=${ETCD_BIN:-/var/cache/etcd-hooks/3.4.23/bin/etcd}
# on a file system of its own (tmpfs), as a volume would be: the programs refuse a
# data dir on the root file system
tmp=$(mktemp -d /dev/shm/test-clean-XXXXXX)
# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

cleanup() {
	stop_all_etcd
	rm -rf "$tmp"
}
trap cleanup EXIT

# run [VAR=value...] [args...]: run etcd-clean with only PATH (and the given variables) in
# its environment, bounded; sets $rc, and $tmp/out, $tmp/err.
run() {
	local vars=()
	while [ $# -gt 0 ] && [[ $1 == [A-Z]*=* ]]; do
		vars+=("$1")
		shift
	done
	timeout -k 5 60 env -i PATH=/usr/bin:/bin HOME="$tmp" "${vars[@]}" \
		"$hooks/etcd-clean" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# check NAME COMMAND...: ok when COMMAND succeeds.
check() {
	local name=$1
	shift
	if "$@"; then
		ok "$name"
	else
		fail "$name" "$(printed)"
	fi
}

# The value of "KEY": "..." (a string) in the JSON of the last run's stdout.
json_str() {
	sed -n 's/^ *"'"$1"'": "\(.*\)",\{0,1\}$/\1/p' "$tmp/out" | head -n 1
}

hex() { /usr/bin/printf '%x' "$1"; }


# The quarantine entries of a volume, one name a line.
entries() {
	ls -1 "$1/.etcd-hooks/quarantine" 2>/dev/null
}

# ---- configuration and usage errors (no etcd needed) ----

run --data-dir /
expect "data dir '/': exit 2" 2 err "'/'" "root directory"
run --data-dir //
expect "data dir '//': exit 2" 2 err "root directory"
run --data-dir relative
expect "data dir 'relative': exit 2" 2 err "'relative'" "absolute"
# an empty flag is an error, never the default: not for the modes that change things either
run --data-dir ''
expect "an empty data dir: exit 2" 2 err "--data-dir" "empty"
mkdir -p "$tmp/ev/default.etcd/member/snap"
before=$(snapshot "$tmp/ev")
run "ETCD_DATA_DIR=$tmp/ev/default.etcd" --wipe --force --data-dir ''
expect "--wipe --force --data-dir '' with ETCD_DATA_DIR set: exit 2" 2 err "--data-dir" "empty"
run "ETCD_DATA_DIR=$tmp/ev/default.etcd" --quarantine --data-dir ''
expect "--quarantine --data-dir '' with ETCD_DATA_DIR set: exit 2" 2 err "--data-dir" "empty"
check "... and nothing changed there" test "$before" = "$(snapshot "$tmp/ev")"
# ETCD_DATA_DIR="$DIR" with DIR unset: an error, not the default data dir
run ETCD_DATA_DIR= --wipe --force
expect "ETCD_DATA_DIR='' --wipe --force: exit 2" 2 err \
	"environment variable ETCD_DATA_DIR is empty"
run ETCD_DATA_DIR=relative/dir
expect "ETCD_DATA_DIR=relative/dir: exit 2" 2 err "'relative/dir'" "absolute"
run --data-dir "$tmp/vol/.."
expect "a data dir with '..': exit 2" 2 err "'..'"
run --data-dir "$tmp/vol/.etcd-hooks"
expect "the helper folder as data dir: exit 2" 2 err "helper folder"
run --data-dir / --wipe --force
expect "--wipe --force of '/': exit 2" 2 err "root directory"

nodata=$tmp/nowhere/default.etcd
run --data-dir "$nodata" --status --wipe
expect "two modes (--status --wipe): exit 2" 2 err "--status and --wipe" \
	"Try 'etcd-clean --help'."
run --data-dir "$nodata" --list --restore x
expect "two modes (--list --restore): exit 2" 2 err "--list and --restore"
run --data-dir "$nodata" --quarantine --wipe --dry-run
expect "two modes with --dry-run: exit 2" 2 err "cannot go together"
run --data-dir "$nodata" --wipe --json
expect "--json without --status or --list: exit 2" 2 err "--json"
run --data-dir "$nodata" --force
expect "--force without --wipe: exit 2" 2 err "--force"
run --data-dir "$nodata" --keep 0
expect "--keep 0: exit 2" 2 err "--keep" "'0'"
run --data-dir "$nodata" --keep abc
expect "--keep abc: exit 2" 2 err "'abc'"
run ETCD_HOOKS_QUARANTINE_KEEP=-1 --data-dir "$nodata"
expect "ETCD_HOOKS_QUARANTINE_KEEP=-1: exit 2" 2 err "ETCD_HOOKS_QUARANTINE_KEEP" "'-1'"
run --data-dir "$nodata" --restore
expect "--restore without an ID: exit 2" 2 err "--restore"
run --help
expect "--help names every mode and flag" 0 out "--status" "--json" "--quarantine" "--wipe" \
	"--force" "--list" "--restore ID" "--keep N" "--dry-run" "ETCD_HOOKS_QUARANTINE_KEEP"

# ---- an empty data dir ----

run --data-dir "$nodata"
expect "default mode, no data dir: exit 0, usable" 0 out "result:" "usable"
check "... and nothing is created" test ! -e "$tmp/nowhere"
mkdir -p "$tmp/e/default.etcd"
run --data-dir "$tmp/e/default.etcd"
expect "default mode, an empty directory: exit 0" 0 out "empty" "usable"
run --data-dir "$tmp/e/default.etcd" --status
expect "--status, empty: exit 0" 0 out "state:          empty" "member ID:      -" \
	"helper folder:  $tmp/e/.etcd-hooks"
run --data-dir "$tmp/e/default.etcd" --status --json
expect "--status --json, empty: exit 0" 0 out '"state": "empty"' '"member_id": null' \
	'"in_use": false'
run --data-dir "$tmp/e/default.etcd" --wipe --name etcd-0
expect "--wipe of an empty directory: exit 0, nothing to wipe" 0 err "nothing to wipe"
run --data-dir "$tmp/e/default.etcd" --list
expect "--list without a quarantine: exit 0" 0 out "no quarantine entries"
run --data-dir "$tmp/e/default.etcd" --list --json
expect "--list --json without a quarantine: exit 0" 0 out '"entries": []'

# ---- a partial data dir (no etcd needed) ----

p=$tmp/p
mkdir -p "$p/default.etcd/member/wal" "$p/default.etcd/member/snap"
run --data-dir "$p/default.etcd" --status
expect "--status, partial: exit 0" 0 out "state:          partial" "no WAL file"
run --data-dir "$p/default.etcd" --status --json
expect "--status --json, partial: exit 0" 0 out '"state": "partial"' '"wal_files": 0'
# its WAL elsewhere, the data dir would look partial: refused before anything is moved
before=$(snapshot "$p")
run ETCD_WAL_DIR=/var/lib/etcd-wal --data-dir "$p/default.etcd"
expect "ETCD_WAL_DIR: exit 2" 2 err "ETCD_WAL_DIR" "not supported"
check "... and nothing is moved" test "$before" = "$(snapshot "$p")"
run ETCD_CONFIG_FILE=/etc/etcd.yaml --data-dir "$p/default.etcd" --status
expect "--status with ETCD_CONFIG_FILE: exit 2" 2 err "ETCD_CONFIG_FILE" "not supported"
run --data-dir "$p/default.etcd" --dry-run
expect "default mode --dry-run, partial: exit 0, says what it would do" 0 out "dry run: nothing changed" \
	"would: move"
check "... and changes nothing" test "$before" = "$(snapshot "$p")"
run --data-dir "$p/default.etcd"
expect "default mode, partial: exit 0, moved aside" 0 all "move aside (partial)" "moved to:" \
	"usable (empty)"
check "... the data dir is gone" test ! -e "$p/default.etcd"
check "... one entry tagged partial, holding the data and a reason" \
	test -d "$p/.etcd-hooks/quarantine/$(entries "$p" | grep -- '-partial$')/default.etcd/member/wal"

# ---- the rest needs a real etcd ----

if [ ! -x "$etcd_bin" ]; then
	fail "a real etcd 3.4 at ETCD_BIN='$etcd_bin'" "run tests/fetch-etcd 3.4"
	exit 1
fi
x=$tmp/x
mkdir -p "$x"
if ! start_etcd "$x/default.etcd"; then
	fail "etcd 3.4 starts on 127.0.0.1" "$(tail -n 5 "$etcd_log")"
	exit 1
fi
list=$(curl -s -m 5 -X POST -d '{}' "$client/v3/cluster/member/list")
cluster_id=$(printf '%s' "$list" | grep -o '"cluster_id":"[0-9]*"' | head -n 1 | tr -dc 0-9)
member_id=$(printf '%s' "$list" | grep -o '"ID":"[0-9]*"' | head -n 1 | tr -dc 0-9)
if [ -z "$cluster_id" ] || [ -z "$member_id" ]; then
	fail "the member list of the real etcd gives its IDs" "$list"
	exit 1
fi
ok "a real etcd 3.4: member $member_id ($(hex "$member_id")), cluster $cluster_id"

# in use: never touched
run --data-dir "$x/default.etcd" --status
expect "--status, in use: exit 0, says so" 0 out "in use:         yes" \
	"member ID:      $member_id ($(hex "$member_id"))"
run --data-dir "$x/default.etcd" --status --json
expect "--status --json, in use: in_use true" 0 out '"in_use": true' '"state": "in use"'
run --data-dir "$x/default.etcd"
expect "default mode, in use: exit 3" 3 err "running etcd holds it"
run --data-dir "$x/default.etcd" --quarantine
expect "--quarantine, in use: exit 3" 3 err "refusing to move aside" "running etcd"
run --data-dir "$x/default.etcd" --wipe --name etcd-0
expect "--wipe, in use: exit 3" 3 err "refusing to wipe" "running etcd"
run --data-dir "$x/default.etcd" --wipe --force --name etcd-0
expect "--wipe --force, in use: exit 3" 3 err "refusing to wipe" "running etcd"
run --data-dir "$x/default.etcd" --restore 20240101T000000Z-manual
expect "--restore into a data dir in use: exit 3" 3 err "refusing to restore into" "running etcd"
# (etcd itself writes to its data dir meanwhile: look at what etcd-clean would have made)
check "... nothing moved aside or deleted while in use" \
	test ! -e "$x/.etcd-hooks" -a -d "$x/default.etcd/member/wal" -a -f "$x/default.etcd/member/snap/db"
check "... and etcd still answers" etcd_is_ours
stop_etcd

# valid and stopped
run --data-dir "$x/default.etcd" --status
expect "--status, valid: the IDs of the member list, decimal and hex" 0 out \
	"state:          valid" "in use:         no" "backend db:     yes" \
	"member ID:      $member_id ($(hex "$member_id"))" \
	"cluster ID:     $cluster_id ($(hex "$cluster_id"))"
run --data-dir "$x/default.etcd" --status --json
expect "--status --json, valid: exit 0" 0 out '"state": "valid"'
if [ "$(json_str member_id)" = "$member_id" ] && [ "$(json_str cluster_id)" = "$cluster_id" ] &&
	[ "$(json_str member_id_hex)" = "$(hex "$member_id")" ] &&
	[ "$(json_str cluster_id_hex)" = "$(hex "$cluster_id")" ]; then
	ok "--status --json: the IDs of the member list (decimal strings and hex)"
else
	fail "--status --json: the IDs of the member list" "$(printed)"
fi
before=$(snapshot "$x")
run --data-dir "$x/default.etcd"
expect "default mode, valid: exit 0, nothing moved" 0 out "action:         none" "usable"
check "... nothing changed" test "$before" = "$(snapshot "$x")"

# a dry run that answers always ends with the same line, with or without anything to do
for args in "--data-dir $x/default.etcd --dry-run" "--data-dir $nodata --dry-run" \
	"--data-dir $nodata --quarantine --dry-run" "--data-dir $nodata --wipe --force --dry-run"; do
	# shellcheck disable=SC2086 # the words of args
	run $args
	if [ "$rc" = 0 ] && [ "$(tail -n 1 "$tmp/out")" = "dry run: nothing changed" ]; then
		ok "etcd-clean $args: exit 0, the last line 'dry run: nothing changed'"
	else
		fail "etcd-clean $args: exit 0, the last line 'dry run: nothing changed'" "$(printed)"
	fi
done
check "... nothing changed" test "$before" = "$(snapshot "$x")"

# copies of the stopped member's data for the other cases
for v in t t2 f f2 w y z q s c io ab sw ff; do
	mkdir -p "$tmp/$v"
	cp -a "$x/default.etcd" "$tmp/$v/default.etcd"
done

# valid in structure, but the WAL's metadata is unreadable: partial
printf 'not a WAL at all' | dd of="$(ls "$tmp/c/default.etcd/member/wal/"*.wal)" conv=notrunc \
	status=none
run --data-dir "$tmp/c/default.etcd" --status --json
expect "--status --json, an unreadable WAL: partial, wal_error" 0 out '"state": "partial"' \
	'"member_id": null' '"wal_error": "'
run --data-dir "$tmp/c/default.etcd" --status
expect "--status, an unreadable WAL: partial, as the default mode sees it" 0 out \
	"state:          partial: the WAL's metadata is unreadable"
run --data-dir "$tmp/c/default.etcd"
expect "default mode, an unreadable WAL: exit 0, moved aside as partial" 0 all \
	"move aside (partial)" "metadata is unreadable" "usable (empty)"

# valid in structure, but the WAL cannot be read (here its first segment is a symlink, which
# is never followed; an I/O error reads the same): that says nothing about the data, so
# the default mode decides nothing and moves nothing (exit 1)
seg=$(ls "$tmp/io/default.etcd/member/wal/"*.wal | head -n 1)
mv "$seg" "$tmp/io/segment"
ln -s "$tmp/io/segment" "$seg"
before=$(snapshot "$tmp/io")
run --data-dir "$tmp/io/default.etcd"
expect "default mode, a WAL that cannot be read: exit 1, no verdict" 1 err \
	"cannot read the WAL's metadata" "nothing moved"
check "... nothing changed" test "$before" = "$(snapshot "$tmp/io")"
run --data-dir "$tmp/io/default.etcd" --status
expect "--status, a WAL that cannot be read: valid, the member ID unreadable" 0 out \
	"state:          valid" "member ID:      unreadable"

# stray files in member/wal that are not etcd's segments ("0.wal" sorts first, ".wal",
# a FIFO): etcd skips them, and so does every reading of the data dir
: >"$tmp/sw/default.etcd/member/wal/0.wal"
: >"$tmp/sw/default.etcd/member/wal/.wal"
mkfifo "$tmp/sw/default.etcd/member/wal/00.wal"
before=$(snapshot "$tmp/sw")
run --data-dir "$tmp/sw/default.etcd"
expect "default mode, stray *.wal files beside the segments: exit 0, valid, nothing moved" 0 \
	out "action:         none: the data dir holds valid member data"
check "... nothing changed" test "$before" = "$(snapshot "$tmp/sw")"
run --data-dir "$tmp/sw/default.etcd" --status
expect "--status, stray *.wal files: valid, its member ID read" 0 out "state:          valid" \
	"member ID:      $member_id"

# a FIFO under the first segment's name (the real segment renamed to sort after it): not a
# regular file, so a read error that decides nothing (exit 1), never "partial"
seg=$(ls "$tmp/ff/default.etcd/member/wal/"*.wal | head -n 1)
mv "$seg" "$tmp/ff/default.etcd/member/wal/ffffffffffffffff-ffffffffffffffff.wal"
mkfifo "$seg"
before=$(snapshot "$tmp/ff")
run --data-dir "$tmp/ff/default.etcd"
expect "default mode, a FIFO named as a WAL segment: exit 1, nothing moved" 1 err \
	"not a regular file" "nothing moved"
check "... nothing changed" test "$before" = "$(snapshot "$tmp/ff")"

# tombstoned: removed, with this data's member ID
mkdir -p "$tmp/t/.etcd-hooks"
printf 'member_id=%s\ncluster_id=%s\nstate=removed\n' "$member_id" "$cluster_id" \
	>"$tmp/t/.etcd-hooks/tombstone"
run --data-dir "$tmp/t/default.etcd" --status
expect "--status shows the tombstone" 0 out "tombstone:      removed" "(this data's member)"
before=$(snapshot "$tmp/t")
run --data-dir "$tmp/t/default.etcd" --dry-run
expect "default mode --dry-run, tombstoned: exit 0" 0 out "would: move"
check "... and changes nothing" test "$before" = "$(snapshot "$tmp/t")"
run --data-dir "$tmp/t/default.etcd"
expect "default mode, tombstoned: exit 0, moved aside" 0 all "move aside (left)" \
	"cleared the tombstone"
check "... the data dir is gone, the entry is tagged left" \
	test ! -e "$tmp/t/default.etcd" -a -n "$(entries "$tmp/t" | grep -- '-left$')"
check "... the tombstone is cleared" test ! -e "$tmp/t/.etcd-hooks/tombstone"

# a tombstone of another member, or one still "removing": the data stays
mkdir -p "$tmp/t2/.etcd-hooks"
printf 'member_id=12345\ncluster_id=%s\nstate=removed\n' "$cluster_id" \
	>"$tmp/t2/.etcd-hooks/tombstone"
run --data-dir "$tmp/t2/default.etcd"
expect "default mode, the tombstone of another member: exit 0, kept" 0 out "action:         none"
printf 'member_id=%s\ncluster_id=%s\nstate=removing\n' "$member_id" "$cluster_id" \
	>"$tmp/t2/.etcd-hooks/tombstone"
run --data-dir "$tmp/t2/default.etcd"
expect "default mode, a 'removing' tombstone: exit 0, kept" 0 out "action:         none"
check "... the data and the tombstone stay" \
	test -d "$tmp/t2/default.etcd/member" -a -e "$tmp/t2/.etcd-hooks/tombstone"

# foreign: the marker names another cluster
mkdir -p "$tmp/f/.etcd-hooks"
printf 'cluster_id=123\nmember_id=456\n' >"$tmp/f/.etcd-hooks/cluster"
before=$(snapshot "$tmp/f")
run --data-dir "$tmp/f/default.etcd"
expect "default mode, foreign data: exit 0, not moved (only its own cluster can say)" 0 all \
	"cluster marker says" "not moved" "action:         none"
check "... nothing moved aside" test "$before" = "$(snapshot "$tmp/f")"
mkdir -p "$tmp/f2/.etcd-hooks"
printf 'cluster_id=%s\nmember_id=%s\n' "$cluster_id" "$member_id" >"$tmp/f2/.etcd-hooks/cluster"
run --data-dir "$tmp/f2/default.etcd"
expect "default mode, the marker of the same cluster: exit 0, kept" 0 out "action:         none"

# --wipe of a stopped member whose cluster does not answer (no other member to ask):
# "cannot tell" is never "wipe"; --force does it
before=$(snapshot "$tmp/w")
run --data-dir "$tmp/w/default.etcd" --wipe --name etcd-0 --dry-run
expect "--wipe --dry-run, no cluster answers: exit 3, refused" 3 err "refusing to wipe" \
	"no cluster answers" "--force"
run --data-dir "$tmp/w/default.etcd" --wipe --name etcd-0
expect "--wipe, no cluster answers: exit 3, refused" 3 err "refusing to wipe" \
	"no cluster answers" "--force"
check "... and changes nothing" test "$before" = "$(snapshot "$tmp/w")"
run --data-dir "$tmp/w/default.etcd" --wipe --force --name etcd-0 --dry-run
expect "--wipe --force --dry-run: exit 0, lists what it would delete" 0 out \
	"would delete file" "member/snap/db" "nothing changed"
check "... and changes nothing" test "$before" = "$(snapshot "$tmp/w")"
run --data-dir "$tmp/w/default.etcd" --wipe --force --name etcd-0
expect "--wipe --force: exit 0, every deleted file logged" 0 err \
	"deleted file '$tmp/w/default.etcd/member/snap/db'" \
	"deleted directory '$tmp/w/default.etcd'" "wiped the data dir"
check "... the data dir is gone" test ! -e "$tmp/w/default.etcd"
# --wipe of etcd-2: asks etcd-0 and etcd-1 by name, which do not resolve here: refused
cp -a "$x/default.etcd" "$tmp/w/default.etcd"
before=$(snapshot "$tmp/w")
run --data-dir "$tmp/w/default.etcd" --wipe --name etcd-2 --initial-cluster-size 3 --timeout 20
expect "--wipe as etcd-2, the other members' names do not resolve: exit 3" 3 err \
	"no cluster answers" "--force"
check "... and changes nothing" test "$before" = "$(snapshot "$tmp/w")"
# with INITIAL_CLUSTER_SIZE unset too
run --data-dir "$tmp/w/default.etcd" --wipe --name etcd-0
expect "--wipe without INITIAL_CLUSTER_SIZE or peers: exit 3" 3 err "refusing to wipe"
check "... and changes nothing" test "$before" = "$(snapshot "$tmp/w")"
# the tombstone etcd-leave wrote once its cluster removed this data's member: wiped
mkdir -p "$tmp/w/.etcd-hooks"
printf 'member_id=%s\ncluster_id=%s\nstate=removed\n' "$member_id" "$cluster_id" \
	>"$tmp/w/.etcd-hooks/tombstone"
run --data-dir "$tmp/w/default.etcd" --wipe --name etcd-0
expect "--wipe with the tombstone of this member: exit 0" 0 err "the tombstone says" \
	"wiped the data dir"
check "... the data dir is gone" test ! -e "$tmp/w/default.etcd"

# --wipe of a copy (y) of a member that is started in a cluster that answers (x, running)
if ! start_etcd "$x/default.etcd"; then
	fail "etcd 3.4 starts again on its data" "$(tail -n 5 "$etcd_log")"
else
	before=$(snapshot "$tmp/y")
	run --data-dir "$tmp/y/default.etcd" --wipe --name etcd-0 --endpoints "$client"
	expect "--wipe, this member is started in a cluster that answers: exit 3" 3 err \
		"is a started member" "$client" "--force"
	check "... nothing deleted" test "$before" = "$(snapshot "$tmp/y")"
	run --data-dir "$tmp/y/default.etcd" --wipe --name etcd-0 --endpoints "$client" \
		--dry-run
	expect "--wipe --dry-run, a started member: exit 3 as well" 3 err "is a started member"
	run --data-dir "$tmp/y/default.etcd" --wipe --force --name etcd-0 --endpoints "$client"
	expect "--wipe --force, a started member: exit 0" 0 err "--force" "wiped the data dir"
	check "... the data dir is gone" test ! -e "$tmp/y/default.etcd"
	# partial data (no WAL, so no member ID): no cluster can vouch for it
	mkdir -p "$tmp/y2"
	cp -a "$tmp/p/.etcd-hooks/quarantine/$(entries "$tmp/p" | head -n 1)/default.etcd" \
		"$tmp/y2/default.etcd"
	before=$(snapshot "$tmp/y2")
	run --data-dir "$tmp/y2/default.etcd" --wipe --name etcd-0 --endpoints "$client"
	expect "--wipe of partial data, the cluster answers: exit 3" 3 err \
		"no readable member ID" "--force"
	check "... nothing deleted" test "$before" = "$(snapshot "$tmp/y2")"
	# a member of x's cluster, added, started and removed: x's leader does not list it,
	# with x's own cluster ID and a raft log ahead of the removed member's: wiped
	if removed_member "$tmp/r/default.etcd"; then
		run --data-dir "$tmp/r/default.etcd" --wipe --name etcd-1 --endpoints "$client"
		expect "--wipe of a member its own cluster removed: exit 0" 0 err \
			"does not list member" "wiped the data dir"
		check "... the data dir is gone" test ! -e "$tmp/r/default.etcd"
	fi
	stop_etcd
fi

# a symlink planted inside the data dir pointing outside: the link goes, the target stays
echo precious >"$tmp/precious.txt"
mkdir -p "$tmp/precious-dir"
echo also >"$tmp/precious-dir/keep.txt"
ln -s "$tmp/precious.txt" "$tmp/z/default.etcd/member/link-to-file"
ln -s "$tmp/precious-dir" "$tmp/z/default.etcd/member/link-to-dir"
ln -s / "$tmp/z/default.etcd/link-to-root"
run --data-dir "$tmp/z/default.etcd" --wipe --force --name etcd-0
expect "--wipe with symlinks inside: exit 0, the links deleted as links" 0 err \
	"deleted symlink '$tmp/z/default.etcd/member/link-to-dir'" \
	"deleted symlink '$tmp/z/default.etcd/link-to-root'"
check "... the targets outside survive" \
	test "$(cat "$tmp/precious.txt")" = precious -a "$(cat "$tmp/precious-dir/keep.txt")" = also
check "... the data dir is gone" test ! -e "$tmp/z/default.etcd"

# an abbreviated flag is never taken for one that deletes ("--wi --forc")
before=$(snapshot "$tmp/ab")
run --data-dir "$tmp/ab/default.etcd" --wi --forc --name etcd-0
expect "--wi --forc: exit 2, never abbreviated" 2 err "options are never abbreviated" \
	"did you mean '--wipe'?"
check "... nothing deleted" test "$before" = "$(snapshot "$tmp/ab")"
# the next option is never taken for a value: "--name --status" is not a default-mode run
run --data-dir "$tmp/ab/default.etcd" --name --status
expect "--name --status: exit 2, the option named" 2 err \
	"option '--name' needs a value; '--status' is an option"
run --data-dir "$tmp/ab/default.etcd" --wipe=yes --name etcd-0
expect "--wipe=yes: exit 2, takes no value" 2 err "option '--wipe' takes no value"
check "... nothing changed" test "$before" = "$(snapshot "$tmp/ab")"

# the data dir itself is a symlink: reported, never wiped or moved aside
mv "$tmp/s/default.etcd" "$tmp/s/real.etcd"
ln -s "$tmp/s/real.etcd" "$tmp/s/default.etcd"
before=$(snapshot "$tmp/s")
run --data-dir "$tmp/s/default.etcd" --status
expect "--status of a symlinked data dir: reports the link" 0 out "symlink:        yes" \
	"$tmp/s/real.etcd"
run --data-dir "$tmp/s/default.etcd" --status --json
expect "--status --json of a symlinked data dir" 0 out "\"symlink\": \"$tmp/s/real.etcd\""
run --data-dir "$tmp/s/default.etcd"
expect "default mode, a symlink to valid data: exit 0, with a warning" 0 all "usable" \
	"is a symlink"
run --data-dir "$tmp/s/default.etcd" --wipe --name etcd-0
expect "--wipe of a symlinked data dir: exit 3" 3 err "is a symlink"
run --data-dir "$tmp/s/default.etcd" --wipe --force --name etcd-0
expect "--wipe --force of a symlinked data dir: exit 3" 3 err "is a symlink"
run --data-dir "$tmp/s/default.etcd" --quarantine
expect "--quarantine of a symlinked data dir: exit 3" 3 err "is a symlink"
check "... nothing changed" test "$before" = "$(snapshot "$tmp/s")"

# the quarantine folder is a symlink to elsewhere: never moved into, never pruned there
hq=$tmp/hq
mkdir -p "$hq/.etcd-hooks" "$tmp/victim/19990101T000000Z-a" "$tmp/victim/19990102T000000Z-b"
echo precious >"$tmp/victim/19990101T000000Z-a/keep.txt"
ln -s "$tmp/victim" "$hq/.etcd-hooks/quarantine"
mkdir -p "$hq/default.etcd/member"
before=$(snapshot "$tmp/victim")
run --data-dir "$hq/default.etcd" --keep 1
expect "default mode, partial data, the quarantine folder a symlink: exit 3" 3 err \
	"refusing to move the data dir aside" "$hq/.etcd-hooks/quarantine"
run --data-dir "$hq/default.etcd" --quarantine --keep 1
expect "--quarantine, the quarantine folder a symlink: exit 3" 3 err "not a directory"
run --data-dir "$hq/default.etcd" --list
expect "--list, the quarantine folder a symlink: exit 3" 3 err "not a directory"
run --data-dir "$hq/default.etcd" --status
expect "--status says the helper folder is not used" 0 out "not a real directory"
check "... the link's target is untouched, the data dir stays" \
	test "$before" = "$(snapshot "$tmp/victim")" -a -d "$hq/default.etcd/member"

ln -s "$tmp/nothing-here" "$tmp/s/dangling.etcd"
run --data-dir "$tmp/s/dangling.etcd"
expect "default mode, a symlink to nothing: exit 3" 3 err "does not exist"

# --quarantine, --list, --restore: the round trip
q=$tmp/q
before=$(snapshot "$q")
run --data-dir "$q/default.etcd" --quarantine --dry-run
expect "--quarantine --dry-run: exit 0" 0 out "would: move"
check "... and changes nothing" test "$before" = "$(snapshot "$q")"
run --data-dir "$q/default.etcd" --quarantine
expect "--quarantine: exit 0, moved aside" 0 err "moved the data dir"
id=$(entries "$q" | grep -- '-manual$')
check "... the entry is tagged manual" test -n "$id" -a ! -e "$q/default.etcd"
run --data-dir "$q/default.etcd" --list
expect "--list: the entry with its time, size and reason" 0 out "$id" "MiB" \
	"moved aside by hand" "$(date -u +%Y-%m-%d)T"
run --data-dir "$q/default.etcd" --list --json
expect "--list --json: the entry" 0 out "\"id\": \"$id\"" '"bytes": ' '"reason": "moved aside'
run --data-dir "$q/default.etcd" --status
expect "--status counts the entry" 0 out "quarantine:     1 entry"
cp -a "$x/default.etcd" "$q/default.etcd"
before=$(snapshot "$q")
run --data-dir "$q/default.etcd" --restore "$id"
expect "--restore into a data dir that is not empty: exit 3" 3 err "not empty"
check "... nothing changed" test "$before" = "$(snapshot "$q")"
rm -rf "$q/default.etcd"
run --data-dir "$q/default.etcd" --restore no-such-entry
expect "--restore of an unknown ID: exit 2" 2 err "'no-such-entry'" "--list"
run --data-dir "$q/default.etcd" --restore ../x
expect "--restore of a path: exit 2" 2 err "'../x'"
before=$(snapshot "$q")
run --data-dir "$q/default.etcd" --restore "$id" --dry-run
expect "--restore --dry-run: exit 0" 0 out "would: move"
check "... and changes nothing" test "$before" = "$(snapshot "$q")"
mkdir "$q/default.etcd"
run --data-dir "$q/default.etcd" --restore "$id"
expect "--restore into an empty directory: exit 0" 0 err "restored"
check "... the entry is gone" test -z "$(entries "$q")"
run --data-dir "$q/default.etcd" --status
expect "... and the data is back, same IDs" 0 out "state:          valid" \
	"member ID:      $member_id"

# retention: --keep, and its variable
for _ in 1 2 3; do
	cp -a "$x/default.etcd" "$q/default.etcd"
	run --data-dir "$q/default.etcd" --quarantine --keep 2
done
check "--keep 2: two entries remain after three moves" test "$(entries "$q" | wc -l)" = 2
cp -a "$x/default.etcd" "$q/default.etcd"
run ETCD_HOOKS_QUARANTINE_KEEP=1 --data-dir "$q/default.etcd" --quarantine
check "ETCD_HOOKS_QUARANTINE_KEEP=1: one entry remains" test "$(entries "$q" | wc -l)" = 1
cp -a "$x/default.etcd" "$q/default.etcd"
run ETCD_HOOKS_QUARANTINE_KEEP=1 --data-dir "$q/default.etcd" --quarantine --keep 3
check "--keep wins over ETCD_HOOKS_QUARANTINE_KEEP" test "$(entries "$q" | wc -l)" = 2

exit $failed
