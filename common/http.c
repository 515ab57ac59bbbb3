#include "http.h"

#include "clock.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct http_client {
	CURL *curl;
	struct http_options o;
	char *cacert, *cert, *key;
	char *auth_header;
	char *user, *password; /* for the etcd layer's login */
	bool login_unneeded;
};

struct sink {
	char *buf;
	size_t len;
	size_t cap;
	size_t max;
	bool too_big;
	/* streamed (http_request_stream): each piece goes to fn, nothing is kept */
	http_stream_fn *fn;
	void *ctx;
	int fn_error;
};

int http_global_init(struct error *err)
{
	static bool done;

	if (done)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return error_set(err, -EIO, "cannot initialise libcurl");
	done = true;
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int http_client_new(const struct http_options *o, struct http_client **ret, struct error *err)
{
	struct http_client *c;

	c = calloc(1, sizeof(*c));
	if (!c)
		return error_set(err, -ENOMEM, "out of memory");
	c->o = *o;
	if (!c->o.connect_timeout_ms)
		c->o.connect_timeout_ms = HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
	if (!c->o.call_timeout_ms)
		c->o.call_timeout_ms = HTTP_DEFAULT_CALL_TIMEOUT_MS;
	if (!c->o.max_body)
		c->o.max_body = HTTP_DEFAULT_MAX_BODY;
	c->cacert = dup_or_null(o->cacert);
	c->cert = dup_or_null(o->cert);
	c->key = dup_or_null(o->key);
	c->curl = curl_easy_init();
	if (!c->curl || (o->cacert && !c->cacert) || (o->cert && !c->cert) || (o->key && !c->key)) {
		http_client_free(c);
		return error_set(err, -ENOMEM, "cannot create an HTTP client");
	}
	*ret = c;
	return 0;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->cacert);
	free(c->cert);
	free(c->key);
	if (c->auth_header)
		explicit_bzero(c->auth_header, strlen(c->auth_header));
	free(c->auth_header);
	http_client_set_login(c, NULL, NULL);
	free(c);
}

static void wipe_free(char *p)
{
	if (p)
		explicit_bzero(p, strlen(p));
	free(p);
}

int http_client_set_login(struct http_client *c, const char *user, const char *password)
{
	char *u = user ? strdup(user) : NULL, *p = user && password ? strdup(password) : NULL;

	if ((user && !u) || (user && password && !p)) {
		free(u);
		wipe_free(p);
		return -ENOMEM;
	}
	free(c->user);
	wipe_free(c->password);
	c->user = u;
	c->password = p;
	return 0;
}

const char *http_client_login(const struct http_client *c, const char **ret_password)
{
	if (ret_password)
		*ret_password = c->password;
	return c->user;
}

void http_client_set_login_unneeded(struct http_client *c, bool unneeded)
{
	c->login_unneeded = unneeded;
}

bool http_client_login_unneeded(const struct http_client *c)
{
	return c->login_unneeded;
}

bool http_client_has_auth(const struct http_client *c)
{
	return c->auth_header != NULL;
}

int http_client_set_auth(struct http_client *c, const char *token)
{
	char *h = NULL;

	if (token && asprintf(&h, "Authorization: %s", token) < 0)
		return -ENOMEM;
	if (c->auth_header)
		explicit_bzero(c->auth_header, strlen(c->auth_header));
	free(c->auth_header);
	c->auth_header = h;
	return 0;
}

void http_response_free(struct http_response *r)
{
	if (!r)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;

	if (s->len + n > s->max) {
		s->too_big = true;
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	}
	if (s->fn) {
		s->fn_error = s->fn(data, n, s->ctx);
		s->len += n;
		return s->fn_error < 0 ? 0 : n;
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *b;

		while (cap < s->len + n + 1)
			cap *= 2;
		b = realloc(s->buf, cap);
		if (!b)
			return 0;
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

/* The one response header kept: a peer port names its cluster in it. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	static const char name[] = "x-etcd-cluster-id:";
	struct http_response *resp = userdata;
	size_t n = size * nmemb, k = sizeof(name) - 1;

	if (n > k && strncasecmp(data, name, k) == 0) {
		const char *v = data + k;
		size_t len = n - k;

		while (len && (*v == ' ' || *v == '\t'))
			v++, len--;
		while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
			len--;
		if (len < sizeof(resp->etcd_cluster_id))
			snprintf(resp->etcd_cluster_id, sizeof(resp->etcd_cluster_id), "%.*s",
			         (int)len, v);
	}
	return n;
}

/* A stop signal (SIGTERM) aborts the call in flight. */
static int on_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	return clock_stop_signal() != 0;
}

/* etcd-join execs etcd: no descriptor of ours may leak into it. */
static curl_socket_t open_cloexec_socket(void *clientp, curlsocktype purpose,
                                         struct curl_sockaddr *address)
{
	return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

static int map_curl_error(CURLcode rc, const struct sink *s, const char *url, const char *errbuf,
                          struct error *err)
{
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
	int code;

	if (s->too_big)
		return error_set(err, -EFBIG, "'%s' sent a response larger than %zu bytes", url,
		                 s->max);
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		code = -EHOSTUNREACH;
		break;
	case CURLE_COULDNT_CONNECT:
		code = -ECONNREFUSED;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		code = -ETIMEDOUT;
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		code = -EPROTO;
		break;
	case CURLE_GOT_NOTHING:
		/* Something listens there but speaks another protocol: http:// to a TLS port. */
		return error_set(
		        err, -EPROTO,
		        "'%s' closed the connection without a reply (a TLS port asked over http?)",
		        url);
	case CURLE_ABORTED_BY_CALLBACK:
		return error_set(err, -EINTR, "'%s': interrupted by a stop signal", url);
	default:
		code = -EIO;
	}
	return error_set(err, code, "%s", why);
}

int http_request(struct http_client *c, const char *method, const char *url, const char *body,
                 const struct deadline *d, struct http_response *ret, struct error *err)
{
	return http_request_as(c, method, url, "application/json", NULL, body, d, ret, err);
}

static int perform(struct http_client *c, const char *method, const char *url,
                   const char *content_type, const char *const *extra, const char *body,
                   uint64_t timeout, const struct deadline *d, struct sink *sink,
                   struct http_response *ret, struct error *err);

int http_request_as(struct http_client *c, const char *method, const char *url,
                    const char *content_type, const char *const *extra, const char *body,
                    const struct deadline *d, struct http_response *ret, struct error *err)
{
	struct sink s = {.max = c->o.max_body};

	return perform(c, method, url, content_type, extra, body, c->o.call_timeout_ms, d, &s, ret,
	               err);
}

int http_request_stream(struct http_client *c, const char *url, const char *body,
                        uint64_t timeout_ms, size_t max, const struct deadline *d,
                        http_stream_fn *fn, void *ctx, long *ret_status, struct error *err)
{
	struct sink s = {.max = max, .fn = fn, .ctx = ctx};
	struct http_response resp = {0};
	int r;

	r = perform(c, "POST", url, "application/json", NULL, body, timeout_ms, d, &s, &resp, err);
	if (r == -EIO && s.fn_error < 0)
		return s.fn_error; /* fn's own error, in err already */
	http_response_free(&resp);
	if (r == 0)
		*ret_status = resp.status;
	return r;
}

static int perform(struct http_client *c, const char *method, const char *url,
                   const char *content_type, const char *const *extra, const char *body,
                   uint64_t timeout, const struct deadline *d, struct sink *sink,
                   struct http_response *ret, struct error *err)
{
	char type_header[128];
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	struct sink s = *sink;
	struct http_response resp = {0};
	const char *ctype = NULL;
	CURL *h = c->curl;
	CURLcode rc;
	long status = 0;
	int r = 0;

	if (d) {
		uint64_t left = deadline_left_ms(d);

		if (left == 0)
			return error_set(err, -ETIMEDOUT, "deadline passed before calling '%s'",
			                 url);
		if (left < timeout)
			timeout = left;
	}
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(
	        h, CURLOPT_CONNECTTIMEOUT_MS,
	        (long)(c->o.connect_timeout_ms < timeout ? c->o.connect_timeout_ms : timeout));
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_cloexec_socket);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "etcd-hooks/" ETCD_HOOKS_VERSION);
	/* Tokens and passwords never go to a proxy: "" disables the proxy variables too. */
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &resp);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	if (c->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
	if (c->cert)
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
	if (c->key)
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
	snprintf(type_header, sizeof(type_header), "Content-Type: %s", content_type);
	headers = curl_slist_append(headers, type_header);
	if (headers && c->auth_header)
		headers = curl_slist_append(headers, c->auth_header);
	for (size_t i = 0; headers && extra && extra[i]; i++)
		headers = curl_slist_append(headers, extra[i]);
	if (!headers)
		return error_set(err, -ENOMEM, "out of memory");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "{}");
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		if (body)
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	}

	rc = curl_easy_perform(h);
	curl_slist_free_all(headers);
	/* The header list is gone: never let a later reuse of the handle see it. */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	sink->fn_error = s.fn_error;
	if (rc != CURLE_OK) {
		if (s.fn_error < 0) {
			free(s.buf);
			return -EIO;
		}
		r = map_curl_error(rc, &s, url, errbuf, err);
		free(s.buf);
		return r;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
	*ret = resp;
	ret->status = status;
	ret->body = s.buf ? s.buf : strdup("");
	ret->len = s.len;
	if (ctype)
		snprintf(ret->content_type, sizeof(ret->content_type), "%s", ctype);
	if (!ret->body)
		return error_set(err, -ENOMEM, "out of memory");
	return 0;
}
