#include "datadir.h"

#include "fsutil.h"
#include "parse.h"
#include "strv.h"

#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <time.h>
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

/* Count entries of dir (excluding . and ..); -errno when it cannot be read. */
static int count_entries(const char *dir, size_t *ret)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	*ret = n;
	return 0;
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
	r = count_entries(path, &n);
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

char *datadir_helper_dir(const char *data_dir)
{
	size_t len = strlen(data_dir);
	const char *slash;
	char *out = NULL;

	/* Ignore trailing slashes: "/var/run/etcd/default.etcd/" has parent /var/run/etcd. */
	while (len > 1 && data_dir[len - 1] == '/')
		len--;
	slash = memrchr(data_dir, '/', len);
	if (!slash)
		return NULL;
	if (asprintf(&out, "%.*s/.etcd-hooks", (int)(slash - data_dir), data_dir) < 0)
		return NULL;
	return out;
}

/* Create dir (0700) if missing; an existing one must be a real directory, not a symlink:
 * everything written, moved or deleted through it must stay on the volume. */
int datadir_private_dir(const char *dir, struct error *err)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return error_set(err, -errno, "cannot create '%s': %s", dir, strerror(errno));
	if (lstat(dir, &st) < 0)
		return error_set(err, -errno, "cannot read '%s': %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return error_set(
		        err, -ELOOP,
		        "'%s' is not a directory (a symlink?): refusing to work through it", dir);
	return 0;
}

int datadir_write_atomic(const char *dir, const char *name, const char *content, struct error *err)
{
	char tmp[4096], final[4096];
	size_t len = strlen(content), off = 0;
	int fd = -1, dfd = -1, r = 0;

	r = datadir_private_dir(dir, err);
	if (r < 0)
		return r;
	snprintf(final, sizeof(final), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.%ld.tmp", dir, name, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return error_set(err, -errno, "cannot create '%s': %s", tmp, strerror(errno));
	while (off < len) {
		ssize_t n = write(fd, content + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = error_set(err, -errno, "cannot write '%s': %s", tmp, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0) {
		r = error_set(err, -errno, "cannot sync '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, final) < 0) {
		r = error_set(err, -errno, "cannot rename '%s' to '%s': %s", tmp, final,
		              strerror(errno));
		goto out;
	}
	/* Make the rename itself durable. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd);
out:
	if (dfd >= 0)
		close(dfd);
	if (fd >= 0)
		close(fd);
	if (r < 0)
		unlink(tmp);
	return r;
}

/* Remove the tree at name under dirfd without following any symlink. */
static int remove_tree_at(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat here, above;
	struct dirent *de;
	DIR *d;
	int r = 0;

	/* Never cross into another file system mounted below the entry. */
	if (fd >= 0 && fstat(fd, &here) == 0 && fstat(parent, &above) == 0 &&
	    here.st_dev != above.st_dev) {
		close(fd);
		return -EXDEV;
	}

	if (fd < 0) {
		/* Not a directory (or a symlink to one): unlink the entry itself. */
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(parent, name, 0) < 0 ? -errno : 0;
		return -errno;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
			int k = remove_tree_at(dirfd(d), de->d_name);

			if (k < 0 && r == 0)
				r = k;
		} else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && r == 0) {
			r = -errno;
		}
	}
	closedir(d);
	if (r == 0 && unlinkat(parent, name, AT_REMOVEDIR) < 0)
		r = -errno;
	return r;
}

static char *quarantine_dir(const char *data_dir)
{
	char *helper = datadir_helper_dir(data_dir), *q = NULL;

	if (helper && asprintf(&q, "%s/quarantine", helper) < 0)
		q = NULL;
	free(helper);
	return q;
}

int datadir_quarantine_list(const char *data_dir, char ***ret, struct error *err)
{
	char *qdir = quarantine_dir(data_dir);
	struct strv v = {0};
	struct dirent *de;
	bool oom = false;
	DIR *d;
	int fd;

	if (!qdir)
		return error_set(err, -ENOMEM, "out of memory");
	fd = open(qdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d && fd >= 0)
		close(fd);
	if (!d && errno != ENOENT) {
		int r = error_set(err, -errno, "cannot list '%s': %s", qdir, strerror(errno));

		free(qdir);
		return r;
	}
	/* All of it or nothing: a list cut short would hide entries from the retention. */
	while (d && !oom && (de = readdir(d)))
		oom = de->d_name[0] != '.' && strv_push(&v, de->d_name) < 0;
	if (d)
		closedir(d);
	free(qdir);
	if (oom) {
		strv_free(v.v);
		return error_set(err, -ENOMEM, "out of memory");
	}
	*ret = strv_take(&v, 1);
	if (!*ret)
		return error_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* "<UTC time with nanoseconds>-<tag>": unique in practice, and sorting by name sorts by
 * time, which retention relies on. */
static int make_entry(const char *qdir, const char *tag, char **ret, struct error *err)
{
	struct timespec ts;
	char stamp[32];
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	for (unsigned k = 0; k < 1000; k++, ts.tv_nsec++) {
		char *entry = NULL;

		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec = 0;
		}
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
		if (asprintf(&entry, "%s/%s.%09ldZ-%s", qdir, stamp, ts.tv_nsec, tag) < 0)
			return error_set(err, -ENOMEM, "out of memory");
		if (mkdir(entry, 0700) == 0) {
			*ret = entry;
			return 0;
		}
		free(entry);
		if (errno != EEXIST)
			return error_set(err, -errno, "cannot create an entry in '%s': %s", qdir,
			                 strerror(errno));
	}
	return error_set(err, -EEXIST, "cannot find a free entry name in '%s'", qdir);
}

/* fsync a directory, so that a rename in it survives a crash. */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static void sync_dir_at(int dfd)
{
	if (dfd >= 0)
		fsync(dfd);
}

static int only_dir(int dfd, const char *path, char *buf, size_t size, struct error *err);

/* What quarantine entry `name` (in the folder qfd) holds: 1 valid member data, 0 anything
 * else, with a word for the log in held. The data is the entry's directory named like the
 * data dir, or its only directory. */
static int entry_holds_member_data(int qfd, const char *qdir, const char *name, const char *base,
                                   char *held, size_t size)
{
	struct datadir_info info;
	char path[4096], inner[256] = "";
	struct stat st;
	int efd = openat(qfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (efd < 0) {
		snprintf(held, size, "not a directory");
		return 0;
	}
	if (fstatat(efd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
		snprintf(inner, sizeof(inner), "%s", base);
	else
		only_dir(efd, "", inner, sizeof(inner), NULL);
	close(efd);
	if (!inner[0]) {
		snprintf(held, size, "no data dir");
		return 0;
	}
	snprintf(path, sizeof(path), "%s/%s/%s", qdir, name, inner);
	if (datadir_inspect(path, &info, NULL) < 0) {
		/* Unreadable: it may be anything; never delete it as if it were nothing. */
		snprintf(held, size, "data that cannot be read");
		return 1;
	}
	if (info.state == DATADIR_VALID || info.state == DATADIR_IN_USE) {
		snprintf(held, size, "member data (%zu WAL file(s) and a backend db)", info.n_wal);
		return 1;
	}
	/* Partial, but not a skeleton of a failed start (etcd 3.4 creates a db of some 20 to
	 * 32 KiB and no WAL before it refuses a bad start): a WAL, or a db of a real size, may
	 * be all that is left of a member's data. */
	if (info.state == DATADIR_PARTIAL) {
		char db[4200];

		snprintf(db, sizeof(db), "%s/member/snap/db", path);
		if (info.n_wal > 0 || (lstat(db, &st) == 0 && S_ISREG(st.st_mode) &&
		                       st.st_size >= DATADIR_PRECIOUS_DB_BYTES)) {
			snprintf(held, size, "partial member data that may be its last copy (%s)",
			         info.reason);
			return 1;
		}
	}
	snprintf(held, size, "%s data: %s", datadir_state_name(info.state), info.reason);
	return 0;
}

/* The retention of datadir_quarantine(), after the new entry `newest` is in place (NULL:
 * the newest entry there is). */
static void prune_quarantine(const char *data_dir, const char *qdir, const char *newest,
                             const char *base, unsigned keep, datadir_prune_fn *on_prune, void *ctx)
{
	char **list = NULL, (*held)[256] = NULL;
	bool *valid = NULL;
	size_t total = 0, n_valid = 0, newest_valid = SIZE_MAX;
	int qfd = -1;

	if (datadir_quarantine_list(data_dir, &list, NULL) < 0)
		return;
	while (list[total])
		total++;
	if (!newest && total)
		newest = list[total - 1];
	if (!newest)
		goto out;
	qfd = open(qdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	valid = calloc(total + 1, sizeof(*valid));
	held = calloc(total + 1, sizeof(*held));
	if (qfd < 0 || !valid || !held)
		goto out;
	for (size_t i = 0; i < total; i++) {
		valid[i] = entry_holds_member_data(qfd, qdir, list[i], base, held[i],
		                                   sizeof(held[i])) == 1;
		if (valid[i]) {
			n_valid++;
			newest_valid = i;
		}
	}
	/* First what is not member data, oldest first, while too many entries remain. */
	for (size_t i = 0, left = total; i < total && left > keep; i++) {
		if (valid[i] || strcmp(list[i], newest) == 0)
			continue;
		if (remove_tree_at(qfd, list[i]) < 0)
			break;
		left--;
		if (on_prune)
			on_prune(list[i], held[i], ctx);
	}
	/* Then member data, oldest first, only while more than `keep` copies remain: never the
	 * newest one, never for room for something else. */
	for (size_t i = 0; i < total && n_valid > keep; i++) {
		if (!valid[i] || i == newest_valid || strcmp(list[i], newest) == 0)
			continue;
		if (remove_tree_at(qfd, list[i]) < 0)
			break;
		n_valid--;
		if (on_prune)
			on_prune(list[i], held[i], ctx);
	}
	sync_dir_at(qfd);
out:
	if (qfd >= 0)
		close(qfd);
	free(valid);
	free(held);
	strv_free(list);
}

int datadir_quarantine(const char *data_dir, const char *tag, const char *reason, unsigned keep,
                       datadir_prune_fn *on_prune, void *ctx, char **ret_path, struct error *err)
{
	char *path = strdup(data_dir), *qdir = quarantine_dir(data_dir), *helper = NULL;
	char *entry = NULL, *target = NULL, *text = NULL;
	const char *base;
	int r = 0;

	helper = datadir_helper_dir(data_dir);
	if (!path || !qdir || !helper) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	fsutil_trim_slashes(path);
	base = strrchr(path, '/');
	if (!base || !base[1]) {
		r = error_set(err, -EINVAL, "cannot quarantine '%s'", data_dir);
		goto out;
	}
	if (access(path, F_OK) < 0) {
		r = error_set(err, -errno, "cannot quarantine '%s': %s", data_dir, strerror(errno));
		goto out;
	}
	r = datadir_private_dir(helper, err);
	if (r == 0)
		r = datadir_private_dir(qdir, err);
	if (r < 0)
		goto out;
	r = make_entry(qdir, tag, &entry, err);
	if (r < 0)
		goto out;
	if (asprintf(&text, "data_dir=%s\nreason=%s\n", path, reason) < 0 ||
	    asprintf(&target, "%s%s", entry, base) < 0) {
		text = target = NULL;
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = datadir_write_atomic(entry, "reason", text, err);
	if (r < 0)
		goto out;
	if (rename(path, target) < 0) {
		r = error_set(err, -errno, "cannot move '%s' to '%s': %s", path, target,
		              strerror(errno));
		goto out;
	}
	/* The rename is durable in both folders before anything old is deleted. */
	sync_dir(entry);
	{
		char *parent = strndup(path, (size_t)(base - path));

		if (parent)
			sync_dir(parent[0] ? parent : "/");
		free(parent);
	}
	sync_dir(qdir);
	if (keep > 0)
		prune_quarantine(data_dir, qdir, entry + strlen(qdir) + 1, base + 1, keep, on_prune,
		                 ctx);
	if (ret_path) {
		*ret_path = target;
		target = NULL;
	}
out:
	if (r < 0 && entry) {
		/* The data dir did not move: take back the entry (and its reason). */
		char *reason_path = NULL;

		if (asprintf(&reason_path, "%s/reason", entry) >= 0) {
			unlink(reason_path);
			free(reason_path);
		}
		rmdir(entry);
	}
	free(text);
	free(target);
	free(entry);
	free(helper);
	free(qdir);
	free(path);
	return r;
}

int datadir_marker_write(const char *data_dir, uint64_t cluster_id, uint64_t member_id,
                         struct error *err)
{
	char *helper = datadir_helper_dir(data_dir), text[128];
	int r;

	if (!helper)
		return error_set(err, -ENOMEM, "out of memory");
	snprintf(text, sizeof(text), "cluster_id=%" PRIu64 "\nmember_id=%" PRIu64 "\n", cluster_id,
	         member_id);
	r = datadir_write_atomic(helper, "cluster", text, err);
	free(helper);
	return r;
}

/* "key=<decimal>\n" at *p exactly; advances *p. */
static int marker_field(const char **p, const char *key, uint64_t *ret)
{
	char digits[32];
	size_t klen = strlen(key), n;

	if (strncmp(*p, key, klen) != 0 || (*p)[klen] != '=')
		return -EBADMSG;
	*p += klen + 1;
	n = strcspn(*p, "\n");
	if (n == 0 || n >= sizeof(digits) || (*p)[n] != '\n')
		return -EBADMSG;
	memcpy(digits, *p, n);
	digits[n] = '\0';
	*p += n + 1;
	return parse_uint(digits, UINT64_MAX, ret) < 0 ? -EBADMSG : 0;
}

int datadir_marker_read(const char *data_dir, uint64_t *ret_cluster_id, uint64_t *ret_member_id,
                        struct error *err)
{
	char *helper = datadir_helper_dir(data_dir), path[4096], buf[256];
	const char *p = buf;
	uint64_t cid, mid;
	ssize_t n;
	int fd;

	if (!helper)
		return error_set(err, -ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/cluster", helper);
	free(helper);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT
		                       : error_set(err, -errno, "cannot open '%s': %s", path,
		                                   strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return error_set(err, -EIO, "cannot read '%s'", path);
	buf[n] = '\0';
	if (marker_field(&p, "cluster_id", &cid) < 0 || marker_field(&p, "member_id", &mid) < 0 ||
	    *p != '\0')
		return error_set(err, -EBADMSG, "'%s' is not a cluster marker", path);
	*ret_cluster_id = cid;
	*ret_member_id = mid;
	return 0;
}

int datadir_helper_value(const char *data_dir, const char *name, const char *key, char *buf,
                         size_t size)
{
	char *dir = datadir_helper_dir(data_dir), path[4096], text[8192];
	size_t klen = strlen(key);
	ssize_t n;
	int fd;

	if (!dir)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	free(dir);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	text[n] = '\0';
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
			snprintf(buf, size, "%s", line + klen + 1);
			return 0;
		}
	}
	return -ENOENT;
}

#define TOMBSTONE "tombstone"

int datadir_tombstone_write(const char *data_dir, const struct datadir_tombstone *t,
                            struct error *err)
{
	char *helper = datadir_helper_dir(data_dir), text[160];
	int r;

	if (!helper)
		return error_set(err, -ENOMEM, "out of memory");
	snprintf(text, sizeof(text), "member_id=%" PRIu64 "\ncluster_id=%" PRIu64 "\nstate=%s\n",
	         t->member_id, t->cluster_id, t->removed ? "removed" : "removing");
	r = datadir_write_atomic(helper, TOMBSTONE, text, err);
	free(helper);
	return r;
}

int datadir_tombstone_read(const char *data_dir, struct datadir_tombstone *ret, struct error *err)
{
	char mid[32], cid[32], state[16];
	struct datadir_tombstone t = {0};
	int r;

	r = datadir_helper_value(data_dir, TOMBSTONE, "state", state, sizeof(state));
	if (r == -ENOENT) {
		/* No file at all, or a file without a state: only the first is "none". */
		char *helper = datadir_helper_dir(data_dir), path[4096];

		snprintf(path, sizeof(path), "%s/%s", helper ? helper : "", TOMBSTONE);
		free(helper);
		if (access(path, F_OK) < 0 && errno == ENOENT)
			return -ENOENT;
	}
	if (r < 0 || datadir_helper_value(data_dir, TOMBSTONE, "member_id", mid, sizeof(mid)) < 0 ||
	    datadir_helper_value(data_dir, TOMBSTONE, "cluster_id", cid, sizeof(cid)) < 0 ||
	    parse_uint(mid, UINT64_MAX, &t.member_id) < 0 ||
	    parse_uint(cid, UINT64_MAX, &t.cluster_id) < 0 ||
	    (strcmp(state, "removed") != 0 && strcmp(state, "removing") != 0))
		return error_set(err, -EBADMSG, "the tombstone beside '%s' is not readable",
		                 data_dir);
	t.removed = strcmp(state, "removed") == 0;
	*ret = t;
	return 0;
}

int datadir_tombstone_clear(const char *data_dir, struct error *err)
{
	char *helper = datadir_helper_dir(data_dir), path[4096];
	struct stat st;

	if (!helper)
		return error_set(err, -ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/%s", helper, TOMBSTONE);
	if (lstat(helper, &st) == 0 && !S_ISDIR(st.st_mode)) {
		free(helper);
		return error_set(err, -ELOOP, "the helper folder beside '%s' is not a directory",
		                 data_dir);
	}
	free(helper);
	if (unlink(path) < 0 && errno != ENOENT)
		return error_set(err, -errno, "cannot remove '%s': %s", path, strerror(errno));
	return 0;
}

/* ---- tree walks and the way back out of the quarantine ---- */

/* A data dir is a few levels deep; anything much deeper is not etcd's. */
#define TREE_MAX_DEPTH 128

struct tree_walk {
	unsigned flags;
	dev_t dev; /* the filesystem of the walked path: the walk stays on it */
	datadir_tree_fn *fn;
	void *ctx;
	struct error *err;
	int r;           /* the first error */
	bool bare;       /* a relative path: its first name gets no leading '/' */
	char path[4096]; /* the entry being visited */
};

/* Keep the first error: "<what> '<path>': <strerror>". */
static void walk_error(struct tree_walk *w, int code, const char *what)
{
	if (w->r == 0)
		w->r = error_set(w->err, code, "%s '%s': %s", what, w->path, strerror(-code));
}

/* Visit (and remove) name under the directory parent, children first; w->path names the
 * parent on entry and on return. */
static void walk_at(struct tree_walk *w, int parent, const char *name, unsigned depth)
{
	size_t len = strlen(w->path);
	struct stat st, fst;
	struct dirent *de;
	DIR *d;
	int fd;

	if (len + 1 + strlen(name) >= sizeof(w->path)) {
		walk_error(w, -ENAMETOOLONG, "cannot walk below");
		return;
	}
	snprintf(w->path + len, sizeof(w->path) - len, "%s%s", len == 0 && w->bare ? "" : "/",
	         name);
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		walk_error(w, -errno, "cannot read");
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		/* Another filesystem mounted below (a bind mount, a volume): not ours to walk. */
		if (st.st_dev != w->dev) {
			if (w->r == 0)
				w->r = error_set(w->err, -EXDEV,
				                 "'%s' is a mount point: left as it is", w->path);
			goto out;
		}
		if (depth >= TREE_MAX_DEPTH) {
			if (w->r == 0)
				w->r = error_set(w->err, -ELOOP,
				                 "'%s' is nested too deep: left as it is", w->path);
			goto out;
		}
		fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			walk_error(w, -errno, "cannot open");
			goto out;
		}
		/* Still the directory we looked at, not one swapped in since. */
		if (fstat(fd, &fst) < 0 || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
			close(fd);
			if (w->r == 0)
				w->r = error_set(w->err, -EAGAIN,
				                 "'%s' changed while it was walked", w->path);
			goto out;
		}
		d = fdopendir(fd);
		if (!d) {
			int e = errno;

			close(fd);
			walk_error(w, -e, "cannot list");
			goto out;
		}
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				walk_at(w, dirfd(d), de->d_name, depth + 1);
		closedir(d);
		if ((w->flags & DATADIR_TREE_REMOVE) && unlinkat(parent, name, AT_REMOVEDIR) < 0) {
			walk_error(w, -errno, "cannot remove");
			goto out;
		}
	} else if ((w->flags & DATADIR_TREE_REMOVE) && unlinkat(parent, name, 0) < 0) {
		walk_error(w, -errno, "cannot remove");
		goto out;
	}
	if (w->fn)
		w->fn(w->path, &st, w->ctx);
out:
	w->path[len] = '\0';
}

int datadir_tree_walk(const char *path, unsigned flags, datadir_tree_fn *fn, void *ctx,
                      struct error *err)
{
	struct tree_walk w = {.flags = flags, .fn = fn, .ctx = ctx, .err = err};
	char *copy = strdup(path), *slash, *name;
	const char *parent_path;
	struct stat st;
	int parent = -1, r = 0;

	if (!copy)
		return error_set(err, -ENOMEM, "out of memory");
	fsutil_trim_slashes(copy);
	slash = strrchr(copy, '/');
	name = slash ? slash + 1 : copy;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		r = error_set(err, -EINVAL, "'%s' names no entry to walk", path);
		goto out;
	}
	if (slash == copy) {
		parent_path = "/";
	} else if (slash) {
		*slash = '\0';
		parent_path = copy;
		snprintf(w.path, sizeof(w.path), "%s", copy);
	} else {
		parent_path = ".";
		w.bare = true;
	}
	/* Symlinks above the walked path are the user's layout (/var/run -> /run): followed. */
	parent = open(parent_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0) {
		r = error_set(err, -errno, "cannot open '%s': %s", parent_path, strerror(errno));
		goto out;
	}
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = error_set(err, -errno, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	w.dev = st.st_dev;
	walk_at(&w, parent, name, 0);
	r = w.r;
out:
	if (parent >= 0)
		close(parent);
	free(copy);
	return r;
}

static bool entry_name_valid(const char *entry)
{
	return entry && entry[0] && entry[0] != '.' && !strchr(entry, '/') && strlen(entry) < 256;
}

/* openat(parent, name) of a directory, never through a symlink: -ELOOP when name is one. */
static int open_dir_at(int parent, const char *name, const char *path, struct error *err)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), e;
	struct stat st;

	if (fd >= 0)
		return fd;
	e = errno;
	if ((e == ELOOP || e == ENOTDIR) && fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return error_set(err, -ELOOP, "'%s' is a symlink: not followed", path);
	if (e == ENOENT)
		return error_set(err, -ENOENT, "'%s' does not exist", path);
	return error_set(err, -e, "cannot open '%s': %s", path, strerror(e));
}

/* The quarantine folder of data_dir, opened without following a symlink at the helper
 * folder or at the quarantine folder. Returns a descriptor or a negative errno. */
static int open_quarantine(const char *data_dir, struct error *err)
{
	char *helper = datadir_helper_dir(data_dir), *qdir = quarantine_dir(data_dir);
	int hfd = -1, qfd = -ENOMEM;

	if (!helper || !qdir) {
		error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	hfd = qfd = open_dir_at(AT_FDCWD, helper, helper, err);
	if (hfd >= 0)
		qfd = open_dir_at(hfd, "quarantine", qdir, err);
out:
	if (hfd >= 0)
		close(hfd);
	free(qdir);
	free(helper);
	return qfd;
}

/* The UTC time of an entry name "<YYYYmmddTHHMMSS>[.<ns>]Z-<tag>", or -1. */
static int64_t stamp_time(const char *name)
{
	struct tm tm = {0};
	const char *end = strptime(name, "%Y%m%dT%H%M%S", &tm);

	if (!end || end - name != 15)
		return -1;
	if (*end == '.') {
		size_t n = strspn(end + 1, "0123456789");

		if (n == 0)
			return -1;
		end += 1 + n;
	}
	if (*end != 'Z')
		return -1;
	return (int64_t)timegm(&tm);
}

static void add_blocks(const char *path, const struct stat *st, void *ctx)
{
	(void)path;
	*(uint64_t *)ctx += (uint64_t)st->st_blocks * 512;
}

/* The value of "key=" in text (one key=value per line) into buf; "" when none. */
static void text_value(const char *text, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);

	buf[0] = '\0';
	for (const char *line = text; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
			const char *v = line + klen + 1;

			snprintf(buf, size, "%.*s", (int)strcspn(v, "\n"), v);
			return;
		}
	}
}

/* Open quarantine entry `entry` of data_dir without following links: *ret_qfd the quarantine
 * folder, *ret_efd the entry, path its path (for messages). Returns 0 or a negative errno;
 * on failure nothing stays open. */
static int open_entry(const char *data_dir, const char *qdir, const char *entry, char *path,
                      size_t size, int *ret_qfd, int *ret_efd, struct error *err)
{
	int qfd, efd;

	if (!entry_name_valid(entry))
		return error_set(err, -EINVAL, "'%s' is not the name of a quarantine entry",
		                 entry ? entry : "");
	snprintf(path, size, "%s/%s", qdir, entry);
	qfd = open_quarantine(data_dir, err);
	if (qfd < 0)
		return qfd;
	efd = open_dir_at(qfd, entry, path, err);
	if (efd < 0) {
		close(qfd);
		return efd;
	}
	*ret_qfd = qfd;
	*ret_efd = efd;
	return 0;
}

int datadir_quarantine_entry_read(const char *data_dir, const char *entry,
                                  struct datadir_quarantine_entry *ret, struct error *err)
{
	struct datadir_quarantine_entry e = {.time = -1};
	char *qdir = quarantine_dir(data_dir), path[4096], text[2048];
	int qfd = -1, efd = -1, fd, r = 0;
	ssize_t n;

	if (!qdir)
		return error_set(err, -ENOMEM, "out of memory");
	r = open_entry(data_dir, qdir, entry, path, sizeof(path), &qfd, &efd, err);
	if (r < 0)
		goto out;
	e.time = stamp_time(entry);
	fd = openat(efd, "reason", O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
		text[n > 0 ? n : 0] = '\0';
		text_value(text, "data_dir", e.data_dir, sizeof(e.data_dir));
		text_value(text, "reason", e.reason, sizeof(e.reason));
	}
	/* The size is for the listing: best effort. */
	datadir_tree_walk(path, 0, add_blocks, &e.bytes, NULL);
	*ret = e;
out:
	if (efd >= 0)
		close(efd);
	if (qfd >= 0)
		close(qfd);
	free(qdir);
	return r;
}

/* The only directory (not a symlink) in the entry dfd, into buf. */
static int only_dir(int dfd, const char *path, char *buf, size_t size, struct error *err)
{
	int fd = dup(dfd), found = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return error_set(err, -e, "cannot list '%s': %s", path, strerror(e));
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (found++ == 0)
			snprintf(buf, size, "%s", de->d_name);
	}
	closedir(d);
	if (found == 1)
		return 0;
	return error_set(err, found ? -EEXIST : -ENOENT,
	                 found ? "'%s' holds more than one directory: which is the data dir?"
	                       : "'%s' holds no data dir",
	                 path);
}

int datadir_quarantine_restore(const char *data_dir, const char *entry, char **ret_from,
                               bool *ret_entry_left, struct error *err)
{
	char *path = strdup(data_dir), *qdir = quarantine_dir(data_dir), *from = NULL;
	char epath[4096], inner[256];
	const char *base;
	struct stat st;
	size_t n;
	int qfd = -1, efd = -1, r = 0;
	bool left = false;

	if (!path || !qdir) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	fsutil_trim_slashes(path);
	base = strrchr(path, '/');
	if (!base || !base[1]) {
		r = error_set(err, -EINVAL, "cannot restore to '%s'", data_dir);
		goto out;
	}
	base++;
	r = open_entry(data_dir, qdir, entry, epath, sizeof(epath), &qfd, &efd, err);
	if (r < 0)
		goto out;

	/* The data: named like the data dir, or else the entry's only directory. */
	if (fstatat(efd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode)) {
			r = error_set(err, -ELOOP, "'%s/%s' is a symlink: not followed", epath,
			              base);
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			r = error_set(err, -ENOTDIR, "'%s/%s' is not a directory", epath, base);
			goto out;
		}
		snprintf(inner, sizeof(inner), "%s", base);
	} else {
		r = only_dir(efd, epath, inner, sizeof(inner), err);
		if (r < 0)
			goto out;
	}

	/* The way back is free: absent, or an empty directory (which the rename replaces). */
	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode)) {
			r = error_set(err, -ELOOP, "'%s' is a symlink: not followed", path);
			goto out;
		}
		if (!S_ISDIR(st.st_mode) || count_entries(path, &n) < 0 || n > 0) {
			r = error_set(err, -ENOTEMPTY, "'%s' is not empty", path);
			goto out;
		}
	} else if (errno != ENOENT) {
		r = error_set(err, -errno, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	if (asprintf(&from, "%s/%s", epath, inner) < 0) {
		from = NULL;
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (renameat(efd, inner, AT_FDCWD, path) < 0) {
		r = error_set(err, -errno, "cannot move '%s' back to '%s': %s", from, path,
		              strerror(errno));
		goto out;
	}
	/* Durable before the entry goes: the data's old and new folders. */
	sync_dir_at(efd);
	{
		char *parent = strndup(path, (size_t)(base - 1 - path));

		if (parent)
			sync_dir(parent[0] ? parent : "/");
		free(parent);
	}
	/* Done; the entry is empty now but for its reason. */
	if ((unlinkat(efd, "reason", 0) < 0 && errno != ENOENT) ||
	    unlinkat(qfd, entry, AT_REMOVEDIR) < 0)
		left = true;
	if (ret_from) {
		*ret_from = from;
		from = NULL;
	}
	if (ret_entry_left)
		*ret_entry_left = left;
out:
	if (efd >= 0)
		close(efd);
	if (qfd >= 0)
		close(qfd);
	free(from);
	free(qdir);
	free(path);
	return r;
}

void datadir_quarantine_prune(const char *data_dir, unsigned keep, datadir_prune_fn *on_prune,
                              void *ctx)
{
	char *path = strdup(data_dir), *qdir = quarantine_dir(data_dir);
	const char *base;
	struct stat st;

	if (!path || !qdir || keep == 0)
		goto out;
	fsutil_trim_slashes(path);
	base = strrchr(path, '/');
	if (base && base[1] && lstat(qdir, &st) == 0 && S_ISDIR(st.st_mode))
		prune_quarantine(data_dir, qdir, NULL, base + 1, keep, on_prune, ctx);
out:
	free(path);
	free(qdir);
}
