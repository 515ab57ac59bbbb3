#include "cluster.h"

#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Names beyond the known bound are looked up until one does not resolve, at most this many:
 * a StatefulSet's pods are contiguous, and the scan must stay short. */
#define SCAN_MAX                32
#define DEFAULT_CALL_TIMEOUT_MS 800

static bool host_resolves(const char *host)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	int r = getaddrinfo(host, NULL, &hints, &res);

	if (res)
		freeaddrinfo(res);
	return r == 0;
}

static bool ordinal_resolves(const struct endpoints *ep, unsigned ordinal)
{
	char *host = endpoints_host(ep, ordinal);
	bool r = host && host_resolves(host);

	free(host);
	return r;
}

unsigned cluster_ordinal_bound(const struct endpoints *ep, unsigned ordinal, unsigned initial_size,
                               unsigned replicas)
{
	unsigned bound = ordinal + 1;

	if (initial_size > bound)
		bound = initial_size;
	if (replicas > bound)
		bound = replicas;
	for (unsigned k = 0; k < SCAN_MAX && ordinal_resolves(ep, bound); k++)
		bound++;
	return bound;
}

const char *cluster_peer_heard_name(enum peer_heard h)
{
	static const char *const names[] = {
	        [PEER_SILENT] = "silent",
	        [PEER_UNREADABLE] = "unreadable",
	        [PEER_EMPTY] = "empty",
	        [PEER_HAS_DATA] = "has data",
	        [PEER_BOOTSTRAPPING] = "bootstrapping",
	        [PEER_FORMED] = "formed",
	};

	return names[h];
}

static void appendf(char *buf, size_t size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void appendf(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* etcd-join's answer: {"etcd-hooks": {"member": "...", "data": "empty"|"valid"|...,
 * "formed": bool}}. */
static enum peer_heard parse_hooks_answer(json_t *root, char *detail, size_t size)
{
	json_t *o = json_object_get(root, "etcd-hooks");
	json_t *data = json_object_get(o, "data"), *formed = json_object_get(o, "formed");
	const char *member = json_string_value(json_object_get(o, "member"));

	if (!json_is_object(o) || !json_is_string(data) || !json_is_boolean(formed)) {
		snprintf(detail, size, "an etcd-hooks answer without 'data' and 'formed'");
		return PEER_UNREADABLE;
	}
	snprintf(detail, size, "its etcd-join answers for '%s': data %s%s", member ? member : "?",
	         json_string_value(data), json_is_true(formed) ? ", its cluster formed" : "");
	if (json_is_true(formed) || strcmp(json_string_value(data), "valid") == 0)
		return PEER_HAS_DATA;
	if (strcmp(json_string_value(data), "empty") == 0)
		return PEER_EMPTY;
	/* Partial data, about to be moved aside: nothing definite yet. */
	return PEER_SILENT;
}

enum peer_heard cluster_parse_peer_answer(long status, const char *body, size_t len, char *detail,
                                          size_t size)
{
	struct etcd_member_list l = {0};
	struct error err;
	enum peer_heard r;
	size_t started = 0;
	json_t *root;

	detail[0] = '\0';
	if (status == 503 && (root = json_loadb(body, len, 0, NULL))) {
		r = json_is_object(root) && json_object_get(root, "etcd-hooks")
		            ? parse_hooks_answer(root, detail, size)
		            : PEER_UNREADABLE;
		if (r == PEER_UNREADABLE && !detail[0])
			snprintf(detail, size, "HTTP 503 that is not etcd-join's answer");
		json_decref(root);
		return r;
	}
	error_clear(&err);
	if (status != 200 || etcd_parse_peer_members(body, len, &l, &err) < 0) {
		snprintf(detail, size, "HTTP %ld that is not a member list%s%s", status,
		         err.msg[0] ? ": " : "", err.msg);
		return PEER_UNREADABLE;
	}
	for (size_t i = 0; i < l.n_members; i++)
		if (etcd_member_started(&l.members[i]))
			started++;
	snprintf(detail, size, "its etcd lists %zu members, %zu started", l.n_members, started);
	r = l.n_members == 0 ? PEER_UNREADABLE : started ? PEER_FORMED : PEER_BOOTSTRAPPING;
	etcd_member_list_free(&l);
	return r;
}

/* A transport failure: nobody there (yet), as opposed to an answer we cannot read. */
static bool silent_error(int r)
{
	return r == -ECONNREFUSED || r == -ETIMEDOUT || r == -EHOSTUNREACH || r == -EIO ||
	       r == -EINTR;
}

static void note(char *buf, size_t size, bool *flag, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* Keep the first reason: "<what>" for the log. */
static void note(char *buf, size_t size, bool *flag, const char *fmt, ...)
{
	va_list ap;

	if (flag)
		*flag = true;
	if (buf[0])
		return;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* X-Etcd-Cluster-Id: hexadecimal, as etcd writes it; 0 when it is not an ID. */
static uint64_t header_id(const char *h)
{
	char *end;
	unsigned long long v;

	if (!h[0] || strspn(h, "0123456789abcdefABCDEF") != strlen(h) || strlen(h) > 16)
		return 0;
	errno = 0;
	v = strtoull(h, &end, 16);
	return errno || *end ? 0 : (uint64_t)v;
}

/* The IPv4 addresses a URL's host resolves to, at most max; returns how many. */
static size_t url_addrs(const char *url, uint32_t *addrs, size_t max)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
	const char *h = strstr(url, "://");
	char host[256];
	size_t n = 0, len;

	h = h ? h + 3 : url;
	len = strcspn(h, ":/");
	if (len == 0 || len >= sizeof(host))
		return 0;
	memcpy(host, h, len);
	host[len] = '\0';
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return 0;
	for (struct addrinfo *a = res; a && n < max; a = a->ai_next)
		addrs[n++] = ((struct sockaddr_in *)a->ai_addr)->sin_addr.s_addr;
	freeaddrinfo(res);
	return n;
}

/* A client URL whose etcd's peer port said it bootstraps this set's own cluster: a
 * timeout there is excused when the peer port says so again after it (below). */
struct excuse {
	const char *peer_url;
	uint64_t cluster_id; /* the cluster ID this set's bootstrap gives */
};

static enum peer_heard ask_peer(struct http_client *http, const char *peer_url, uint64_t timeout_ms,
                                struct cluster_probe *p, uint64_t *ret_cluster_id);

/* The peer port of ex says, now too, that its etcd bootstraps the cluster of ex. */
static bool still_bootstrapping(struct http_client *http, const struct excuse *ex,
                                uint64_t timeout_ms, struct cluster_probe *p)
{
	uint64_t cid = 0;

	return ask_peer(http, ex->peer_url, timeout_ms, p, &cid) == PEER_BOOTSTRAPPING &&
	       cid == ex->cluster_id;
}

/* Ask one client URL for the member list; fold the outcome into p. Returns true when the
 * URL answered at all (a list or an etcd error). ex, when not NULL, may excuse a timeout. */
static bool ask_client(struct http_client *http, const char *url, uint64_t timeout_ms,
                       const struct excuse *ex, struct cluster_probe *p)
{
	struct etcd_member_list l = {0};
	struct etcd_client *c = NULL;
	struct deadline d;
	struct error err;
	char id[ETCD_ID_STR_MAX];
	int r;

	error_clear(&err);
	deadline_init(&d, timeout_ms);
	p->asked++;
	r = etcd_client_new(http, &url, 1, &c, &err);
	if (r == 0)
		r = etcd_member_list(c, &d, &l, &err);
	etcd_client_free(c);
	if (r == 0) {
		note(p->formed_why, sizeof(p->formed_why), &p->formed,
		     "'%s' answers with a member list of cluster_id=%s", url,
		     etcd_id_hex(l.cluster_id, id));
		if (p->answer != CLUSTER_ANSWERS && p->answer != CLUSTER_CONFLICT) {
			p->answer = CLUSTER_ANSWERS;
			p->members = l;
			snprintf(p->answered_at, sizeof(p->answered_at), "%s", url);
			return true;
		}
		if (l.cluster_id != p->members.cluster_id && p->answer != CLUSTER_CONFLICT) {
			char other[ETCD_ID_STR_MAX];

			p->answer = CLUSTER_CONFLICT;
			snprintf(p->why, sizeof(p->why),
			         "'%s' answers for cluster_id=%s and '%s' for cluster_id=%s",
			         p->answered_at, etcd_id_hex(p->members.cluster_id, id), url,
			         etcd_id_hex(l.cluster_id, other));
		}
		etcd_member_list_free(&l);
		return true;
	}
	if (err.etcd_code >= 0) {
		/* An etcd that serves its client port is ready: its cluster formed. */
		note(p->formed_why, sizeof(p->formed_why), &p->formed,
		     "'%s' is an etcd that answers: %s", url, err.msg);
		if (strstr(err.msg, "cannot log in"))
			note(p->login_why, sizeof(p->login_why), &p->login_failed, "%s", err.msg);
		return true;
	}
	/* Too slow to answer is not silence: something may be there (a loaded or partitioned
	 * etcd), and nothing is decided on its silence. Refused, unreachable: nobody there.
	 * One exception: etcd serves its client port only once its cluster formed, so the
	 * client port of an etcd bootstrapping this very set's cluster is mute. Its peer port
	 * must say so before and after the timeout, with the cluster ID this set's bootstrap
	 * gives: data restored from a snapshot has other IDs, or is caught replaying its log
	 * (a restart on data lists the members unstarted for an instant at most). */
	if (r == -ETIMEDOUT && !(ex && still_bootstrapping(http, ex, timeout_ms, p))) {
		if (p->answer == CLUSTER_NONE) {
			p->answer = CLUSTER_UNREADABLE;
			snprintf(p->why, sizeof(p->why),
			         "%s (no answer in time: cannot tell whether a cluster is there)",
			         err.msg);
		}
		return false;
	}
	if (silent_error(r)) {
		if (p->answer == CLUSTER_NONE && !p->why[0])
			snprintf(
			        p->why, sizeof(p->why), "%s%s", err.msg,
			        r == -ETIMEDOUT
			                ? " (its peer port says, before and after, that its etcd bootstraps this set's cluster)"
			                : "");
		return false;
	}
	if (p->answer == CLUSTER_NONE) {
		p->answer = CLUSTER_UNREADABLE;
		snprintf(p->why, sizeof(p->why), "%s", err.msg);
	}
	return true;
}

/* Ask one peer port; fold the outcome into p. *ret_cluster_id: its X-Etcd-Cluster-Id, 0
 * when none or not an ID. */
static enum peer_heard ask_peer(struct http_client *http, const char *peer_url, uint64_t timeout_ms,
                                struct cluster_probe *p, uint64_t *ret_cluster_id)
{
	struct http_response resp = {0};
	char *url = NULL, detail[ERROR_MSG_MAX];
	enum peer_heard h;
	struct deadline d;
	struct error err;
	int r;

	*ret_cluster_id = 0;
	error_clear(&err);
	deadline_init(&d, timeout_ms);
	if (asprintf(&url, "%s/members", peer_url) < 0)
		return PEER_SILENT;
	r = http_request(http, "GET", url, NULL, &d, &resp, &err);
	free(url);
	if (r < 0 && silent_error(r))
		return PEER_SILENT;
	if (r < 0) {
		h = PEER_UNREADABLE;
		snprintf(detail, sizeof(detail), "%s", err.msg);
	} else {
		h = cluster_parse_peer_answer(resp.status, resp.body, resp.len, detail,
		                              sizeof(detail));
		if (resp.etcd_cluster_id[0] && (h == PEER_FORMED || h == PEER_BOOTSTRAPPING))
			appendf(detail, sizeof(detail), " (cluster %s)", resp.etcd_cluster_id);
		*ret_cluster_id = header_id(resp.etcd_cluster_id);
	}
	http_response_free(&resp);
	if (h == PEER_UNREADABLE)
		note(p->peer_unreadable_why, sizeof(p->peer_unreadable_why), &p->peer_unreadable,
		     "'%s': %s", peer_url, detail);
	if (h == PEER_FORMED || h == PEER_HAS_DATA)
		note(p->formed_why, sizeof(p->formed_why), &p->formed, "peer '%s': %s", peer_url,
		     detail);
	return h;
}

int cluster_probe(struct http_client *http, const struct cluster_probe_opts *o,
                  struct cluster_probe *ret)
{
	uint64_t timeout = o->call_timeout_ms ? o->call_timeout_ms : DEFAULT_CALL_TIMEOUT_MS;
	unsigned bound = cluster_ordinal_bound(o->ep, o->ordinal, o->initial_size, o->replicas);
	unsigned hear_below = o->initial_size > o->replicas ? o->initial_size : o->replicas;
	struct cluster_probe p = {.answer = CLUSTER_NONE};
	char *copy = o->extra ? strdup(o->extra) : NULL, *save = NULL;
	/* the pods found bootstrapping this set's cluster: their addresses and peer URLs */
	struct {
		uint32_t addr[4];
		size_t n_addr;
		char *peer;
	} booting[16];
	size_t n_booting = 0;
	int r = 0;

	if (o->extra && !copy)
		return -ENOMEM;
	for (unsigned i = 0; i < bound; i++) {
		char *host, *client = NULL, *peer = NULL;
		bool heard = false, must = i < hear_below;

		if (i == o->ordinal)
			continue;
		p.must_hear += must;
		host = endpoints_host(o->ep, i);
		if (!host) {
			r = -ENOMEM;
			goto out;
		}
		if (host_resolves(host)) {
			client = endpoints_client_url(o->ep, i);
			peer = endpoints_peer_url(o->ep, i);
			if (!client || !peer) {
				free(host), free(client), free(peer);
				r = -ENOMEM;
				goto out;
			}
			/* the peer port first: it tells a bootstrapping etcd, whose client port
			 * takes connections and answers nothing until its cluster formed */
			uint64_t cid = 0;
			enum peer_heard h =
			        o->peers ? ask_peer(http, peer, timeout, &p, &cid) : PEER_SILENT;
			struct excuse ex = {.peer_url = peer,
			                    .cluster_id = o->bootstrap_cluster_id};
			bool ours = h == PEER_BOOTSTRAPPING && o->bootstrap_cluster_id &&
			            cid == o->bootstrap_cluster_id;

			heard = ask_client(http, client, timeout, ours ? &ex : NULL, &p) ||
			        (h != PEER_SILENT && h != PEER_UNREADABLE);
			if (ours && n_booting < sizeof(booting) / sizeof(booting[0])) {
				booting[n_booting].n_addr =
				        url_addrs(client, booting[n_booting].addr, 4);
				booting[n_booting++].peer = peer;
				peer = NULL;
			}
		}
		if (must && heard)
			p.heard++;
		else if (must)
			appendf(p.silent, sizeof(p.silent), "%s%s", p.silent[0] ? ", " : "", host);
		free(host);
		free(client);
		free(peer);
	}
	/* The other client URLs (--endpoints) last: one that leads to a pod found
	 * bootstrapping gets the same excuse (a Service's address does not: cannot tell). */
	for (char *u = copy ? strtok_r(copy, ",", &save) : NULL; u;
	     u = strtok_r(NULL, ",", &save)) {
		uint32_t addrs[4];
		size_t n = url_addrs(u, addrs, 4);
		struct excuse ex = {.cluster_id = o->bootstrap_cluster_id};

		for (size_t b = 0; b < n_booting && !ex.peer_url; b++)
			for (size_t k = 0; k < booting[b].n_addr && !ex.peer_url; k++)
				for (size_t a = 0; a < n && !ex.peer_url; a++)
					if (booting[b].addr[k] == addrs[a])
						ex.peer_url = booting[b].peer;
		ask_client(http, u, timeout, ex.peer_url ? &ex : NULL, &p);
	}
out:
	free(copy);
	for (size_t b = 0; b < n_booting; b++)
		free(booting[b].peer);
	if (r < 0)
		cluster_probe_free(&p);
	else
		*ret = p;
	return r;
}

void cluster_probe_free(struct cluster_probe *p)
{
	if (!p)
		return;
	etcd_member_list_free(&p->members);
}

int cluster_leader_view(struct http_client *http, const struct etcd_member_list *members,
                        const char *url, const struct deadline *d, struct etcd_status *ret_status,
                        struct etcd_member_list *ret_list, struct error *err)
{
	struct etcd_status st, lst;
	struct etcd_client *c = NULL;
	int r;

	r = etcd_status_get(http, url, d, &st, err);
	if (r < 0)
		return r;
	if (!st.leader)
		return error_set(err, -ENOENT, "'%s' knows no leader", url);
	for (size_t i = 0; i < members->n_members; i++) {
		const struct etcd_member *m = &members->members[i];

		if (m->id != st.leader)
			continue;
		if (!m->n_client_urls)
			break;
		r = etcd_status_get(http, m->client_urls[0], d, &lst, err);
		if (r == 0 && lst.leader != m->id)
			r = error_set(err, -ENOENT, "'%s' does not lead any more",
			              m->client_urls[0]);
		if (r == 0)
			r = etcd_client_new(http, (const char *const *)m->client_urls,
			                    m->n_client_urls, &c, err);
		if (r == 0)
			r = etcd_member_list(c, d, ret_list, err);
		etcd_client_free(c);
		if (r == 0)
			*ret_status = lst;
		return r;
	}
	return error_set(err, -ENOENT, "the leader named by '%s' has no client URL in the list",
	                 url);
}

int cluster_leader_says(struct http_client *http, const struct etcd_member_list *list,
                        uint64_t leader_id, uint64_t cluster_id, uint64_t member_id,
                        const struct deadline *d, enum etcd_peer_says *ret, struct error *err)
{
	enum etcd_peer_says leader_says = ETCD_PEER_SAYS_MEMBER;
	bool leader_answered = false;

	error_set(err, -ENOENT, "the leader has no peer URL in the member list");
	/* The leader first, then the others: a member's "removed member" is its cluster's
	 * word whoever says it (etcd adds an ID to its removed set only on applying the
	 * committed removal, and never takes it out); any other answer counts only from the
	 * leader, as a follower may lag. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < list->n_members; i++) {
			const struct etcd_member *m = &list->members[i];

			if ((m->id == leader_id) != (pass == 0))
				continue;
			for (size_t u = 0; u < m->n_peer_urls; u++) {
				struct error e;
				enum etcd_peer_says says;

				error_clear(&e);
				if (etcd_peer_says(http, m->peer_urls[u], cluster_id, member_id, d,
				                   &says, &e) < 0) {
					if (pass == 0 && !leader_answered)
						*err = e;
					continue;
				}
				if (says == ETCD_PEER_SAYS_REMOVED) {
					*ret = says;
					return 0;
				}
				if (pass == 0 && !leader_answered) {
					leader_answered = true;
					leader_says = says;
				}
				break;
			}
		}
	}
	if (!leader_answered)
		return err->code;
	*ret = leader_says;
	return 0;
}
