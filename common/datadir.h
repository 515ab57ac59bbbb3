/* The etcd data dir, read offline: empty, valid member data, partial, or in use by a running
 * etcd (probed through the WAL's lock without taking it). And the helper-state folder that
 * lives beside the data dir, never inside it, with atomic writes. */
#pragma once

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum datadir_state {
	DATADIR_EMPTY,   /* missing, or an empty directory */
	DATADIR_VALID,   /* WAL files in member/wal and member/snap/db are there */
	DATADIR_PARTIAL, /* something is there, but not a whole member's data */
	DATADIR_IN_USE,  /* a running etcd holds the WAL's lock */
};

struct datadir_info {
	enum datadir_state state;
	size_t n_wal;     /* *.wal files in member/wal */
	bool has_db;      /* member/snap/db is a non-empty regular file */
	char reason[256]; /* why this state, for the log */
};

/* Inspect path without changing anything. Returns 0 and *ret, or a negative errno when the
 * path cannot be read at all (permissions, I/O), with the reason in err. */
int datadir_inspect(const char *path, struct datadir_info *ret, struct error *err);

/* "empty", "valid", "partial", "in use". */
const char *datadir_state_name(enum datadir_state s);

/* True when a process holds a lock on the file at path (etcd's OFD write lock on its WAL),
 * probed with F_OFD_GETLK, which never takes the lock. Returns 1, 0 or a negative errno. */
int datadir_file_locked(const char *path);

/* The helper folder of a data dir: "<parent of data dir>/.etcd-hooks" (malloc'd; NULL on
 * out of memory). */
char *datadir_helper_dir(const char *data_dir);

/* Write content to dir/name atomically with mode 0600: a temp file in dir, fsync, rename,
 * fsync of dir. Creates dir (0700) when missing. Returns 0 or a negative errno. */
int datadir_write_atomic(const char *dir, const char *name, const char *content, struct error *err);

#define DATADIR_QUARANTINE_KEEP 3
/* In the helper folder: "pid=<etcd-join's pid>\nstate=<what it waits for>\n", written by
 * etcd-join while it waits and read by etcd-promote. */
#define DATADIR_JOIN_STATE "join-state"
/* In the helper folder: what the last etcd-join decided ("pid", "action", "reason", argv). */
#define DATADIR_LAST_DECISION "last-decision"

/* Move the data dir aside, never deleting it: rename it (same volume, atomic) to
 * <helper>/quarantine/<UTC time>.<ns>Z-<tag>/<data dir name>, with a file "reason" beside
 * it holding `reason`. Then keep at most `keep` quarantined entries (at least the new one),
 * removing the oldest by name, which is by time (no symlink is ever followed). On success *ret_path
 * (may be NULL) is the new path (malloc'd). Returns 0 or a negative errno; the data dir is
 * untouched on failure. */
int datadir_quarantine(const char *data_dir, const char *tag, const char *reason, unsigned keep,
                       char **ret_path, struct error *err);

/* The quarantined entries, oldest first (names under <helper>/quarantine), NULL-terminated
 * and malloc'd (free each and the array). Returns 0 (an empty list when there are none). */
int datadir_quarantine_list(const char *data_dir, char ***ret, struct error *err);

/* The value of `key` in the helper folder's key=value file `name` (one per line), into buf.
 * Returns 0, -ENOENT (no file or no such key) or another negative errno. */
int datadir_helper_value(const char *data_dir, const char *name, const char *key, char *buf,
                         size_t size);

/* The cluster marker in the helper folder: written once the member has been part of a formed
 * cluster, so an empty data dir later is known not to be a first bootstrap. */
int datadir_marker_write(const char *data_dir, uint64_t cluster_id, uint64_t member_id,
                         struct error *err);
/* Returns 0 and the IDs, -ENOENT when there is no marker, or -EBADMSG. */
int datadir_marker_read(const char *data_dir, uint64_t *ret_cluster_id, uint64_t *ret_member_id,
                        struct error *err);
