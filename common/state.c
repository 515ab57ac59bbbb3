#include "state.h"

#include "fsutil.h"
#include "parse.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *state_helper_dir(const char *data_dir)
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
int state_private_dir(const char *dir, struct error *err)
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

int state_write_atomic(const char *dir, const char *name, const char *content, struct error *err)
{
	char tmp[4096], final[4096];
	size_t len = strlen(content), off = 0;
	int fd = -1, r = 0;

	r = state_private_dir(dir, err);
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
	fsutil_sync_dir(dir);
out:
	if (fd >= 0)
		close(fd);
	if (r < 0)
		unlink(tmp);
	return r;
}

int state_marker_write(const char *data_dir, uint64_t cluster_id, uint64_t member_id,
                       struct error *err)
{
	char *helper = state_helper_dir(data_dir), text[128];
	int r;

	if (!helper)
		return error_set(err, -ENOMEM, "out of memory");
	snprintf(text, sizeof(text), "cluster_id=%" PRIu64 "\nmember_id=%" PRIu64 "\n", cluster_id,
	         member_id);
	r = state_write_atomic(helper, "cluster", text, err);
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

int state_marker_read(const char *data_dir, uint64_t *ret_cluster_id, uint64_t *ret_member_id,
                      struct error *err)
{
	char *helper = state_helper_dir(data_dir), path[4096], buf[256];
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

int state_value(const char *data_dir, const char *name, const char *key, char *buf, size_t size)
{
	char *dir = state_helper_dir(data_dir), path[4096], text[8192];
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

int state_tombstone_write(const char *data_dir, const struct state_tombstone *t, struct error *err)
{
	char *helper = state_helper_dir(data_dir), text[160];
	int r;

	if (!helper)
		return error_set(err, -ENOMEM, "out of memory");
	snprintf(text, sizeof(text), "member_id=%" PRIu64 "\ncluster_id=%" PRIu64 "\nstate=%s\n",
	         t->member_id, t->cluster_id, t->removed ? "removed" : "removing");
	r = state_write_atomic(helper, TOMBSTONE, text, err);
	free(helper);
	return r;
}

int state_tombstone_read(const char *data_dir, struct state_tombstone *ret, struct error *err)
{
	char mid[32], cid[32], state[16];
	struct state_tombstone t = {0};
	int r;

	r = state_value(data_dir, TOMBSTONE, "state", state, sizeof(state));
	if (r == -ENOENT) {
		/* No file at all, or a file without a state: only the first is "none". */
		char *helper = state_helper_dir(data_dir), path[4096];

		snprintf(path, sizeof(path), "%s/%s", helper ? helper : "", TOMBSTONE);
		free(helper);
		if (access(path, F_OK) < 0 && errno == ENOENT)
			return -ENOENT;
	}
	if (r < 0 || state_value(data_dir, TOMBSTONE, "member_id", mid, sizeof(mid)) < 0 ||
	    state_value(data_dir, TOMBSTONE, "cluster_id", cid, sizeof(cid)) < 0 ||
	    parse_uint(mid, UINT64_MAX, &t.member_id) < 0 ||
	    parse_uint(cid, UINT64_MAX, &t.cluster_id) < 0 ||
	    (strcmp(state, "removed") != 0 && strcmp(state, "removing") != 0))
		return error_set(err, -EBADMSG, "the tombstone beside '%s' is not readable",
		                 data_dir);
	t.removed = strcmp(state, "removed") == 0;
	*ret = t;
	return 0;
}

int state_tombstone_clear(const char *data_dir, struct error *err)
{
	char *helper = state_helper_dir(data_dir), path[4096];
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

static void seen_set(struct state_seen *s, int r, const struct error *err)
{
	s->r = r;
	snprintf(s->error, sizeof(s->error), "%s", r < 0 && err->msg[0] ? err->msg : "");
}

int state_read(const char *data_dir, struct local_state *ret, struct error *err)
{
	struct local_state ls = {.wal_seen.r = -ENOENT};
	struct error e;
	struct stat st;
	int r;

	if (lstat(data_dir, &st) == 0 && S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(data_dir, ls.link_target, sizeof(ls.link_target) - 1);

		ls.is_link = true;
		ls.link_target[n > 0 ? n : 0] = '\0';
		ls.link_dangling = stat(data_dir, &st) < 0;
	}
	r = datadir_inspect(data_dir, &ls.data, err);
	if (r < 0)
		return r;
	if (ls.data.n_wal > 0) {
		error_clear(&e);
		seen_set(&ls.wal_seen, wal_read_metadata(data_dir, &ls.wal, &e), &e);
		/* A WAL whose bytes are not a WAL makes valid data partial; one that could not
		 * be read says nothing about it. Partial data is partial anyway. */
		if (ls.wal_seen.r < 0 && ls.data.state == DATADIR_VALID &&
		    !datadir_wal_unreadable(&ls.data, ls.wal_seen.r, ls.wal_seen.error))
			ls.wal_unreadable = true;
	}
	error_clear(&e);
	seen_set(&ls.marker_seen,
	         state_marker_read(data_dir, &ls.marker_cluster, &ls.marker_member, &e), &e);
	error_clear(&e);
	seen_set(&ls.tomb_seen, state_tombstone_read(data_dir, &ls.tomb, &e), &e);
	if (ls.tomb_seen.r == -EBADMSG && !ls.tomb_seen.error[0])
		snprintf(ls.tomb_seen.error, sizeof(ls.tomb_seen.error), "unreadable");
	*ret = ls;
	return 0;
}

bool state_tombstoned(const struct local_state *ls)
{
	return ls->tomb_seen.r == 0 && ls->tomb.removed && ls->wal_seen.r == 0 &&
	       ls->tomb.member_id == ls->wal.member_id && ls->tomb.cluster_id == ls->wal.cluster_id;
}

bool state_marker_formed(const struct local_state *ls)
{
	return ls->marker_seen.r != -ENOENT;
}
