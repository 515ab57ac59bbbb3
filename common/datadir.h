/* The etcd data dir, read offline: empty, valid member data, partial, or in use by a running
 * etcd (probed through the WAL's lock without taking it, and the backend db's flock). And
 * the helper-state folder that
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
	DATADIR_IN_USE,  /* a running etcd holds the WAL's lock or the db's */
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

/* wal_read_metadata() failed with r (a negative errno) and why. A WAL whose bytes are not
 * a WAL (-EBADMSG, -ENODATA) makes a valid data dir partial, and returns true: the one
 * classification that etcd-join, etcd-clean's modes and --status share. Any other error
 * (I/O, permissions, a symlink, memory) says nothing about the data: returns false, info
 * unchanged, and the caller decides nothing on it. */
bool datadir_wal_unreadable(struct datadir_info *info, int r, const char *why);

/* Is the data dir on a volume, with its helper folder? Refuses, with a message that says what
 * to fix: a data dir that is itself a mount point (-EXDEV: the helper folder beside it, its
 * parent, would be on the container's throw-away root, and every move aside would fail),
 * and a data dir whose parent is on the root file system (-ENXIO: no volume is mounted; the
 * data would live and die with the container). `mountinfo` is /proc/self/mountinfo (NULL for
 * that). Returns 0 or the negative errno with the reason in err. */
int datadir_check_volume(const char *data_dir, const char *mountinfo, struct error *err);

/* "empty", "valid", "partial", "in use". */
const char *datadir_state_name(enum datadir_state s);

/* True when a process holds a lock on the file at path (etcd's OFD write lock on its WAL),
 * probed with F_OFD_GETLK, which never takes the lock. Returns 1, 0 or a negative errno. */
int datadir_file_locked(const char *path);

/* The helper folder of a data dir: "<parent of data dir>/.etcd-hooks" (malloc'd; NULL on
 * out of memory). */
char *datadir_helper_dir(const char *data_dir);
/* Create dir (0700) if missing; an existing one must be a real directory, not a symlink.
 * Returns 0, or a negative errno (-ELOOP for a symlink) with the reason in err. */
int datadir_private_dir(const char *dir, struct error *err);

/* Write content to dir/name atomically with mode 0600: a temp file in dir, fsync, rename,
 * fsync of dir. Creates dir (0700) when missing. Returns 0 or a negative errno. */
int datadir_write_atomic(const char *dir, const char *name, const char *content, struct error *err);

/* In the helper folder: "pid=<etcd-join's pid>\nstate=<what it waits for>\n", written by
 * etcd-join while it waits and read by etcd-promote. */
#define DATADIR_JOIN_STATE "join-state"
/* In the helper folder: what the last etcd-join decided ("pid", "action", "reason", argv). */
#define DATADIR_LAST_DECISION "last-decision"

/* A backend db without a WAL this large or larger counts, in the retention, as member data
 * that may be its last copy; below it, as the skeleton of a failed start. */
#define DATADIR_PRECIOUS_DB_BYTES (1024 * 1024)

/* Called for each quarantine entry that retention deleted: its name and what it held
 * ("member data", "partial data: ...", "no data dir"). */
typedef void datadir_prune_fn(const char *entry, const char *held, void *ctx);

/* Move the data dir aside, never deleting it: rename it (same volume, atomic) to
 * <helper>/quarantine/<UTC time>.<ns>Z-<tag>/<data dir name>, with a file "reason" beside
 * it holding `reason`, and sync the folders. Only once the new entry is in place, apply the
 * retention: quarantined data is the last copy someone may need, so an entry holding member
 * data (valid, or partial with a WAL or a db of DATADIR_PRECIOUS_DB_BYTES) is deleted only
 * while more than `keep` such entries remain (the oldest first, never the newest), and
 * never to make room for anything else; other entries (skeletons of failed starts, no data
 * dir) go first, the oldest first, while more than `keep` entries remain; the new entry
 * always stays. No symlink is ever followed. on_prune (may be NULL)
 * hears of every deletion. keep 0: no retention now (the caller applies it later, with
 * datadir_quarantine_prune()). On success *ret_path (may be NULL) is the new path
 * (malloc'd). Returns 0 or a negative errno; on failure the data dir is untouched and
 * nothing was deleted. */
int datadir_quarantine(const char *data_dir, const char *tag, const char *reason, unsigned keep,
                       datadir_prune_fn *on_prune, void *ctx, char **ret_path, struct error *err);

/* The same retention on the quarantine as it is, the newest entry taking the place of the
 * new one: for a retention that a program killed half-way left undone. keep 0 does
 * nothing. Best effort, silent but for on_prune. */
void datadir_quarantine_prune(const char *data_dir, unsigned keep, datadir_prune_fn *on_prune,
                              void *ctx);

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

/* The tombstone in the helper folder: etcd-leave writes it with state "removing" before it
 * asks etcd to remove this member (the pod may be killed right after: a removed etcd exits
 * at once), and with state "removed" once etcd confirmed. The next etcd-join or etcd-clean
 * moves the data of a "removed" member aside. */
struct datadir_tombstone {
	uint64_t member_id;
	uint64_t cluster_id;
	bool removed; /* false: "removing" (the intent; the outcome is unknown) */
};

/* Write the tombstone atomically (0600). Returns 0 or a negative errno. */
int datadir_tombstone_write(const char *data_dir, const struct datadir_tombstone *t,
                            struct error *err);
/* Returns 0 and *ret, -ENOENT when there is none, or -EBADMSG. */
int datadir_tombstone_read(const char *data_dir, struct datadir_tombstone *ret, struct error *err);
/* Remove the tombstone (none is fine). Returns 0 or a negative errno. */
int datadir_tombstone_clear(const char *data_dir, struct error *err);

/* ---- tree walks and the way back out of the quarantine (etcd-clean) ---- */

struct stat;

enum datadir_tree_flags {
	DATADIR_TREE_REMOVE = 1 << 0, /* remove every entry; without it, only visit */
};

/* Called for each entry of a tree walk, children before their directory, with the entry's
 * path (the walked path joined with the names below it) and its lstat. With
 * DATADIR_TREE_REMOVE, only once that entry was removed. */
typedef void datadir_tree_fn(const char *path, const struct stat *st, void *ctx);

/* Walk the tree at path without following any symlink: a symlink, the last component of
 * path included, is one entry (removed as a link; its target is never touched). Never goes
 * into another filesystem (a mount point below path is left whole: -EXDEV) nor deeper than
 * 128 levels (-ELOOP). fn may be NULL. Goes on past errors and returns 0, -ENOENT when path
 * does not exist, -EINVAL for a path without a last component ("/", "x/.."), or the first
 * negative errno with the path in err. */
int datadir_tree_walk(const char *path, unsigned flags, datadir_tree_fn *fn, void *ctx,
                      struct error *err);

/* What a quarantine entry says about itself. */
struct datadir_quarantine_entry {
	int64_t time;       /* UTC seconds from the entry's name; -1 when the name has no stamp */
	char data_dir[512]; /* the "data_dir=" line of its reason file, "" when none */
	char reason[512];   /* the "reason=" line, "" when none */
	uint64_t bytes;     /* space used on disk by the entry (st_blocks), no symlink followed */
};

/* Read entry (a name from datadir_quarantine_list) of data_dir's quarantine: -EINVAL for a
 * name that is not an entry name (empty, hidden, with a '/'), -ENOENT when there is no such
 * entry, -ELOOP when it is a symlink. A missing or unreadable reason file is not an error. */
int datadir_quarantine_entry_read(const char *data_dir, const char *entry,
                                  struct datadir_quarantine_entry *ret, struct error *err);

/* Move the data dir kept in quarantine entry `entry` back to data_dir (one rename on the
 * volume), then remove the emptied entry (its reason file). The data is the entry's
 * directory named like data_dir's last component, or else its only directory. Only when
 * data_dir is absent or an empty directory (else -ENOTEMPTY); never through a symlink (the
 * helper folder, the quarantine folder, the entry, the data in it, data_dir itself: -ELOOP).
 * Errors as datadir_quarantine_entry_read() too. Whether an etcd uses data_dir is the
 * caller's check. On success *ret_from (may be NULL) is where the data was (malloc'd), and
 * *ret_entry_left (may be NULL) tells whether the entry could not be removed (it held more
 * than the data and its reason). */
int datadir_quarantine_restore(const char *data_dir, const char *entry, char **ret_from,
                               bool *ret_entry_left, struct error *err);
