/* v3 snapshots taken before a membership change (etcd-leave's removal, etcd-join's
 * replacement), kept on the volume beside the quarantine: <helper folder>/snapshots/
 * <UTC stamp>-rev<revision>-cluster<hex ID>.db, each the db followed by its SHA-256 (what
 * etcdctl snapshot save writes; etcdutl snapshot restore checks it). */
#pragma once

#include "clock.h"
#include "error.h"
#include "etcd.h"
#include "http.h"

#include <stdbool.h>
#include <stdint.h>

#define SNAPSHOT_KEEP       3            /* the newest kept, older ones deleted */
#define SNAPSHOT_RECENT_S   (10 * 60)    /* one younger than this: no new one */
#define SNAPSHOT_RESERVE    (256u << 20) /* free space left on the volume after one */
#define SNAPSHOT_WAL_ROOM   (128u << 20) /* a new member's WAL (64 MiB segments) */
#define SNAPSHOT_TIMEOUT_MS (20 * 1000)  /* at most this long for one, ... */
#define SNAPSHOT_MIN_MS     500          /* ... and none with less time than this left */

struct snapshot_taken {
	char name[160];    /* the file in the snapshots folder; "" when none was taken */
	uint64_t bytes;    /* its size */
	char skipped[256]; /* why none was taken ("" when one was): a recent one, no room */
};

/* The snapshots folder of data_dir's volume (malloc'd), or NULL. */
char *snapshot_dir(const char *data_dir);

/* Take a snapshot from c's current endpoint of the cluster (cluster_id; st: that member's
 * status, for the revision and the db size), within timeout_ms clipped to d, unless one
 * younger than SNAPSHOT_RECENT_S exists, or the volume lacks room: the db, plus
 * SNAPSHOT_RESERVE, plus with member_room another db and SNAPSHOT_WAL_ROOM (a new member
 * starts on this volume). Then 0 with ret->skipped saying why. Written to a temporary file
 * (its hash checked as it comes), synced, then renamed; older ones beyond SNAPSHOT_KEEP are
 * deleted after, never the new one. Returns 0, or a negative errno with err (nothing left
 * behind). */
int snapshot_before_change(struct etcd_client *c, const char *data_dir, uint64_t cluster_id,
                           const struct etcd_status *st, uint64_t timeout_ms,
                           const struct deadline *d, bool member_room, struct snapshot_taken *ret,
                           struct error *err);

/* snapshot_before_change() from the member at url (its status first: it must be of
 * cluster_id), all within budget_ms. *ret_revision: the revision its status gave. */
int snapshot_from(struct http_client *http, const char *url, const char *data_dir,
                  uint64_t cluster_id, uint64_t budget_ms, bool member_room,
                  struct snapshot_taken *ret, uint64_t *ret_revision, struct error *err);

/* The snapshot files of data_dir's volume (regular files, not links), oldest first,
 * NULL-terminated (free each and the array); an empty list when there is no folder.
 * Returns 0 or a negative errno. */
int snapshot_list(const char *data_dir, char ***ret, struct error *err);
