/* The etcd data dir, read offline: empty, valid member data, partial, or in use by a running
 * etcd (probed through the WAL's lock without taking it, and the backend db's flock), and
 * whether it is on a volume. What etcd-hooks keeps beside it is state.h; the data dirs
 * moved aside, quarantine.h. */
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
