#include "etcd.h"

#include "parse.h"
#include "sha1.h"
#include "sha256.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A call with less time left than this is not worth making: keep the last real error. */
#define MIN_CALL_MS 10

struct etcd_client {
	struct http_client *http;
	char **urls;
	char **prefixes; /* per URL, NULL until /version answered */
	size_t n;
	size_t current;
};

static uint64_t be64(const uint8_t *b)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

uint64_t etcd_bootstrap_member_id(const char *peer_url, const char *token)
{
	size_t a = strlen(peer_url), b = strlen(token);
	uint8_t digest[SHA1_DIGEST_SIZE];
	char *buf = malloc(a + b + 1);

	if (!buf)
		return 0;
	memcpy(buf, peer_url, a);
	memcpy(buf + a, token, b + 1);
	sha1(buf, a + b, digest);
	free(buf);
	return be64(digest);
}

static int compare_ids(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

uint64_t etcd_bootstrap_cluster_id(uint64_t *ids, size_t n)
{
	uint8_t digest[SHA1_DIGEST_SIZE], *buf = malloc(n * 8 + 1);

	if (!buf)
		return 0;
	qsort(ids, n, sizeof(*ids), compare_ids);
	for (size_t i = 0; i < n; i++)
		for (unsigned k = 0; k < 8; k++)
			buf[8 * i + k] = (uint8_t)(ids[i] >> (56 - 8 * k));
	sha1(buf, n * 8, digest);
	free(buf);
	return be64(digest);
}

int etcd_id_parse(const char *s, uint64_t *ret)
{
	return parse_uint(s, UINT64_MAX, ret);
}

char *etcd_id_format(uint64_t id, char *buf)
{
	snprintf(buf, ETCD_ID_STR_MAX, "%" PRIu64, id);
	return buf;
}

char *etcd_id_hex(uint64_t id, char *buf)
{
	snprintf(buf, ETCD_ID_STR_MAX, "%" PRIx64, id);
	return buf;
}

/* A decimal-string uint64 field. Absent means 0 (the gateway omits zero values). */
static int get_u64(json_t *obj, const char *key, uint64_t *ret, struct error *err)
{
	json_t *v = json_object_get(obj, key);

	*ret = 0;
	if (!v)
		return 0;
	if (json_is_string(v) && etcd_id_parse(json_string_value(v), ret) == 0)
		return 0;
	/* Small values may come as numbers from some gateways; never trust large ones. */
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*ret = (uint64_t)json_integer_value(v);
		return 0;
	}
	return error_set(err, -EBADMSG, "field '%s' is not an unsigned 64-bit decimal string", key);
}

static json_t *load(const char *body, size_t len, struct error *err)
{
	json_error_t jerr;
	json_t *root;

	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		error_set(err, -EBADMSG, "malformed JSON (%s at byte %d)", jerr.text,
		          jerr.position);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		error_set(err, -EBADMSG, "JSON response is not an object");
		return NULL;
	}
	return root;
}

static int copy_string(json_t *v, char *buf, size_t size)
{
	const char *s = json_string_value(v);

	if (!s || strlen(s) >= size)
		return -EBADMSG;
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

int etcd_parse_version(const char *body, size_t len, struct etcd_version *ret, struct error *err)
{
	struct etcd_version v = {0};
	json_t *root = load(body, len, err);
	int r = 0;

	if (!root)
		return -EBADMSG;
	if (copy_string(json_object_get(root, "etcdserver"), v.server, sizeof(v.server)) < 0 ||
	    sscanf(v.server, "%u.%u", &v.major, &v.minor) != 2) {
		r = error_set(err, -EBADMSG, "/version has no valid 'etcdserver' field");
		goto out;
	}
	/* etcdcluster is absent or "not_decided" before the cluster agreed on a version. */
	if (copy_string(json_object_get(root, "etcdcluster"), v.cluster, sizeof(v.cluster)) < 0)
		v.cluster[0] = '\0';
	*ret = v;
out:
	json_decref(root);
	return r;
}

const char *etcd_api_prefix(const struct etcd_version *v)
{
	if (v->major == 3 && v->minor <= 2)
		return "/v3alpha";
	if (v->major == 3 && v->minor == 3)
		return "/v3beta";
	return "/v3";
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int get_strings(json_t *obj, const char *key, char ***ret, size_t *ret_n, struct error *err)
{
	json_t *arr = json_object_get(obj, key), *item;
	char **v = NULL;
	size_t i, n;

	*ret = NULL;
	*ret_n = 0;
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return error_set(err, -EBADMSG, "field '%s' is not an array", key);
	n = json_array_size(arr);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return error_set(err, -ENOMEM, "out of memory");
	json_array_foreach(arr, i, item)
	{
		if (!json_is_string(item) || !(v[i] = strdup(json_string_value(item)))) {
			free_strings(v, i);
			return error_set(err, -EBADMSG, "field '%s' holds a non-string", key);
		}
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static void member_free(struct etcd_member *m)
{
	free(m->name);
	free_strings(m->peer_urls, m->n_peer_urls);
	free_strings(m->client_urls, m->n_client_urls);
}

void etcd_member_list_free(struct etcd_member_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_members; i++)
		member_free(&l->members[i]);
	free(l->members);
	l->members = NULL;
	l->n_members = 0;
}

static int parse_member(json_t *o, struct etcd_member *m, struct error *err)
{
	json_t *name = json_object_get(o, "name"), *learner = json_object_get(o, "isLearner");
	int r;

	memset(m, 0, sizeof(*m));
	if (!json_is_object(o))
		return error_set(err, -EBADMSG, "a member is not an object");
	r = get_u64(o, "ID", &m->id, err);
	if (r < 0)
		return r;
	if (m->id == 0)
		return error_set(err, -EBADMSG, "a member has no ID");
	if (name && !json_is_string(name))
		return error_set(err, -EBADMSG, "member name is not a string");
	if (learner && !json_is_boolean(learner))
		return error_set(err, -EBADMSG, "member isLearner is not a boolean");
	m->is_learner = json_is_true(learner);
	m->name = strdup(name ? json_string_value(name) : "");
	if (!m->name)
		return error_set(err, -ENOMEM, "out of memory");
	r = get_strings(o, "peerURLs", &m->peer_urls, &m->n_peer_urls, err);
	if (r == 0)
		r = get_strings(o, "clientURLs", &m->client_urls, &m->n_client_urls, err);
	if (r < 0)
		member_free(m);
	return r;
}

int etcd_parse_member_list(const char *body, size_t len, struct etcd_member_list *ret,
                           struct error *err)
{
	struct etcd_member_list l = {0};
	json_t *root = load(body, len, err), *header, *members, *item;
	size_t i;
	int r = 0;

	if (!root)
		return -EBADMSG;
	header = json_object_get(root, "header");
	members = json_object_get(root, "members");
	if (!json_is_object(header) || !json_is_array(members)) {
		r = error_set(err, -EBADMSG, "member list has no 'header' or no 'members' array");
		goto out;
	}
	r = get_u64(header, "cluster_id", &l.cluster_id, err);
	if (r == 0)
		r = get_u64(header, "member_id", &l.member_id, err);
	if (r < 0)
		goto out;
	l.members = calloc(json_array_size(members) + 1, sizeof(*l.members));
	if (!l.members) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(members, i, item)
	{
		r = parse_member(item, &l.members[i], err);
		if (r < 0) {
			etcd_member_list_free(&l);
			goto out;
		}
		l.n_members = i + 1;
	}
	*ret = l;
out:
	json_decref(root);
	return r;
}

bool etcd_member_has_peer_url(const struct etcd_member *m, const char *peer_url)
{
	for (size_t k = 0; k < m->n_peer_urls; k++)
		if (strcmp(m->peer_urls[k], peer_url) == 0)
			return true;
	return false;
}

const struct etcd_member *etcd_member_find_peer_url(const struct etcd_member_list *l,
                                                    const char *peer_url)
{
	for (size_t i = 0; i < l->n_members; i++)
		if (etcd_member_has_peer_url(&l->members[i], peer_url))
			return &l->members[i];
	return NULL;
}

bool etcd_member_started(const struct etcd_member *m)
{
	/* Not the name: an initial member carries its --initial-cluster name before it ever
	 * started. A member publishes its client URLs when it starts; etcd's own
	 * isMemberBootstrapped() asks the same. */
	return m->n_client_urls > 0;
}

int etcd_parse_status(const char *body, size_t len, struct etcd_status *ret, struct error *err)
{
	struct etcd_status s = {0};
	json_t *root = load(body, len, err), *header;
	int r;

	if (!root)
		return -EBADMSG;
	header = json_object_get(root, "header");
	if (!json_is_object(header) ||
	    copy_string(json_object_get(root, "version"), s.version, sizeof(s.version)) < 0) {
		r = error_set(err, -EBADMSG, "status has no 'header' or no 'version'");
		goto out;
	}
	r = get_u64(header, "cluster_id", &s.cluster_id, err);
	if (r == 0)
		r = get_u64(header, "member_id", &s.member_id, err);
	if (r == 0)
		r = get_u64(root, "leader", &s.leader, err);
	if (r == 0)
		r = get_u64(root, "raftIndex", &s.raft_index, err);
	if (r == 0)
		r = get_u64(root, "raftTerm", &s.raft_term, err);
	if (r == 0)
		r = get_u64(root, "dbSize", &s.db_size, err);
	if (r < 0)
		goto out;
	s.is_learner = json_is_true(json_object_get(root, "isLearner"));
	/* the store's revision: the name of a snapshot taken now (0 when not given) */
	if (get_u64(header, "revision", &s.revision, NULL) < 0)
		s.revision = 0;
	*ret = s;
out:
	json_decref(root);
	return r;
}

/* Printable, single-line excerpt of a body that is not JSON (an HTML page, a proxy error):
 * whitespace runs become one space; a text longer than size - 1 is cut to size - 4
 * characters and "...". size is at least 4. */
static void excerpt(const char *body, size_t len, char *buf, size_t size)
{
	size_t j = 0;
	bool space = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)body[i];

		if (isspace(c)) {
			space = j > 0;
			continue;
		}
		/* This character (and the space before it) and the NUL must fit. */
		if (j + space + 1 >= size) {
			memcpy(buf + size - 4, "...", 4);
			return;
		}
		if (space)
			buf[j++] = ' ';
		space = false;
		buf[j++] = isprint(c) ? (char)c : '?';
	}
	buf[j] = '\0';
}

static int errno_for_code(int code)
{
	switch (code) {
	case ETCD_CODE_UNAVAILABLE:
		return -EAGAIN;
	case ETCD_CODE_NOT_FOUND:
		return -ENOENT;
	case ETCD_CODE_PERMISSION_DENIED:
	case ETCD_CODE_UNAUTHENTICATED:
		return -EACCES;
	case ETCD_CODE_INVALID_ARGUMENT:
		return -EINVAL;
	case ETCD_CODE_FAILED_PRECONDITION:
		return -EBUSY;
	default:
		return -EREMOTEIO;
	}
}

int etcd_parse_error(long http_status, const char *content_type, const char *body, size_t len,
                     struct error *err)
{
	char text[120];
	json_t *root = NULL, *code, *message, *error;
	int r;

	if (body && len && (root = json_loadb(body, len, 0, NULL)) && json_is_object(root)) {
		code = json_object_get(root, "code");
		message = json_object_get(root, "message");
		error = json_object_get(root, "error");
		/* A stream error: {"error":{"grpc_code":..,"message":..}} (3.4/3.5) or
		 * {"error":{"code":..,"message":..}} (3.6). */
		if (json_is_object(error)) {
			code = json_object_get(error, "grpc_code");
			if (!code)
				code = json_object_get(error, "code");
			message = json_object_get(error, "message");
		} else if (!json_is_string(message) && json_is_string(error)) {
			message = error;
		}
		if (json_is_integer(code) && json_is_string(message)) {
			int c = (int)json_integer_value(code);

			r = error_set(err, errno_for_code(c), "%s (code %d, HTTP %ld)",
			              json_string_value(message), c, http_status);
			if (err) {
				err->etcd_code = c;
				err->http_status = http_status;
			}
			json_decref(root);
			return r;
		}
	}
	json_decref(root);
	excerpt(body ? body : "", body ? len : 0, text, sizeof(text));
	if (http_status >= 200 && http_status < 300)
		r = error_set(err, -EBADMSG, "unexpected response: '%s'", text);
	else
		r = error_set(err, -EREMOTEIO, "HTTP %ld%s%s%s%s%s", http_status,
		              content_type && content_type[0] ? " (" : "",
		              content_type ? content_type : "",
		              content_type && content_type[0] ? ")" : "", text[0] ? ": " : "",
		              text[0] ? text : " with an empty body");
	if (err) {
		err->etcd_code = -1;
		err->http_status = http_status;
	}
	return r;
}

int etcd_client_new(struct http_client *http, const char *const *urls, size_t n,
                    struct etcd_client **ret, struct error *err)
{
	struct etcd_client *c = calloc(1, sizeof(*c));

	if (!c)
		return error_set(err, -ENOMEM, "out of memory");
	c->http = http;
	c->urls = calloc(n + 1, sizeof(*c->urls));
	c->prefixes = calloc(n + 1, sizeof(*c->prefixes));
	if (!c->urls || !c->prefixes)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		/* Drop a trailing slash so that paths join cleanly. */
		size_t len = strlen(urls[i]);

		c->urls[i] = strndup(urls[i], len && urls[i][len - 1] == '/' ? len - 1 : len);
		if (!c->urls[i])
			goto oom;
		c->n = i + 1;
	}
	*ret = c;
	return 0;
oom:
	etcd_client_free(c);
	return error_set(err, -ENOMEM, "out of memory");
}

void etcd_client_free(struct etcd_client *c)
{
	if (!c)
		return;
	free_strings(c->urls, c->n);
	free_strings(c->prefixes, c->n);
	free(c);
}

const char *etcd_client_current(const struct etcd_client *c)
{
	return c->n ? c->urls[c->current] : "";
}

int etcd_version_get(struct http_client *http, const char *url, const struct deadline *d,
                     struct etcd_version *ret, struct error *err)
{
	struct http_response resp = {0};
	char *full = NULL;
	int r;

	if (asprintf(&full, "%s/version", url) < 0)
		return error_set(err, -ENOMEM, "out of memory");
	r = http_request(http, "GET", full, NULL, d, &resp, err);
	free(full);
	if (r < 0)
		return r;
	if (resp.status != 200)
		r = etcd_parse_error(resp.status, resp.content_type, resp.body, resp.len, err);
	else
		r = etcd_parse_version(resp.body, resp.len, ret, err);
	http_response_free(&resp);
	return r;
}

/* The API prefix of endpoint i (v3, v3beta or v3alpha), from its /version once. */
static int ensure_prefix(struct etcd_client *c, size_t i, const struct deadline *d,
                         struct error *err)
{
	struct etcd_version v;
	int r;

	if (c->prefixes[i])
		return 0;
	r = etcd_version_get(c->http, c->urls[i], d, &v, err);
	if (r < 0)
		return r;
	c->prefixes[i] = strdup(etcd_api_prefix(&v));
	if (!c->prefixes[i])
		return error_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* One call at endpoint i: the prefix first if unknown, then the POST. */
static int call_one(struct etcd_client *c, size_t i, const char *path, const char *body,
                    const struct deadline *d, char **ret_body, struct error *err)
{
	struct http_response resp = {0};
	char *url = NULL;
	int r;

	r = ensure_prefix(c, i, d, err);
	if (r < 0)
		return r;
	if (asprintf(&url, "%s%s/%s", c->urls[i], c->prefixes[i], path) < 0)
		return error_set(err, -ENOMEM, "out of memory");
	r = http_request(c->http, "POST", url, body, d, &resp, err);
	free(url);
	if (r < 0)
		return r;
	if (resp.status < 200 || resp.status >= 300) {
		r = etcd_parse_error(resp.status, resp.content_type, resp.body, resp.len, err);
		http_response_free(&resp);
		return r;
	}
	*ret_body = resp.body;
	return 0;
}

/* Worth trying the next endpoint: the transport failed, or this member cannot serve now. */
static bool try_next(int r)
{
	return r == -EAGAIN || r == -ECONNREFUSED || r == -ETIMEDOUT || r == -EHOSTUNREACH ||
	       r == -EIO || r == -EPROTO || r == -EREMOTEIO || r == -EBADMSG;
}

/* etcd_call() without the login: every endpoint in turn, rounds with backoff until d. */
static int call_any(struct etcd_client *c, const char *path, const char *body,
                    const struct deadline *d, char **ret_body, struct error *err)
{
	struct backoff b;
	bool tried = false;
	int r = -ETIMEDOUT;

	if (c->n == 0)
		return error_set(err, -EINVAL, "no etcd endpoint to call");
	backoff_init(&b, 100, 1000);
	for (;;) {
		for (size_t k = 0; k < c->n; k++) {
			size_t i = (c->current + k) % c->n;

			/* Out of time: report the last real answer, not "deadline passed". */
			if (tried && d && deadline_left_ms(d) < MIN_CALL_MS)
				return r;
			tried = true;
			r = call_one(c, i, path, body, d, ret_body, err);
			if (r == 0) {
				c->current = i;
				return 0;
			}
			error_prefix(err, "'%s': ", c->urls[i]);
			if (!try_next(r) || (d && deadline_passed(d)))
				return r;
		}
		if (!d || deadline_passed(d))
			return r;
		clock_sleep_ms(backoff_next(&b, d));
	}
}

static const char LOGIN_PATH[] = "auth/authenticate";

/* etcd says the call needs a (new) token: it expired (code 16 "invalid auth token"; the
 * maintenance API of 3.4 says "auth: invalid auth token" with code 2), or auth was turned
 * on since ("user name is empty": code 3 from the cluster API, code 2 from the maintenance
 * API). */
static bool token_problem(const struct error *err)
{
	return err->etcd_code == ETCD_CODE_UNAUTHENTICATED ||
	       ((err->etcd_code == ETCD_CODE_INVALID_ARGUMENT ||
	         err->etcd_code == ETCD_CODE_UNKNOWN) &&
	        (strstr(err->msg, "user name is empty") || strstr(err->msg, "invalid auth token")));
}

/* Log in with the HTTP client's user, unless it has a token or the cluster has no auth.
 * Returns 0 or the login's error. */
static int ensure_token(struct etcd_client *c, const struct deadline *d, struct error *err)
{
	const char *password, *user = http_client_login(c->http, &password);
	int r;

	if (!user || !password || http_client_has_auth(c->http) ||
	    http_client_login_unneeded(c->http))
		return 0;
	r = etcd_client_login(c, user, password, d, err);
	if (r < 0 && err && err->etcd_code == ETCD_CODE_FAILED_PRECONDITION &&
	    strstr(err->msg, "authentication is not enabled")) {
		/* A cluster without auth: calls go without a token. */
		http_client_set_login_unneeded(c->http, true);
		error_clear(err);
		return 0;
	}
	return r;
}

int etcd_call(struct etcd_client *c, const char *path, const char *body, const struct deadline *d,
              char **ret_body, struct error *err)
{
	const char *user = http_client_login(c->http, NULL);
	int r;

	if (strcmp(path, LOGIN_PATH) == 0)
		return call_any(c, path, body, d, ret_body, err);
	/* With a user set, log in before the first call: newer patch releases want a token
	 * even for the member list and the status, and older ones for every change. */
	r = ensure_token(c, d, err);
	if (r == 0)
		r = call_any(c, path, body, d, ret_body, err);
	if (r < 0 && user && err && token_problem(err)) {
		/* The token expired (a long wait outlives --auth-token-ttl), or auth was turned
		 * on since: once more, with a new one. */
		http_client_set_auth(c->http, NULL);
		http_client_set_login_unneeded(c->http, false);
		r = ensure_token(c, d, err);
		if (r == 0)
			r = call_any(c, path, body, d, ret_body, err);
	}
	return r;
}

static int b64_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	return ch == '+' ? 62 : ch == '/' ? 63 : -1;
}

/* Decode standard base64 (with padding) into out (room for len / 4 * 3 bytes). Returns the
 * bytes written, or -1 for anything that is not base64. */
static ssize_t base64_decode(const char *in, size_t len, uint8_t *out)
{
	uint32_t acc = 0;
	size_t n = 0, bits = 0, pad = 0;

	if (len % 4)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(in[i]);

		if (in[i] == '=' && i + 2 >= len) {
			pad++;
			continue;
		}
		if (pad || v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return (ssize_t)n;
}

/* The snapshot stream: newline-delimited JSON objects, {"result":{"remaining_bytes":"N",
 * "blob":"<base64>"}} or {"error":{...}}. The blobs make the db, in order; the message after
 * the one that leaves nothing remaining is the db's SHA-256, and it ends the stream. Each
 * blob is written to fd, the hash too (as etcdctl snapshot save does). */
struct snapshot_stream {
	int fd;
	char *line;
	size_t len, cap;
	uint64_t bytes, max, unsynced;
	const struct deadline *d; /* may be NULL */
	struct sha256 sum;
	bool db_done, hash_done;
	struct error err;
};

/* A blob's remaining_bytes (3.3 to 3.5: snake_case; camelCase accepted too): 0 when absent. */
static int remaining_of(json_t *result, uint64_t *ret)
{
	json_t *v = json_object_get(result, "remaining_bytes");

	if (!v)
		v = json_object_get(result, "remainingBytes");
	if (!v) {
		*ret = 0;
		return 0;
	}
	return get_u64(result,
	               json_object_get(result, "remaining_bytes") ? "remaining_bytes"
	                                                          : "remainingBytes",
	               ret, NULL);
}

static int write_all(struct snapshot_stream *s, const uint8_t *buf, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t w = write(s->fd, buf + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return error_set(&s->err, -errno, "cannot write the snapshot: %s",
			                 strerror(errno));
		off += (size_t)w;
	}
	s->unsynced += n;
	/* Sync as it comes: the final sync then has little left, and a slow disk shows
	 * before the deadline, not after it. */
	if (s->unsynced >= (8u << 20)) {
		if (fdatasync(s->fd) < 0)
			return error_set(&s->err, -errno, "cannot sync the snapshot: %s",
			                 strerror(errno));
		s->unsynced = 0;
		if (s->d && deadline_passed(s->d))
			return error_set(&s->err, -ETIMEDOUT,
			                 "the snapshot was not written in time");
	}
	return 0;
}

static int snapshot_line(struct snapshot_stream *s, const char *line, size_t len)
{
	json_t *root = json_loadb(line, len, 0, NULL), *result, *blob;
	uint8_t *buf, digest[SHA256_DIGEST_SIZE];
	uint64_t remaining = 0;
	ssize_t n;
	size_t blen;
	int r;

	if (!root || !json_is_object(root)) {
		json_decref(root);
		return error_set(&s->err, -EBADMSG,
		                 "the snapshot stream has a line that is not a JSON object");
	}
	if (json_object_get(root, "error")) {
		r = etcd_parse_error(500, "application/json", line, len, &s->err);
		json_decref(root);
		return r < 0 ? r : -EREMOTEIO;
	}
	result = json_object_get(root, "result");
	blob = json_object_get(result, "blob");
	if (!json_is_string(blob) || remaining_of(result, &remaining) < 0) {
		json_decref(root);
		return error_set(
		        &s->err, -EBADMSG,
		        "a snapshot message without a blob, or with a remaining_bytes that is not a count");
	}
	if (s->hash_done) {
		json_decref(root);
		return error_set(&s->err, -EBADMSG, "a snapshot message after the db's hash");
	}
	blen = json_string_length(blob);
	buf = malloc(blen / 4 * 3 + 3);
	if (!buf) {
		json_decref(root);
		return error_set(&s->err, -ENOMEM, "out of memory");
	}
	n = base64_decode(json_string_value(blob), blen, buf);
	json_decref(root);
	if (n < 0) {
		free(buf);
		return error_set(&s->err, -EBADMSG, "a snapshot blob that is not base64");
	}
	if (s->db_done) {
		/* the hash: 32 bytes, the SHA-256 of everything before */
		sha256_final(&s->sum, digest);
		if (n != SHA256_DIGEST_SIZE || memcmp(buf, digest, SHA256_DIGEST_SIZE) != 0) {
			free(buf);
			return error_set(&s->err, -EBADMSG,
			                 "the snapshot's hash does not match its db (%" PRIu64
			                 " bytes): a broken stream",
			                 s->bytes);
		}
		s->hash_done = true;
	} else {
		if (s->bytes + (uint64_t)n > s->max) {
			free(buf);
			return error_set(&s->err, -EFBIG,
			                 "the snapshot is larger than %" PRIu64 " bytes", s->max);
		}
		sha256_update(&s->sum, buf, (size_t)n);
		s->db_done = remaining == 0;
	}
	r = write_all(s, buf, (size_t)n);
	free(buf);
	if (r < 0)
		return r;
	s->bytes += (uint64_t)n;
	return 0;
}

static int snapshot_piece(const char *data, size_t len, void *ctx)
{
	struct snapshot_stream *s = ctx;

	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			int r = s->len ? snapshot_line(s, s->line, s->len) : 0;

			s->len = 0;
			if (r < 0)
				return r;
			continue;
		}
		if (s->len + 1 >= s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 65536;
			char *l = cap > (8u << 20) ? NULL : realloc(s->line, cap);

			if (!l)
				return error_set(&s->err, -EFBIG, "a snapshot message over 8 MiB");
			s->line = l;
			s->cap = cap;
		}
		s->line[s->len++] = data[i];
	}
	return 0;
}

/* The end of the stream: the last line, then the db and its hash must both be there. */
static int snapshot_end(struct snapshot_stream *s)
{
	int r = s->len ? snapshot_line(s, s->line, s->len) : 0;

	if (r == 0 && !s->hash_done)
		r = error_set(&s->err, -EBADMSG,
		              "the snapshot stream ended after %" PRIu64 " bytes, before %s",
		              s->bytes, s->db_done ? "the db's hash" : "the end of the db");
	return r;
}

int etcd_snapshot_decode(const char *body, size_t len, int fd, uint64_t max_bytes,
                         uint64_t *ret_bytes, struct error *err)
{
	struct snapshot_stream s = {.fd = fd, .max = max_bytes};
	int r;

	error_clear(&s.err);
	sha256_init(&s.sum);
	r = snapshot_piece(body, len, &s);
	if (r == 0)
		r = snapshot_end(&s);
	free(s.line);
	if (r < 0) {
		if (err)
			*err = s.err;
		return r;
	}
	*ret_bytes = s.bytes;
	return 0;
}

/* One snapshot stream from the current endpoint into fd. */
static int snapshot_once(struct etcd_client *c, const struct deadline *d, uint64_t timeout_ms,
                         int fd, uint64_t max_bytes, uint64_t *ret_bytes, struct error *err)
{
	struct snapshot_stream s = {.fd = fd, .max = max_bytes, .d = d};
	size_t i = c->current;
	char *url = NULL;
	long status = 0;
	int r;

	error_clear(&s.err);
	sha256_init(&s.sum);
	r = ensure_token(c, d, err);
	if (r < 0)
		return r;
	r = ensure_prefix(c, i, d, err);
	if (r < 0)
		return r;
	if (asprintf(&url, "%s%s/maintenance/snapshot", c->urls[i], c->prefixes[i]) < 0)
		return error_set(err, -ENOMEM, "out of memory");
	/* The stream is about 4/3 of the db plus the JSON around each 32 KiB: twice the db
	 * is ample; the db itself is held to max_bytes as it is decoded. */
	r = http_request_stream(c->http, url, "{}", timeout_ms,
	                        max_bytes > SIZE_MAX / 4 ? SIZE_MAX
	                                                 : (size_t)(2 * max_bytes + (1u << 20)),
	                        d, snapshot_piece, &s, &status, err);
	free(url);
	if (r == 0 && status != 200) {
		/* an error before any data: etcd's error line, without its newline */
		r = s.len ? etcd_parse_error(status, "application/json", s.line, s.len, err) : 0;
		if (r >= 0)
			r = error_set(err, -EREMOTEIO, "the snapshot call answered HTTP %ld",
			              status);
	} else if (r == 0) {
		r = snapshot_end(&s);
	}
	free(s.line);
	if (r < 0 && s.err.msg[0])
		*err = s.err;
	*ret_bytes = s.bytes;
	return r;
}

int etcd_snapshot(struct etcd_client *c, const struct deadline *d, uint64_t timeout_ms, int fd,
                  uint64_t max_bytes, uint64_t *ret_bytes, struct error *err)
{
	uint64_t bytes = 0;
	int r = snapshot_once(c, d, timeout_ms, fd, max_bytes, &bytes, err);

	/* The token expired (a hook that waited longer than --auth-token-ttl), or auth was
	 * turned on since: once more with a new one, into the file from its start. */
	if (r < 0 && http_client_login(c->http, NULL) && token_problem(err)) {
		if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
			return error_set(err, -errno, "cannot truncate the snapshot file: %s",
			                 strerror(errno));
		http_client_set_auth(c->http, NULL);
		http_client_set_login_unneeded(c->http, false);
		error_clear(err);
		r = snapshot_once(c, d, timeout_ms, fd, max_bytes, &bytes, err);
	}
	if (r < 0)
		return r;
	*ret_bytes = bytes;
	return 0;
}

int etcd_client_login(struct etcd_client *c, const char *user, const char *password,
                      const struct deadline *d, struct error *err)
{
	json_t *req = json_pack("{s:s, s:s}", "name", user, "password", password), *resp = NULL;
	char *body = NULL, *resp_body = NULL;
	const char *token;
	int r;

	if (!req || !(body = json_dumps(req, JSON_COMPACT))) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = etcd_call(c, LOGIN_PATH, body, d, &resp_body, err);
	if (r < 0) {
		error_prefix(err, "cannot log in as '%s': ", user);
		goto out;
	}
	resp = load(resp_body, strlen(resp_body), err);
	token = json_string_value(json_object_get(resp, "token"));
	if (!token || !*token) {
		r = error_set(err, -EBADMSG, "'%s' answered the login without a token",
		              etcd_client_current(c));
		goto out;
	}
	if (http_client_set_auth(c->http, token) < 0)
		r = error_set(err, -ENOMEM, "out of memory");
out:
	/* The request held the password: wipe it before freeing. */
	if (body)
		explicit_bzero(body, strlen(body));
	free(body);
	free(resp_body);
	json_decref(resp);
	json_decref(req);
	return r;
}

int etcd_member_list(struct etcd_client *c, const struct deadline *d, struct etcd_member_list *ret,
                     struct error *err)
{
	char *body = NULL;
	int r;

	r = etcd_call(c, "cluster/member/list", "{}", d, &body, err);
	if (r < 0)
		return r;
	r = etcd_parse_member_list(body, strlen(body), ret, err);
	if (r < 0)
		error_prefix(err, "'%s': ", etcd_client_current(c));
	free(body);
	return r;
}

/* The IDs of a peer /members body, exactly: etcd writes them as bare numbers, above
 * INT64_MAX too, which jansson holds only as a double. The text's '"id":' keys, in order,
 * are read as whole numbers; each must then be, as a double, the "id" that jansson read
 * for the member of its place (root, the array). Any other count, a nested or repeated
 * "id", or one inside a string, and the IDs all stay 0 (unknown). */
static void peer_member_ids(const char *body, size_t len, json_t *root, struct etcd_member_list *l)
{
	uint64_t *ids = calloc(l->n_members + 1, sizeof(*ids));
	size_t n = 0;

	if (!ids)
		return;
	for (size_t i = 0; i + 5 < len; i++) {
		char digits[ETCD_ID_STR_MAX];
		size_t k = i + 5, d = 0;

		if (memcmp(body + i, "\"id\":", 5) != 0)
			continue;
		while (k < len && body[k] == ' ')
			k++;
		while (k < len && body[k] >= '0' && body[k] <= '9' && d + 1 < sizeof(digits))
			digits[d++] = body[k++];
		digits[d] = '\0';
		/* the whole number and nothing else: no more digits, no fraction or exponent */
		if (n >= l->n_members || k >= len || !body[k] || !strchr(",} \t\r\n", body[k]) ||
		    etcd_id_parse(digits, &ids[n]) < 0) {
			n = 0;
			break;
		}
		n++;
	}
	/* both sides rounded to the nearest double from the same integer: equal if it is */
	for (size_t i = 0; i < n; i++) {
		json_t *id = json_object_get(json_array_get(root, i), "id");

		if (!json_is_number(id) || json_number_value(id) != (double)ids[i])
			n = 0;
	}
	if (n && n == l->n_members)
		for (size_t i = 0; i < n; i++)
			l->members[i].id = ids[i];
	free(ids);
}

int etcd_parse_peer_members(const char *body, size_t len, struct etcd_member_list *ret,
                            struct error *err)
{
	struct etcd_member_list l = {0};
	json_error_t jerr;
	json_t *root, *item;
	size_t i;
	int r = 0;

	/* IDs above INT64_MAX are bare numbers here: read numbers as reals, ignore IDs. */
	root = json_loadb(body, len, JSON_DECODE_INT_AS_REAL, &jerr);
	if (!root)
		return error_set(err, -EBADMSG, "malformed JSON (%s at byte %d)", jerr.text,
		                 jerr.position);
	if (!json_is_array(root)) {
		r = error_set(err, -EBADMSG, "peer /members is not an array");
		goto out;
	}
	l.members = calloc(json_array_size(root) + 1, sizeof(*l.members));
	if (!l.members) {
		r = error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(root, i, item)
	{
		struct etcd_member *m = &l.members[i];
		json_t *name = json_object_get(item, "name");

		if (!json_is_object(item) || (name && !json_is_string(name))) {
			r = error_set(err, -EBADMSG, "peer /members holds a bad member");
			break;
		}
		m->name = strdup(name ? json_string_value(name) : "");
		m->is_learner = json_is_true(json_object_get(item, "isLearner"));
		l.n_members = i + 1;
		if (!m->name) {
			r = error_set(err, -ENOMEM, "out of memory");
			break;
		}
		r = get_strings(item, "peerURLs", &m->peer_urls, &m->n_peer_urls, err);
		if (r == 0)
			r = get_strings(item, "clientURLs", &m->client_urls, &m->n_client_urls,
			                err);
		if (r < 0)
			break;
	}
	if (r == 0)
		peer_member_ids(body, len, root, &l);
	if (r < 0)
		etcd_member_list_free(&l);
	else
		*ret = l;
out:
	json_decref(root);
	return r;
}

int etcd_parse_member_add(const char *body, size_t len, uint64_t *ret_id,
                          struct etcd_member_list *ret_list, struct error *err)
{
	struct etcd_member added;
	json_t *root = load(body, len, err);
	int r;

	if (!root)
		return -EBADMSG;
	r = parse_member(json_object_get(root, "member"), &added, err);
	json_decref(root);
	if (r < 0) {
		error_prefix(err, "member/add response: ");
		return r;
	}
	*ret_id = added.id;
	member_free(&added);
	return etcd_parse_member_list(body, len, ret_list, err);
}

int etcd_member_add(struct etcd_client *c, const char *peer_url, bool learner,
                    const struct deadline *d, uint64_t *ret_id, struct etcd_member_list *ret_list,
                    struct error *err)
{
	json_t *req = json_pack("{s:[s], s:b}", "peerURLs", peer_url, "isLearner", learner);
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL, *resp = NULL;
	int r;

	json_decref(req);
	if (!body)
		return error_set(err, -ENOMEM, "out of memory");
	r = etcd_call(c, "cluster/member/add", body, d, &resp, err);
	free(body);
	if (r < 0)
		return r;
	r = etcd_parse_member_add(resp, strlen(resp), ret_id, ret_list, err);
	free(resp);
	return r;
}

/* A call whose only argument is a member ID, sent as a decimal string. */
static int call_with_id(struct etcd_client *c, const char *path, uint64_t id,
                        const struct deadline *d, struct error *err)
{
	char body[64], idbuf[ETCD_ID_STR_MAX], *resp = NULL;
	int r;

	snprintf(body, sizeof(body), "{\"ID\":\"%s\"}", etcd_id_format(id, idbuf));
	r = etcd_call(c, path, body, d, &resp, err);
	free(resp);
	return r;
}

int etcd_member_remove(struct etcd_client *c, uint64_t id, const struct deadline *d,
                       struct error *err)
{
	return call_with_id(c, "cluster/member/remove", id, d, err);
}

int etcd_member_promote(struct etcd_client *c, uint64_t id, const struct deadline *d,
                        struct error *err)
{
	return call_with_id(c, "cluster/member/promote", id, d, err);
}

int etcd_status_get(struct http_client *http, const char *url, const struct deadline *d,
                    struct etcd_status *ret, struct error *err)
{
	struct etcd_client *c = NULL;
	char *body = NULL;
	int r;

	r = etcd_client_new(http, &url, 1, &c, err);
	if (r == 0)
		r = etcd_call(c, "maintenance/status", "{}", d, &body, err);
	if (r == 0)
		r = etcd_parse_status(body, strlen(body), ret, err);
	free(body);
	etcd_client_free(c);
	return r;
}

int etcd_peer_members(struct http_client *http, const char *peer_url, const struct deadline *d,
                      struct etcd_member_list *ret, struct error *err)
{
	struct http_response resp = {0};
	char *url = NULL;
	int r;

	if (asprintf(&url, "%s/members", peer_url) < 0)
		return error_set(err, -ENOMEM, "out of memory");
	r = http_request(http, "GET", url, NULL, d, &resp, err);
	free(url);
	if (r < 0)
		return r;
	if (resp.status != 200)
		r = etcd_parse_error(resp.status, resp.content_type, resp.body, resp.len, err);
	else
		r = etcd_parse_peer_members(resp.body, resp.len, ret, err);
	http_response_free(&resp);
	return r;
}

int etcd_parse_peer_says(long http_status, const char *body, size_t len, enum etcd_peer_says *ret,
                         struct error *err)
{
	static const struct {
		long status;
		const char *text;
		enum etcd_peer_says says;
	} answers[] = {
	        {410, "removed member", ETCD_PEER_SAYS_REMOVED},
	        {404, "error sender not found", ETCD_PEER_SAYS_UNKNOWN},
	        {412, "to field mismatch", ETCD_PEER_SAYS_MEMBER},
	        {412, "cluster ID mismatch", ETCD_PEER_SAYS_OTHER_CLUSTER},
	};
	size_t n = body ? len : 0;
	char text[64];

	/* http.Error() writes the text and a newline; nothing else may come with it */
	if (n && body[n - 1] == '\n')
		n--;
	if (n && body[n - 1] == '\r')
		n--;
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		if (answers[i].status == http_status && strlen(answers[i].text) == n &&
		    memcmp(answers[i].text, body, n) == 0) {
			*ret = answers[i].says;
			return 0;
		}
	}
	excerpt(body ? body : "", body ? len : 0, text, sizeof(text));
	return error_set(err, -EBADMSG, "the peer's raft stream handler answered HTTP %ld '%s'",
	                 http_status, text);
}

int etcd_peer_says(struct http_client *http, const char *peer_url, uint64_t cluster_id,
                   uint64_t member_id, const struct deadline *d, enum etcd_peer_says *ret,
                   struct error *err)
{
	char *url = NULL, version[64], cid[64], *headers[5] = {NULL};
	struct http_response resp = {0};
	struct etcd_version v;
	int r;

	/* The peer port serves /version too; its own version satisfies its version check. */
	r = etcd_version_get(http, peer_url, d, &v, err);
	if (r < 0)
		return r;
	snprintf(version, sizeof(version), "X-Server-Version: %s", v.server);
	snprintf(cid, sizeof(cid), "X-Etcd-Cluster-ID: %" PRIx64, cluster_id);
	headers[0] = version;
	headers[1] = "X-Min-Cluster-Version: 3.0.0";
	headers[2] = cid;
	headers[3] = "X-Raft-To: 0";
	if (asprintf(&url, "%s/raft/stream/message/%" PRIx64, peer_url, member_id) < 0)
		return error_set(err, -ENOMEM, "out of memory");
	r = http_request_as(http, "GET", url, "application/json", (const char *const *)headers,
	                    NULL, d, &resp, err);
	free(url);
	if (r == 0)
		r = etcd_parse_peer_says(resp.status, resp.body, resp.len, ret, err);
	/* etcd sets its cluster ID on every answer of this handler, before any check: an
	 * answer without it (a proxy, anything else at that URL) is no cluster's word. */
	if (r == 0) {
		char *end;
		uint64_t said;

		errno = 0;
		said = strtoull(resp.etcd_cluster_id, &end, 16);
		if (!resp.etcd_cluster_id[0] || *end || errno ||
		    (*ret != ETCD_PEER_SAYS_OTHER_CLUSTER && said != cluster_id))
			r = error_set(err, -EBADMSG,
			              "the answer (HTTP %ld) carries %s X-Etcd-Cluster-Id '%s'",
			              resp.status, resp.etcd_cluster_id[0] ? "another" : "no",
			              resp.etcd_cluster_id);
	}
	if (r < 0)
		error_prefix(err, "'%s': ", peer_url);
	http_response_free(&resp);
	return r;
}

int etcd_health(struct http_client *http, const char *url, const struct deadline *d,
                struct error *err)
{
	struct http_response resp = {0};
	const char *health;
	json_t *root;
	char *full = NULL;
	int r;

	if (asprintf(&full, "%s/health", url) < 0)
		return error_set(err, -ENOMEM, "out of memory");
	r = http_request(http, "GET", full, NULL, d, &resp, err);
	free(full);
	if (r < 0)
		return r;
	root = json_loadb(resp.body, resp.len, 0, NULL);
	health = json_string_value(json_object_get(root, "health"));
	r = resp.status == 200 && health && strcmp(health, "true") == 0;
	if (!r)
		error_set(err, 0, "'%s' reports unhealthy (HTTP %ld)", url, resp.status);
	json_decref(root);
	http_response_free(&resp);
	return r;
}

bool etcd_error_transient(const struct error *err)
{
	if (err->etcd_code == ETCD_CODE_UNAVAILABLE)
		return true;
	if (err->etcd_code == ETCD_CODE_UNKNOWN)
		return strstr(err->msg, "not enough started members") != NULL;
	if (err->etcd_code == ETCD_CODE_FAILED_PRECONDITION)
		return strstr(err->msg, "too many learner members") != NULL;
	return false;
}

bool etcd_error_peer_exists(const struct error *err)
{
	return err->etcd_code == ETCD_CODE_FAILED_PRECONDITION &&
	       strstr(err->msg, "Peer URLs already exists") != NULL;
}

int etcd_move_leader(struct http_client *http, const char *leader_url, uint64_t target,
                     const struct deadline *d, struct error *err)
{
	char body[64], idbuf[ETCD_ID_STR_MAX], *resp = NULL;
	struct etcd_client *c = NULL;
	int r;

	snprintf(body, sizeof(body), "{\"targetID\":\"%s\"}", etcd_id_format(target, idbuf));
	r = etcd_client_new(http, &leader_url, 1, &c, err);
	if (r == 0)
		r = etcd_call(c, "maintenance/transfer-leadership", body, d, &resp, err);
	free(resp);
	etcd_client_free(c);
	return r;
}
