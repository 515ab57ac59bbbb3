#include "datadir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int datadir_file_locked(const char *path)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
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

/* Count *.wal files in wal_dir and report whether any of them is locked. */
static int scan_wal(const char *wal_dir, size_t *ret_n, bool *ret_locked)
{
	struct dirent *de;
	DIR *d = opendir(wal_dir);
	size_t n = 0;
	bool locked = false;

	if (!d)
		return errno == ENOENT ? (*ret_n = 0, *ret_locked = false, 0) : -errno;
	while ((de = readdir(d))) {
		char path[4096];

		if (!has_suffix(de->d_name, ".wal") && strcmp(de->d_name, "0.tmp") != 0)
			continue;
		if (has_suffix(de->d_name, ".wal"))
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
	if (locked) {
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

int datadir_write_atomic(const char *dir, const char *name, const char *content, struct error *err)
{
	char tmp[4096], final[4096];
	size_t len = strlen(content), off = 0;
	int fd = -1, dfd = -1, r = 0;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return error_set(err, -errno, "cannot create '%s': %s", dir, strerror(errno));
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
