/* The helper folder that lives beside the data dir, never inside it
 * ("<parent of the data dir>/.etcd-hooks", on the same volume): atomic writes, one
 * key=value reader, the cluster marker, the tombstone, and the names of the files the
 * programs share there (join state, last decision). */
#pragma once

#include "datadir.h"
#include "error.h"
#include "wal.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The helper folder of a data dir: "<parent of data dir>/.etcd-hooks" (malloc'd; NULL on
 * out of memory). */
char *state_helper_dir(const char *data_dir);
/* Create dir (0700) if missing; an existing one must be a real directory, not a symlink.
 * Returns 0, or a negative errno (-ELOOP for a symlink) with the reason in err. */
int state_private_dir(const char *dir, struct error *err);

/* Write content to dir/name atomically with mode 0600: a temp file in dir, fsync, rename,
 * fsync of dir. Creates dir (0700) when missing. Returns 0 or a negative errno. */
int state_write_atomic(const char *dir, const char *name, const char *content, struct error *err);

/* In the helper folder: "pid=<etcd-join's pid>\nstate=<what it waits for>\n", written by
 * etcd-join while it waits and read by etcd-promote. */
#define STATE_JOIN_STATE "join-state"
/* In the helper folder: what the last etcd-join decided ("pid", "action", "reason", argv). */
#define STATE_LAST_DECISION "last-decision"

/* The value of `key` in the helper folder's key=value file `name` (one per line), into buf.
 * Returns 0, -ENOENT (no file or no such key) or another negative errno. */
int state_value(const char *data_dir, const char *name, const char *key, char *buf, size_t size);

/* The cluster marker in the helper folder: written once the member has been part of a formed
 * cluster, so an empty data dir later is known not to be a first bootstrap. */
int state_marker_write(const char *data_dir, uint64_t cluster_id, uint64_t member_id,
                       struct error *err);
/* Returns 0 and the IDs, -ENOENT when there is no marker, or -EBADMSG. */
int state_marker_read(const char *data_dir, uint64_t *ret_cluster_id, uint64_t *ret_member_id,
                      struct error *err);

/* The tombstone in the helper folder: etcd-leave writes it with state "removing" before it
 * asks etcd to remove this member (the pod may be killed right after: a removed etcd exits
 * at once), and with state "removed" once etcd confirmed. The next etcd-join or etcd-clean
 * moves the data of a "removed" member aside. */
struct state_tombstone {
	uint64_t member_id;
	uint64_t cluster_id;
	bool removed; /* false: "removing" (the intent; the outcome is unknown) */
};

/* Write the tombstone atomically (0600). Returns 0 or a negative errno. */
int state_tombstone_write(const char *data_dir, const struct state_tombstone *t, struct error *err);
/* Returns 0 and *ret, -ENOENT when there is none, or -EBADMSG. */
int state_tombstone_read(const char *data_dir, struct state_tombstone *ret, struct error *err);
/* Remove the tombstone (none is fine). Returns 0 or a negative errno. */
int state_tombstone_clear(const char *data_dir, struct error *err);

/* What one read said: 0, -ENOENT (nothing there) or another negative errno, with why. */
struct state_seen {
	int r;
	char error[ERROR_MSG_MAX];
};

/* Everything on the volume that the programs decide on, read once, nothing changed: the one
 * reader of etcd-join and etcd-clean. */
struct local_state {
	struct datadir_info data; /* valid data whose WAL is not a WAL is partial here */
	bool is_link;             /* the data dir is a symlink (never followed) */
	bool link_dangling;       /* ... to nothing */
	char link_target[PATH_MAX];
	struct state_seen wal_seen; /* read when member/wal holds a *.wal file, else -ENOENT */
	struct wal_metadata wal;    /* when wal_seen.r == 0 */
	/* Valid data whose WAL could not be read at all (I/O, permissions, a symlink): that
	 * says nothing about the data, so nothing may be decided on it. */
	bool wal_unreadable;
	struct state_seen marker_seen;
	uint64_t marker_cluster, marker_member; /* when marker_seen.r == 0 */
	struct state_seen tomb_seen;
	struct state_tombstone tomb; /* when tomb_seen.r == 0 */
};

/* Read the data dir (datadir_inspect(), never following a symlink), the WAL's metadata,
 * the cluster marker and the tombstone into *ret. Returns 0, or a negative errno when the
 * data dir cannot be inspected at all (err says why); every other failure is in its seen. */
int state_read(const char *data_dir, struct local_state *ret, struct error *err);

/* A tombstone that says "removed" and names the member and the cluster of the data's WAL:
 * etcd-leave wrote it once that cluster confirmed the removal. Only this one counts. */
bool state_tombstoned(const struct local_state *ls);

/* The cluster marker says this member's cluster formed, or cannot be read (it still says
 * something was here: never bootstrap on it). */
bool state_marker_formed(const struct local_state *ls);
