/* HTTP over libcurl: every call has a connect and a total timeout, bodies are capped, every
 * socket is close-on-exec (etcd-join execs etcd afterwards). Failover across endpoints with
 * backoff lives one level up, in etcd_call(), because which answers are worth another
 * endpoint depends on etcd's error codes. */
#pragma once

#include "clock.h"
#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 1000
#define HTTP_DEFAULT_CALL_TIMEOUT_MS    5000
#define HTTP_DEFAULT_MAX_BODY           (4u << 20)

struct http_options {
	uint64_t connect_timeout_ms;     /* 0: HTTP_DEFAULT_CONNECT_TIMEOUT_MS */
	uint64_t call_timeout_ms;        /* 0: HTTP_DEFAULT_CALL_TIMEOUT_MS */
	size_t max_body;                 /* 0: HTTP_DEFAULT_MAX_BODY */
	const char *cacert, *cert, *key; /* client TLS, may be NULL */
};

struct http_response {
	long status;
	char *body; /* NUL-terminated, owned */
	size_t len;
	char content_type[64];
	char etcd_cluster_id[24]; /* the X-Etcd-Cluster-Id header (peer port), "" when none */
};

struct http_client;

/* Initialise libcurl once for the process. Returns 0 or -EIO. */
int http_global_init(struct error *err);

/* A client with its own connection cache. The strings in o are copied. Returns 0 and
 * *ret, or a negative errno. Free with http_client_free() (NULL is fine). */
int http_client_new(const struct http_options *o, struct http_client **ret, struct error *err);
void http_client_free(struct http_client *c);

/* Send "Authorization: <token>" on every later call (NULL: none). The token is copied. */
int http_client_set_auth(struct http_client *c, const char *token);
/* True while a token is set. */
bool http_client_has_auth(const struct http_client *c);

/* The user and password the etcd layer logs in with (etcd.h), kept with the client so that
 * every etcd client built on it logs in before its first call and again when its token
 * expired. Copied; the password is wiped on free. user NULL: none. Returns 0 or -ENOMEM. */
int http_client_set_login(struct http_client *c, const char *user, const char *password);
/* The user set, or NULL; *ret_password (may be NULL) its password. */
const char *http_client_login(const struct http_client *c, const char **ret_password);
/* The cluster said it has no auth enabled: log in no more (until a token problem says
 * otherwise). */
void http_client_set_login_unneeded(struct http_client *c, bool unneeded);
bool http_client_login_unneeded(const struct http_client *c);

/* One request to url. body may be NULL (no body; with POST, an empty JSON object is sent).
 * The total timeout is the client's call timeout clipped to the deadline d (may be NULL).
 * Any HTTP status counts as success: 0 and *ret filled. Transport failures return a
 * negative errno with curl's reason in err: -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH (name
 * not resolved), -EPROTO (TLS, or a server that closed without a reply: another protocol on
 * that port), -EFBIG (body over the cap), -EINTR (a stop signal, clock.h), -EIO (other).
 * Proxies are never used: the proxy variables of the environment are ignored. */
int http_request(struct http_client *c, const char *method, const char *url, const char *body,
                 const struct deadline *d, struct http_response *ret, struct error *err);
/* http_request() with the body's Content-Type given (http_request() sends JSON) and more
 * request headers ("Name: value", a NULL-terminated list; may be NULL). */
int http_request_as(struct http_client *c, const char *method, const char *url,
                    const char *content_type, const char *const *headers, const char *body,
                    const struct deadline *d, struct http_response *ret, struct error *err);

/* A POST whose response body is streamed: each piece goes to fn as it arrives (fn returns
 * 0 to go on, or a negative errno, with its reason in err, to stop: that errno is
 * returned). At most max bytes in all (-EFBIG); the total time is timeout_ms, clipped to d
 * (the client's call timeout does not apply). 0 and *ret_status once the body is done. */
typedef int http_stream_fn(const char *data, size_t len, void *ctx);
int http_request_stream(struct http_client *c, const char *url, const char *body,
                        uint64_t timeout_ms, size_t max, const struct deadline *d,
                        http_stream_fn *fn, void *ctx, long *ret_status, struct error *err);

void http_response_free(struct http_response *r);
