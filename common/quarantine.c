#include "quarantine.h"

#include "datadir.h"
#include "fsutil.h"
#include "state.h"
#include "strv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const tag_names[] = {
        [QUARANTINE_PARTIAL] = "partial",
        [QUARANTINE_LEFT] = "left",
        [QUARANTINE_REMOVED] = "removed",
        [QUARANTINE_MANUAL] = "manual",
};

const char *quarantine_tag_name(enum quarantine_tag tag)
{
	if ((size_t)tag >= sizeof(tag_names) / sizeof(tag_names[0]) || !tag_names[tag])
		return "other";
	return tag_names[tag];
}

/* fsync an open directory, so that a rename in it survives a crash. */
static void fsync_at(int dfd)
{
	if (dfd >= 0)
		fsync(dfd);
}

static char *quarantine_dir(const char *data_dir)
{
	char *helper = state_helper_dir(data_dir), *q = NULL;

	if (helper && asprintf(&q, "%s/quarantine", helper) < 0)
		q = NULL;
	free(helper);
	return q;
}

int quarantine_list(const char *data_dir, char ***ret, struct error *err)
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
		                       st.st_size >= QUARANTINE_PRECIOUS_DB_BYTES)) {
			snprintf(held, size, "partial member data that may be its last copy (%s)",
			         info.reason);
			return 1;
		}
	}
	snprintf(held, size, "%s data: %s", datadir_state_name(info.state), info.reason);
	return 0;
}

/* The retention of quarantine_move(), after the new entry `newest` is in place (NULL:
 * the newest entry there is). */
static void prune_quarantine(const char *data_dir, const char *qdir, const char *newest,
                             const char *base, unsigned keep, quarantine_prune_fn *on_prune,
                             void *ctx)
{
	char **list = NULL, (*held)[256] = NULL;
	bool *valid = NULL;
	size_t total = 0, n_valid = 0, newest_valid = SIZE_MAX;
	int qfd = -1;

	if (quarantine_list(data_dir, &list, NULL) < 0)
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
		if (fsutil_tree_walk_at(qfd, list[i], qdir, FSUTIL_TREE_REMOVE, NULL, NULL, NULL) <
		    0)
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
		if (fsutil_tree_walk_at(qfd, list[i], qdir, FSUTIL_TREE_REMOVE, NULL, NULL, NULL) <
		    0)
			break;
		n_valid--;
		if (on_prune)
			on_prune(list[i], held[i], ctx);
	}
	fsync_at(qfd);
out:
	if (qfd >= 0)
		close(qfd);
	free(valid);
	free(held);
	strv_free(list);
}

int quarantine_move(const char *data_dir, enum quarantine_tag tag, const char *reason,
                    unsigned keep, quarantine_prune_fn *on_prune, void *ctx, char **ret_path,
                    struct error *err)
{
	char *path = strdup(data_dir), *qdir = quarantine_dir(data_dir), *helper = NULL;
	char *entry = NULL, *target = NULL, *text = NULL;
	const char *base;
	int r = 0;

	helper = state_helper_dir(data_dir);
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
	r = state_private_dir(helper, err);
	if (r == 0)
		r = state_private_dir(qdir, err);
	if (r < 0)
		goto out;
	r = make_entry(qdir, quarantine_tag_name(tag), &entry, err);
	if (r < 0)
		goto out;
	if (asprintf(&text, "data_dir=%s\nreason=%s\n", path, reason) < 0 ||
	    asprintf(&target, "%s%s", entry, base) < 0) {
		text = target = NULL;
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = state_write_atomic(entry, "reason", text, err);
	if (r < 0)
		goto out;
	if (rename(path, target) < 0) {
		r = error_set(err, -errno, "cannot move '%s' to '%s': %s", path, target,
		              strerror(errno));
		goto out;
	}
	/* The rename is durable in both folders before anything old is deleted. */
	fsutil_sync_dir(entry);
	{
		char *parent = strndup(path, (size_t)(base - path));

		if (parent)
			fsutil_sync_dir(parent[0] ? parent : "/");
		free(parent);
	}
	fsutil_sync_dir(qdir);
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
	char *helper = state_helper_dir(data_dir), *qdir = quarantine_dir(data_dir);
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

int quarantine_entry_read(const char *data_dir, const char *entry, struct quarantine_entry *ret,
                          struct error *err)
{
	struct quarantine_entry e = {.time = -1};
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
	fsutil_tree_walk(path, 0, add_blocks, &e.bytes, NULL);
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

int quarantine_restore(const char *data_dir, const char *entry, char **ret_from,
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
		if (!S_ISDIR(st.st_mode) || fsutil_count_entries(path, &n) < 0 || n > 0) {
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
	fsync_at(efd);
	{
		char *parent = strndup(path, (size_t)(base - 1 - path));

		if (parent)
			fsutil_sync_dir(parent[0] ? parent : "/");
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

void quarantine_prune(const char *data_dir, unsigned keep, quarantine_prune_fn *on_prune, void *ctx)
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
