#include "endpoints.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *format(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

void endpoints_init(struct endpoints *e, const struct settings *s, const char *set_name)
{
	*e = (struct endpoints){
	        .set_name = set_name,
	        .service = s->service ? s->service : set_name,
	        .namespace = s->namespace,
	        .cluster_domain = s->cluster_domain,
	        .client_tls = s->cacert || s->cert,
	        .peer_tls = false,
	        .client_port = s->client_port,
	        .peer_port = s->peer_port,
	};
}

char *endpoints_member_name(const struct endpoints *e, unsigned ordinal)
{
	return format("%s-%u", e->set_name, ordinal);
}

char *endpoints_host(const struct endpoints *e, unsigned ordinal)
{
	if (e->cluster_domain)
		return format("%s-%u.%s.%s.svc.%s", e->set_name, ordinal, e->service, e->namespace,
		              e->cluster_domain);
	return format("%s-%u.%s.%s", e->set_name, ordinal, e->service, e->namespace);
}

static char *url(const struct endpoints *e, unsigned ordinal, bool tls, unsigned port)
{
	char *host = endpoints_host(e, ordinal), *u;

	if (!host)
		return NULL;
	u = format("%s://%s:%u", tls ? "https" : "http", host, port);
	free(host);
	return u;
}

char *endpoints_peer_url(const struct endpoints *e, unsigned ordinal)
{
	return url(e, ordinal, e->peer_tls, e->peer_port);
}

char *endpoints_client_url(const struct endpoints *e, unsigned ordinal)
{
	return url(e, ordinal, e->client_tls, e->client_port);
}

char *endpoints_initial_cluster(const struct endpoints *e, unsigned size)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	bool ok = f != NULL;

	for (unsigned i = 0; ok && i < size; i++) {
		char *peer = endpoints_peer_url(e, i);

		ok = peer && fprintf(f, "%s%s-%u=%s", i ? "," : "", e->set_name, i, peer) > 0;
		free(peer);
	}
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok || size == 0) {
		free(out);
		return size == 0 && ok ? strdup("") : NULL;
	}
	return out;
}

void endpoints_free_urls(char **urls, size_t n)
{
	for (size_t i = 0; urls && i < n; i++)
		free(urls[i]);
	free(urls);
}

int endpoints_other_client_urls(const struct endpoints *e, unsigned ordinal, unsigned count,
                                const char *extra, char ***ret, size_t *ret_n)
{
	unsigned members = count > ordinal + 1 ? count : ordinal + 1;
	size_t cap = members + 1 + (extra ? strlen(extra) : 0), n = 0;
	char **v = calloc(cap, sizeof(*v)), *copy = NULL, *save = NULL;
	bool oom = !v || (extra && !(copy = strdup(extra)));

	for (char *u = !oom && copy ? strtok_r(copy, ",", &save) : NULL; u;
	     u = strtok_r(NULL, ",", &save))
		oom |= !(v[n++] = strdup(u));
	free(copy);
	for (unsigned i = 0; !oom && i < members; i++)
		if (i != ordinal)
			oom |= !(v[n++] = endpoints_client_url(e, i));
	if (oom) {
		endpoints_free_urls(v, n);
		return -ENOMEM;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}
