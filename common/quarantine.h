/* The quarantine: data dirs moved aside, never deleted to make room for something else.
 * Each entry is <helper folder>/quarantine/<UTC time>.<ns>Z-<tag>/ with the data dir in
 * it (named like the data dir) and a "reason" file (data_dir=, reason=). Moving aside,
 * the bounded retention, listing, reading an entry and the way back. No symlink is ever
 * followed. */
#pragma once

#include "error.h"

#include <stdbool.h>
#include <stdint.h>

/* Why an entry was made; its name ends in "-<tag>". */
enum quarantine_tag {
	QUARANTINE_PARTIAL, /* "partial": not a whole member's data (a failed start, a lost db) */
	QUARANTINE_LEFT,    /* "left": etcd-leave removed this member (its tombstone says so) */
	QUARANTINE_REMOVED, /* "removed": the data's own cluster, through its leader, does not
	                       list this member */
	QUARANTINE_MANUAL,  /* "manual": moved by hand (etcd-clean --quarantine) */
};

/* The tag's word in entry names: "partial", "left", "removed", "manual". */
const char *quarantine_tag_name(enum quarantine_tag tag);

/* A backend db without a WAL this large or larger counts, in the retention, as member data
 * that may be its last copy; below it, as the skeleton of a failed start. */
#define QUARANTINE_PRECIOUS_DB_BYTES (1024 * 1024)

/* Called for each quarantine entry that retention deleted: its name and what it held
 * ("member data", "partial data: ...", "no data dir"). */
typedef void quarantine_prune_fn(const char *entry, const char *held, void *ctx);

/* Move the data dir aside, never deleting it: rename it (same volume, atomic) to
 * <helper>/quarantine/<UTC time>.<ns>Z-<tag>/<data dir name>, with a file "reason" beside
 * it holding `reason`, and sync the folders. Only once the new entry is in place, apply the
 * retention: quarantined data is the last copy someone may need, so an entry holding member
 * data (valid, or partial with a WAL or a db of QUARANTINE_PRECIOUS_DB_BYTES) is deleted
 * only while more than `keep` such entries remain (the oldest first, never the newest), and
 * never to make room for anything else; other entries (skeletons of failed starts, no data
 * dir) go first, the oldest first, while more than `keep` entries remain; the new entry
 * always stays. No symlink is ever followed. on_prune (may be NULL)
 * hears of every deletion. keep 0: no retention now (the caller applies it later, with
 * quarantine_prune()). On success *ret_path (may be NULL) is the new path
 * (malloc'd). Returns 0 or a negative errno; on failure the data dir is untouched and
 * nothing was deleted. */
int quarantine_move(const char *data_dir, enum quarantine_tag tag, const char *reason,
                    unsigned keep, quarantine_prune_fn *on_prune, void *ctx, char **ret_path,
                    struct error *err);

/* The same retention on the quarantine as it is, the newest entry taking the place of the
 * new one: for a retention that a program killed half-way left undone. keep 0 does
 * nothing. Best effort, silent but for on_prune. */
void quarantine_prune(const char *data_dir, unsigned keep, quarantine_prune_fn *on_prune,
                      void *ctx);

/* The quarantined entries, oldest first (names under <helper>/quarantine), NULL-terminated
 * and malloc'd (free each and the array). Returns 0 (an empty list when there are none). */
int quarantine_list(const char *data_dir, char ***ret, struct error *err);

/* What a quarantine entry says about itself. */
struct quarantine_entry {
	int64_t time;       /* UTC seconds from the entry's name; -1 when the name has no stamp */
	char data_dir[512]; /* the "data_dir=" line of its reason file, "" when none */
	char reason[512];   /* the "reason=" line, "" when none */
	uint64_t bytes;     /* space used on disk by the entry (st_blocks), no symlink followed */
};

/* Read entry (a name from quarantine_list) of data_dir's quarantine: -EINVAL for a
 * name that is not an entry name (empty, hidden, with a '/'), -ENOENT when there is no such
 * entry, -ELOOP when it is a symlink. A missing or unreadable reason file is not an error. */
int quarantine_entry_read(const char *data_dir, const char *entry, struct quarantine_entry *ret,
                          struct error *err);

/* Move the data dir kept in quarantine entry `entry` back to data_dir (one rename on the
 * volume), then remove the emptied entry (its reason file). The data is the entry's
 * directory named like data_dir's last component, or else its only directory. Only when
 * data_dir is absent or an empty directory (else -ENOTEMPTY); never through a symlink (the
 * helper folder, the quarantine folder, the entry, the data in it, data_dir itself: -ELOOP).
 * Errors as quarantine_entry_read() too. Whether an etcd uses data_dir is the
 * caller's check. On success *ret_from (may be NULL) is where the data was (malloc'd), and
 * *ret_entry_left (may be NULL) tells whether the entry could not be removed (it held more
 * than the data and its reason). */
int quarantine_restore(const char *data_dir, const char *entry, char **ret_from,
                       bool *ret_entry_left, struct error *err);
