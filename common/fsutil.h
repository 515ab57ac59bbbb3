/* Small file-system helpers that several modules need: a file's first line, a process's
 * start time, path trimming, counting and syncing a folder, and the one tree walker (which
 * never follows a symlink nor leaves its file system). */
#pragma once

#include "error.h"

#include <stddef.h>

/* The first line of the file dir/name, without its line end, malloc'd in *ret. Reads at
 * most 8 KiB. Returns 0; -ENOENT when there is no such file (and the other open or read
 * errors as they are); -ENODATA when the file or its first line is empty; -ENOMEM. */
int fsutil_first_line(const char *dir, const char *name, char **ret);

/* The start time of process pid ("self" for this one) in clock ticks since boot,
 * /proc/PID/stat field 22, as a decimal string into buf (size bytes): with the pid it
 * names one process and none before or after it. Returns 0, or a negative errno with buf
 * "" (-ENOENT: the process is gone). */
int fsutil_process_start_time(const char *pid, char *buf, size_t size);

/* Cut path's trailing slashes in place: "/var/run/etcd/default.etcd/" names the same dir
 * as without them; "/" stays "/". Returns the new length. */
size_t fsutil_trim_slashes(char *path);

/* The number of entries of dir, "." and ".." aside, in *ret. Returns 0 or a negative
 * errno when dir cannot be read. */
int fsutil_count_entries(const char *dir, size_t *ret);

/* fsync the directory dir, so that a rename in it survives a crash. Best effort. */
void fsutil_sync_dir(const char *dir);

struct stat;

enum fsutil_tree_flags {
	FSUTIL_TREE_REMOVE = 1 << 0, /* remove every entry; without it, only visit */
};

/* Called for each entry of a tree walk, children before their directory, with the entry's
 * path (the walked path joined with the names below it) and its lstat. With
 * FSUTIL_TREE_REMOVE, only once that entry was removed. */
typedef void fsutil_tree_fn(const char *path, const struct stat *st, void *ctx);

/* Walk the tree at path without following any symlink: a symlink, the last component of
 * path included, is one entry (removed as a link; its target is never touched). Never goes
 * into another filesystem (a mount point below path is left whole: -EXDEV) nor deeper than
 * 128 levels (-ELOOP). fn may be NULL. Goes on past errors and returns 0, -ENOENT when path
 * does not exist, -EINVAL for a path without a last component ("/", "x/.."), or the first
 * negative errno with the path in err. */
int fsutil_tree_walk(const char *path, unsigned flags, fsutil_tree_fn *fn, void *ctx,
                     struct error *err);

/* The same walk of the entry `name` of the open directory parent (parent_path names it in
 * paths and messages), which stays on parent's file system: an entry that is itself a
 * mount point is left whole (-EXDEV). -EINVAL for a name that is empty, ".", ".." or
 * holds a '/'. */
int fsutil_tree_walk_at(int parent, const char *name, const char *parent_path, unsigned flags,
                        fsutil_tree_fn *fn, void *ctx, struct error *err);
