#include "snapshot.h"

#include "state.h"
#include "strv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

char *snapshot_dir(const char *data_dir)
{
	char *helper = state_helper_dir(data_dir), *out = NULL;

	if (helper && asprintf(&out, "%s/snapshots", helper) < 0)
		out = NULL;
	free(helper);
	return out;
}

/* A snapshot's name: a UTC stamp first (so names sort by age), ".db" last. */
static bool is_snapshot(const char *name)
{
	size_t n = strlen(name);

	return n > 19 && name[0] >= '0' && name[0] <= '9' && name[8] == 'T' && name[15] == 'Z' &&
	       strcmp(name + n - 3, ".db") == 0;
}

int snapshot_list(const char *data_dir, char ***ret, struct error *err)
{
	char *dir = snapshot_dir(data_dir);
	struct strv v = {0};
	struct dirent *de;
	DIR *d;

	if (!dir)
		return error_set(err, -ENOMEM, "out of memory");
	d = opendir(dir);
	if (!d && errno != ENOENT) {
		int e = errno;

		error_set(err, -e, "cannot list '%s': %s", dir, strerror(e));
		free(dir);
		return -e;
	}
	free(dir);
	while (d && (de = readdir(d))) {
		struct stat st;

		if (!is_snapshot(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (strv_push(&v, de->d_name) < 0)
			goto oom;
	}
	if (d)
		closedir(d);
	*ret = strv_take(&v, 1);
	if (!*ret)
		return error_set(err, -ENOMEM, "out of memory");
	return 0;
oom:
	if (d)
		closedir(d);
	strv_free(v.v);
	return error_set(err, -ENOMEM, "out of memory");
}

/* The age in seconds of a snapshot named by its stamp, or -1. */
static int64_t age_of(const char *name)
{
	struct tm tm = {0};
	const char *end = strptime(name, "%Y%m%dT%H%M%SZ", &tm);

	return end ? (int64_t)time(NULL) - (int64_t)timegm(&tm) : -1;
}

/* Leftovers of a snapshot interrupted half-way (the hook killed): never a snapshot. */
static void remove_partial(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (strncmp(de->d_name, ".partial-", 9) == 0)
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
}

int snapshot_before_change(struct etcd_client *c, const char *data_dir, uint64_t cluster_id,
                           const struct etcd_status *st, uint64_t timeout_ms,
                           const struct deadline *d, bool member_room, struct snapshot_taken *ret,
                           struct error *err)
{
	char *helper = state_helper_dir(data_dir), *dir = snapshot_dir(data_dir);
	char **names = NULL, tmp[4096], final[4096], stamp[32];
	struct snapshot_taken t = {0};
	struct statvfs vfs;
	uint64_t room, need, keep, bytes = 0;
	size_t n = 0;
	time_t now = time(NULL);
	struct tm tm;
	int fd = -1, r;

	if (!dir || !helper) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* both real directories, not links: what is written and deleted stays on the volume */
	r = state_private_dir(helper, err);
	if (r == 0)
		r = state_private_dir(dir, err);
	if (r < 0)
		goto out;
	remove_partial(dir);
	r = snapshot_list(data_dir, &names, err);
	if (r < 0)
		goto out;
	while (names[n])
		n++;
	/* a name stamped in the future (a clock that was ahead) is no recent snapshot */
	if (n && age_of(names[n - 1]) >= 0 && age_of(names[n - 1]) < SNAPSHOT_RECENT_S) {
		snprintf(t.skipped, sizeof(t.skipped), "'%s' is %" PRId64 " s old", names[n - 1],
		         age_of(names[n - 1]));
		goto done;
	}
	if (statvfs(dir, &vfs) < 0) {
		r = error_set(err, -errno, "cannot read the free space of '%s': %s", dir,
		              strerror(errno));
		goto out;
	}
	room = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	need = st->db_size + 32;
	keep = SNAPSHOT_RESERVE + (member_room ? st->db_size + SNAPSHOT_WAL_ROOM : 0);
	if (room < need + keep) {
		snprintf(t.skipped, sizeof(t.skipped),
		         "the volume has %" PRIu64 " MiB free, and a snapshot of %" PRIu64
		         " MiB must leave %" PRIu64 " MiB%s",
		         room >> 20, need >> 20, keep >> 20,
		         member_room ? " (for this member's own data and WAL too)" : "");
		goto done;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(t.name, sizeof(t.name), "%s-rev%" PRIu64 "-cluster%016" PRIx64 ".db", stamp,
	         st->revision, cluster_id);
	snprintf(tmp, sizeof(tmp), "%s/.partial-%s", dir, t.name);
	snprintf(final, sizeof(final), "%s/%s", dir, t.name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = error_set(err, -errno, "cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	/* the db as its member counts it; one that grew since gets 1 MiB more */
	r = etcd_snapshot(c, d, timeout_ms, fd, st->db_size + (1u << 20), &bytes, err);
	if (r == 0 && fsync(fd) < 0)
		r = error_set(err, -errno, "cannot sync '%s': %s", tmp, strerror(errno));
	if (close(fd) < 0 && r == 0)
		r = error_set(err, -errno, "cannot write '%s': %s", tmp, strerror(errno));
	fd = -1;
	if (r == 0 && rename(tmp, final) < 0)
		r = error_set(err, -errno, "cannot rename '%s': %s", tmp, strerror(errno));
	if (r < 0) {
		unlink(tmp);
		goto out;
	}
	t.bytes = bytes;
	{
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	/* the new one is in place: only now the oldest beyond the bound go, by name; the
	 * new one never, whatever other stamps say */
	strv_free(names);
	names = NULL;
	if (snapshot_list(data_dir, &names, NULL) == 0) {
		for (n = 0; names[n]; n++)
			;
		for (size_t i = 0, gone = 0; n > SNAPSHOT_KEEP && i < n && gone < n - SNAPSHOT_KEEP;
		     i++) {
			if (strcmp(names[i], t.name) == 0)
				continue;
			snprintf(tmp, sizeof(tmp), "%s/%s", dir, names[i]);
			if (unlink(tmp) == 0)
				gone++;
		}
	}
done:
	*ret = t;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	strv_free(names);
	free(dir);
	free(helper);
	return r;
}

int snapshot_from(struct http_client *http, const char *url, const char *data_dir,
                  uint64_t cluster_id, uint64_t budget_ms, bool member_room,
                  struct snapshot_taken *ret, uint64_t *ret_revision, struct error *err)
{
	struct etcd_client *c = NULL;
	struct etcd_status st;
	struct deadline d;
	int r;

	deadline_init(&d, budget_ms);
	r = etcd_status_get(http, url, &d, &st, err);
	if (r == 0 && st.cluster_id != cluster_id)
		r = error_set(err, -EREMOTEIO, "'%s' is a member of another cluster", url);
	if (r == 0)
		r = etcd_client_new(http, &url, 1, &c, err);
	if (r == 0)
		r = snapshot_before_change(c, data_dir, cluster_id, &st, budget_ms, &d, member_room,
		                           ret, err);
	etcd_client_free(c);
	if (r == 0)
		*ret_revision = st.revision;
	return r;
}
