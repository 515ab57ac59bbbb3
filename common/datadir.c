#include "datadir.h"

#include "settings.h"

#include <dirent.h>
#include <inttypes.h>
#include <time.h>
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

/* Remove the tree at name under dirfd without following any symlink. */
static int remove_tree_at(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *de;
	DIR *d;
	int r = 0;

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

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int datadir_quarantine_list(const char *data_dir, char ***ret, struct error *err)
{
	char *qdir = quarantine_dir(data_dir), **v = NULL;
	struct dirent *de;
	size_t n = 0, cap = 0;
	DIR *d;

	if (!qdir)
		return error_set(err, -ENOMEM, "out of memory");
	d = opendir(qdir);
	if (!d && errno != ENOENT) {
		int r = error_set(err, -errno, "cannot list '%s': %s", qdir, strerror(errno));

		free(qdir);
		return r;
	}
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n + 2 > cap) {
			char **nv = realloc(v, (cap = cap ? cap * 2 : 8) * sizeof(*v));

			if (!nv)
				break;
			v = nv;
		}
		if (!(v[n] = strdup(de->d_name)))
			break;
		n++;
	}
	if (d)
		closedir(d);
	free(qdir);
	if (!v && !(v = calloc(1, sizeof(*v))))
		return error_set(err, -ENOMEM, "out of memory");
	v[n] = NULL;
	qsort(v, n, sizeof(*v), compare_names);
	*ret = v;
	return 0;
}

static void free_list(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int datadir_quarantine(const char *data_dir, const char *tag, const char *reason, unsigned keep,
                       char **ret_path, struct error *err)
{
	char *qdir = quarantine_dir(data_dir), *entry = NULL, *target = NULL, *helper = NULL;
	const char *base = strrchr(data_dir, '/');
	char stamp[32], *text = NULL, **list = NULL;
	time_t now = time(NULL);
	size_t n = 0;
	int r = 0;

	helper = datadir_helper_dir(data_dir);
	if (!qdir || !helper || !base || !base[1]) {
		r = error_set(err, -EINVAL, "cannot quarantine '%s'", data_dir);
		goto out;
	}
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime(&now));
	if ((mkdir(helper, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(qdir, 0700) < 0 && errno != EEXIST)) {
		r = error_set(err, -errno, "cannot create '%s': %s", qdir, strerror(errno));
		goto out;
	}
	/* A unique entry, even when two moves happen within one second. */
	for (unsigned k = 0; k < 100; k++) {
		free(entry);
		if ((k ? asprintf(&entry, "%s/%s-%s.%u", qdir, stamp, tag, k)
		       : asprintf(&entry, "%s/%s-%s", qdir, stamp, tag)) < 0) {
			entry = NULL;
			break;
		}
		if (mkdir(entry, 0700) == 0)
			break;
		if (errno != EEXIST) {
			r = error_set(err, -errno, "cannot create '%s': %s", entry,
			              strerror(errno));
			goto out;
		}
	}
	if (!entry ||
	    asprintf(&text, "time=%s\ndata_dir=%s\nreason=%s\n", stamp, data_dir, reason) < 0) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = datadir_write_atomic(entry, "reason", text, err);
	if (r < 0)
		goto out;
	if (asprintf(&target, "%s%s", entry, base) < 0) {
		target = NULL;
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (rename(data_dir, target) < 0) {
		r = error_set(err, -errno, "cannot move '%s' to '%s': %s", data_dir, target,
		              strerror(errno));
		goto out;
	}

	/* Bounded retention: the oldest entries beyond `keep` go (never the one just made). */
	if (datadir_quarantine_list(data_dir, &list, NULL) == 0) {
		int qfd = open(qdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		while (list[n])
			n++;
		for (size_t i = 0; qfd >= 0 && n > keep && i < n - keep; i++)
			if (strcmp(list[i], entry + strlen(qdir) + 1) != 0)
				remove_tree_at(qfd, list[i]);
		if (qfd >= 0)
			close(qfd);
	}
	if (ret_path) {
		*ret_path = target;
		target = NULL;
	}
out:
	if (r < 0 && entry) {
		/* The data dir did not move: take back the empty entry (and its reason). */
		char *reason_path = NULL;

		if (asprintf(&reason_path, "%s/reason", entry) >= 0) {
			unlink(reason_path);
			free(reason_path);
		}
		rmdir(entry);
	}
	free_list(list);
	free(text);
	free(target);
	free(entry);
	free(helper);
	free(qdir);
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

int datadir_marker_read(const char *data_dir, uint64_t *ret_cluster_id, uint64_t *ret_member_id,
                        struct error *err)
{
	char *helper = datadir_helper_dir(data_dir), path[4096], buf[256], c[32], m[32];
	uint64_t cid, mid;
	ssize_t n;
	int fd;

	if (!helper)
		return error_set(err, -ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/cluster", helper);
	free(helper);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT
		                       : error_set(err, -errno, "cannot open '%s': %s", path,
		                                   strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return error_set(err, -EIO, "cannot read '%s'", path);
	buf[n] = '\0';
	if (sscanf(buf, "cluster_id=%31[0-9]\nmember_id=%31[0-9]", c, m) != 2 ||
	    parse_uint(c, UINT64_MAX, &cid) < 0 || parse_uint(m, UINT64_MAX, &mid) < 0)
		return error_set(err, -EBADMSG, "'%s' is not a cluster marker", path);
	*ret_cluster_id = cid;
	*ret_member_id = mid;
	return 0;
}
