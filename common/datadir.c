#include "datadir.h"

#include "fsutil.h"
#include "parse.h"

#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

const char *datadir_state_name(enum datadir_state s)
{
	static const char *const names[] = {
	        [DATADIR_EMPTY] = "empty",
	        [DATADIR_VALID] = "valid",
	        [DATADIR_PARTIAL] = "partial",
	        [DATADIR_IN_USE] = "in use",
	};

	return names[s];
}

bool datadir_wal_unreadable(struct datadir_info *info, int r, const char *why)
{
	/* Only a WAL whose bytes were read and are not a WAL says the data is broken; a file
	 * that could not be read (EIO, EACCES, a symlink, no memory) says nothing of it. */
	if (r != -EBADMSG && r != -ENODATA)
		return false;
	if (info->state == DATADIR_VALID) {
		info->state = DATADIR_PARTIAL;
		snprintf(info->reason, sizeof(info->reason), "the WAL's metadata is unreadable: %s",
		         why);
	}
	return true;
}

int datadir_file_locked(const char *path)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int fd, r;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	/* etcd takes an OFD lock; F_OFD_GETLK reports it without taking ours. Older kernels
	 * lack OFD locks, and F_GETLK sees both kinds. */
	r = fcntl(fd, F_OFD_GETLK, &fl);
	if (r < 0 && errno == EINVAL) {
		fl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET};
		r = fcntl(fd, F_GETLK, &fl);
	}
	r = r < 0 ? -errno : fl.l_type != F_UNLCK;
	close(fd);
	return r;
}

/* Is bbolt's flock on db held? Probed with a non-blocking flock that is dropped at once (a
 * starting etcd waits for it meanwhile: bbolt retries). Returns 1, 0 or a negative errno. */
static int db_locked(const char *db)
{
	int fd = open(db, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW), r = 0;

	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		r = errno == EWOULDBLOCK ? 1 : -errno;
	else
		flock(fd, LOCK_UN);
	close(fd);
	return r;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Count etcd's WAL segments in wal_dir (parse_wal_name) and report whether any of them,
 * or a preallocated *.tmp file, is locked. */
static int scan_wal(const char *wal_dir, size_t *ret_n, bool *ret_locked)
{
	struct dirent *de;
	DIR *d = opendir(wal_dir);
	size_t n = 0;
	bool locked = false;

	if (!d) {
		/* Missing, or a file where the directory should be: no WAL, a partial dir. */
		if (errno != ENOENT && errno != ENOTDIR)
			return -errno;
		*ret_n = 0;
		*ret_locked = false;
		return 0;
	}
	while ((de = readdir(d))) {
		char path[4096];

		bool segment = parse_wal_name(de->d_name);

		/* etcd's own segments only: it skips any other name, "0.wal" or "x.wal" */
		if (!segment && !has_suffix(de->d_name, ".tmp"))
			continue;
		if (segment)
			n++;
		snprintf(path, sizeof(path), "%s/%s", wal_dir, de->d_name);
		if (datadir_file_locked(path) > 0)
			locked = true;
	}
	closedir(d);
	*ret_n = n;
	*ret_locked = locked;
	return 0;
}

int datadir_inspect(const char *path, struct datadir_info *ret, struct error *err)
{
	struct datadir_info info = {0};
	char wal[4096], db[4096];
	struct stat st;
	size_t n = 0;
	bool locked = false;
	int r;

	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			return error_set(err, -errno, "cannot read data dir '%s': %s", path,
			                 strerror(errno));
		info.state = DATADIR_EMPTY;
		snprintf(info.reason, sizeof(info.reason), "'%s' does not exist", path);
		goto done;
	}
	if (!S_ISDIR(st.st_mode)) {
		info.state = DATADIR_PARTIAL;
		snprintf(info.reason, sizeof(info.reason), "'%s' is not a directory", path);
		goto done;
	}
	r = fsutil_count_entries(path, &n);
	if (r < 0)
		return error_set(err, r, "cannot list data dir '%s': %s", path, strerror(-r));
	if (n == 0) {
		info.state = DATADIR_EMPTY;
		snprintf(info.reason, sizeof(info.reason), "'%s' is an empty directory", path);
		goto done;
	}

	snprintf(wal, sizeof(wal), "%s/member/wal", path);
	snprintf(db, sizeof(db), "%s/member/snap/db", path);
	r = scan_wal(wal, &info.n_wal, &locked);
	if (r < 0)
		return error_set(err, r, "cannot list '%s': %s", wal, strerror(-r));
	info.has_db = stat(db, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
	/* etcd takes bbolt's flock on the db before it locks the WAL: a starting etcd may hold
	 * only that one. */
	if (!locked && info.has_db && db_locked(db) > 0) {
		info.state = DATADIR_IN_USE;
		snprintf(info.reason, sizeof(info.reason),
		         "a running etcd holds the lock on the backend db '%s'", db);
	} else if (locked) {
		info.state = DATADIR_IN_USE;
		snprintf(info.reason, sizeof(info.reason),
		         "a running etcd holds the lock on the WAL in '%s'", wal);
	} else if (info.n_wal > 0 && info.has_db) {
		info.state = DATADIR_VALID;
		snprintf(info.reason, sizeof(info.reason), "%zu WAL file(s) and a backend db",
		         info.n_wal);
	} else {
		info.state = DATADIR_PARTIAL;
		snprintf(info.reason, sizeof(info.reason), "%s%s%s",
		         info.n_wal ? "" : "no WAL file in member/wal",
		         !info.n_wal && !info.has_db ? " and " : "",
		         info.has_db ? "" : "no backend db at member/snap/db");
	}
done:
	*ret = info;
	return 0;
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape_mount_point(char *s)
{
	char *out = s;

	for (char *in = s; *in; in++) {
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' &&
		    in[3] >= '0' && in[3] <= '7') {
			*out++ = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
			in += 3;
		} else {
			*out++ = *in;
		}
	}
	*out = '\0';
}

/* The mount point of the file system holding path (absolute, resolved), into buf. */
static int mount_point_of(const char *path, const char *mountinfo, char *buf, size_t size,
                          bool *ret_exact)
{
	char line[8192];
	size_t best = 0;
	FILE *f = fopen(mountinfo ? mountinfo : "/proc/self/mountinfo", "re");

	if (!f)
		return -errno;
	snprintf(buf, size, "/");
	*ret_exact = strcmp(path, "/") == 0;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *field = strtok_r(line, " ", &save);
		size_t n;

		/* the fifth field is the mount point */
		for (int i = 1; field && i < 5; i++)
			field = strtok_r(NULL, " ", &save);
		if (!field)
			continue;
		unescape_mount_point(field);
		n = strlen(field);
		if (strcmp(field, "/") == 0)
			continue;
		if (strncmp(path, field, n) != 0 || (path[n] != '/' && path[n] != '\0'))
			continue;
		if (n >= best) {
			best = n;
			snprintf(buf, size, "%s", field);
			*ret_exact = path[n] == '\0';
		}
	}
	fclose(f);
	return 0;
}

int datadir_check_volume(const char *data_dir, const char *mountinfo, struct error *err)
{
	char parent[4096], real[PATH_MAX], mp[4096], *slash;
	bool exact;
	int r;

	snprintf(parent, sizeof(parent), "%s", data_dir);
	while (strlen(parent) > 1 && parent[strlen(parent) - 1] == '/')
		parent[strlen(parent) - 1] = '\0';
	/* The data dir itself, when it exists: not a mount point. */
	if (realpath(parent, real)) {
		r = mount_point_of(real, mountinfo, mp, sizeof(mp), &exact);
		if (r < 0)
			return error_set(err, r, "cannot read the mount table: %s", strerror(-r));
		if (exact)
			return error_set(
			        err, -EXDEV,
			        "the data dir '%s' is the mount point of a volume: the helper folder beside it would be on the container's throw-away root; mount the volume one level up (e.g. at /var/run/etcd) and point ETCD_DATA_DIR at a folder in it (e.g. /var/run/etcd/default.etcd)",
			        data_dir);
	}
	/* Its parent, or the nearest folder above that exists: on a volume, not on the root. */
	do {
		slash = strrchr(parent, '/');
		if (!slash)
			break;
		*(slash == parent ? slash + 1 : slash) = '\0';
	} while (!realpath(parent, real) && strcmp(parent, "/") != 0);
	if (!realpath(parent, real))
		return error_set(err, -errno, "cannot resolve '%s': %s", parent, strerror(errno));
	r = mount_point_of(real, mountinfo, mp, sizeof(mp), &exact);
	if (r < 0)
		return error_set(err, r, "cannot read the mount table: %s", strerror(-r));
	if (strcmp(mp, "/") == 0)
		return error_set(
		        err, -ENXIO,
		        "the data dir '%s' is not on a volume: '%s' is on the container's root file system; mount the StatefulSet's volume (volumeClaimTemplates) at the data dir's parent, e.g. /var/run/etcd",
		        data_dir, real);
	return 0;
}
