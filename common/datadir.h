/* The etcd data dir, read offline: empty, valid member data, partial, or in use by a running
 * etcd (probed through the WAL's lock without taking it). And the helper-state folder that
 * lives beside the data dir, never inside it, with atomic writes. */
#pragma once

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

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
