/* The etcd v3 JSON gateway client: the /version probe and the URL prefix it implies
 * (/v3beta on 3.3, /v3 from 3.4), member list, maintenance status, and the decoding of both
 * error-body formats. IDs are uint64 and travel as decimal strings in both directions. The
 * etcd_parse_* functions are pure (recorded responses in, structs out); the others call
 * the network. */
#pragma once

#include "clock.h"
#include "error.h"
#include "http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* gRPC status codes that etcd's gateway reports and that we act on. */
enum etcd_grpc_code {
	ETCD_CODE_UNKNOWN = 2,
	ETCD_CODE_INVALID_ARGUMENT = 3,
	ETCD_CODE_NOT_FOUND = 5,
	ETCD_CODE_PERMISSION_DENIED = 7,
	ETCD_CODE_FAILED_PRECONDITION = 9,
	ETCD_CODE_UNAVAILABLE = 14,
	ETCD_CODE_UNAUTHENTICATED = 16,
};

#define ETCD_ID_STR_MAX 21 /* 20 digits of UINT64_MAX + NUL */

struct etcd_version {
	char server[32];  /* "3.4.23" */
	char cluster[32]; /* "3.4.0", or "not_decided" before the cluster agreed */
	unsigned major, minor;
};

struct etcd_member {
	uint64_t id;
	char *name; /* "" for an added member that has not started */
	char **peer_urls;
	size_t n_peer_urls;
	char **client_urls;
	size_t n_client_urls;
	bool is_learner;
};

struct etcd_member_list {
	uint64_t cluster_id;
	uint64_t member_id; /* the member that answered */
	struct etcd_member *members;
	size_t n_members;
};

struct etcd_status {
	char version[32];
	uint64_t cluster_id;
	uint64_t member_id;
	uint64_t leader; /* 0: no leader */
	uint64_t raft_index;
	uint64_t raft_term;
	uint64_t db_size;
	uint64_t revision; /* header.revision, 0 when absent */
	bool is_learner;
};

/* Parse a decimal uint64 ID ("16978214052474010073"); strict, no sign or spaces.
 * Returns 0, -EINVAL or -ERANGE. */
int etcd_id_parse(const char *s, uint64_t *ret);
/* The member ID etcd gives a member of a new cluster (--initial-cluster-state new): the
 * first 8 bytes, big-endian, of the SHA-1 of its peer URLs (sorted, joined) followed by
 * the cluster token (etcd's computeMemberID). One peer URL per member here. */
uint64_t etcd_bootstrap_member_id(const char *peer_url, const char *token);
/* The cluster ID of a new cluster of these members: the first 8 bytes of the SHA-1 of their
 * IDs, sorted, each 8 bytes big-endian (etcd's genID). Sorts ids in place. */
uint64_t etcd_bootstrap_cluster_id(uint64_t *ids, size_t n);

/* Write id as decimal into buf (ETCD_ID_STR_MAX bytes); returns buf. The gateway's JSON
 * and our own files (marker, tombstone, beacon) hold IDs this way. */
char *etcd_id_format(uint64_t id, char *buf);

/* Write id the way etcdctl and etcd's own log show it, lower-case hex without a prefix
 * ("8e9e05c52164694d"), into buf (ETCD_ID_STR_MAX bytes); returns buf. Every message of
 * the four programs names a member or cluster ID this way. */
char *etcd_id_hex(uint64_t id, char *buf);

/* Decode a /version body. Returns 0 or -EBADMSG with the reason in err. */
int etcd_parse_version(const char *body, size_t len, struct etcd_version *ret, struct error *err);
/* The gateway prefix for a server version: "/v3alpha" (3.2), "/v3beta" (3.3), "/v3". */
const char *etcd_api_prefix(const struct etcd_version *v);

/* Decode a member/list (or member/add, member/remove) response. Returns 0 or -EBADMSG.
 * Free with etcd_member_list_free(). */
int etcd_parse_member_list(const char *body, size_t len, struct etcd_member_list *ret,
                           struct error *err);
void etcd_member_list_free(struct etcd_member_list *l);
/* True when m has this peer URL. */
bool etcd_member_has_peer_url(const struct etcd_member *m, const char *peer_url);
/* The member with this peer URL, or NULL. */
const struct etcd_member *etcd_member_find_peer_url(const struct etcd_member_list *l,
                                                    const char *peer_url);
/* True when the member has started: it has published its client URLs. (Its name is not
 * enough: initial members have their --initial-cluster names before they start.) */
bool etcd_member_started(const struct etcd_member *m);

/* Decode a maintenance/status response. Returns 0 or -EBADMSG. */
int etcd_parse_status(const char *body, size_t len, struct etcd_status *ret, struct error *err);

/* Turn a failed response (any status >= 300, or a 200 whose body is not what was asked)
 * into err: the 3.4/3.5 body {"error","message","code"}, the 3.6 body {"code","message"},
 * a text/plain or HTML page, an empty or truncated body. Sets err->http_status and
 * err->etcd_code (-1 when the body carried none). Always returns a negative errno:
 * -EAGAIN for code 14 (unavailable), -ENOENT for 5, -EACCES for 7 and 16, -EINVAL for 3,
 * -EBUSY for 9, -EREMOTEIO for other codes and non-etcd error pages, and -EBADMSG for a
 * 2xx response whose body is not what was asked. */
int etcd_parse_error(long http_status, const char *content_type, const char *body, size_t len,
                     struct error *err);

/* A client of one cluster, reached through a list of client URLs (with failover). */
struct etcd_client;

/* The URLs are copied. Returns 0 or a negative errno. Free with etcd_client_free(). */
int etcd_client_new(struct http_client *http, const char *const *urls, size_t n,
                    struct etcd_client **ret, struct error *err);
void etcd_client_free(struct etcd_client *c);
/* The client URL that answered last. */
const char *etcd_client_current(const struct etcd_client *c);

/* GET /version at one client URL. Returns 0 or a negative errno. */
int etcd_version_get(struct http_client *http, const char *url, const struct deadline *d,
                     struct etcd_version *ret, struct error *err);

/* POST <prefix>/<path> to the first endpoint that answers (probing /version once per
 * endpoint for the prefix). A transport failure or code 14 (unavailable, e.g. a learner or
 * no leader) moves on to the next endpoint; rounds repeat with backoff until d passes.
 * Other etcd errors return at once. On success *ret_body holds the 2xx JSON body (owned).
 * When the HTTP client has a user (http_client_set_login()), it logs in before the first
 * call (a cluster without auth is remembered and asked no more), and once more when etcd
 * says the token expired (code 16) or that a token is needed ("user name is empty"). */
int etcd_call(struct etcd_client *c, const char *path, const char *body, const struct deadline *d,
              char **ret_body, struct error *err);

/* Log in: POST auth/authenticate with user and password, and send the token on every later
 * call of this client's HTTP client. The password is not kept. Returns 0, or a negative
 * errno with etcd's reason (wrong password or unknown user: -EINVAL, code 3). */
int etcd_client_login(struct etcd_client *c, const char *user, const char *password,
                      const struct deadline *d, struct error *err);

/* Decode a peer-port GET /members body: a JSON array whose IDs are bare numbers that may
 * exceed INT64_MAX, so IDs are not decoded (0); names and URLs are. Returns 0 or -EBADMSG. */
int etcd_parse_peer_members(const char *body, size_t len, struct etcd_member_list *ret,
                            struct error *err);

/* The "added" member of a member/add response (its ID), plus the full list. Pure. */
int etcd_parse_member_add(const char *body, size_t len, uint64_t *ret_id,
                          struct etcd_member_list *ret_list, struct error *err);

/* A v3 snapshot of the backend (maintenance/snapshot, streamed through the gateway) from
 * the client's current endpoint, written to fd: the db followed by its 32-byte SHA-256, as
 * etcdctl snapshot save writes it, the hash checked against the db as it came. A db of at
 * most max_bytes, within timeout_ms (clipped to d; the writes are synced every 8 MiB and
 * the deadline checked then). Returns 0 and the bytes written, or a negative errno: the
 * stream's own error, -EFBIG, -ETIMEDOUT, -EBADMSG (cut short, a hash that does not
 * match). Logs in first when a user is set (it needs root with auth on). */
int etcd_snapshot(struct etcd_client *c, const struct deadline *d, uint64_t timeout_ms, int fd,
                  uint64_t max_bytes, uint64_t *ret_bytes, struct error *err);

/* The decoding of etcd_snapshot(), pure but for the writes: a whole snapshot stream (body)
 * written to fd; its db at most max_bytes. Returns 0 and the bytes written (the db and its
 * hash), or -EBADMSG (not the stream; cut short before the db's end or its hash; a hash that
 * does not match), -EFBIG, the stream's own error (an {"error":...} line), a write's errno. */
int etcd_snapshot_decode(const char *body, size_t len, int fd, uint64_t max_bytes,
                         uint64_t *ret_bytes, struct error *err);

/* member/list through etcd_call(). */
int etcd_member_list(struct etcd_client *c, const struct deadline *d, struct etcd_member_list *ret,
                     struct error *err);

/* member/add of one peer URL, as a learner when asked. On success *ret_id is the new
 * member's ID and *ret_list the list after the add (free it). Errors as etcd_call(). */
int etcd_member_add(struct etcd_client *c, const char *peer_url, bool learner,
                    const struct deadline *d, uint64_t *ret_id, struct etcd_member_list *ret_list,
                    struct error *err);

/* member/remove by ID. -ENOENT (code 5) means the member is not there (already removed). */
int etcd_member_remove(struct etcd_client *c, uint64_t id, const struct deadline *d,
                       struct error *err);

/* member/promote by ID. -EBUSY (code 9) while the learner is not in sync, or for a voter. */
int etcd_member_promote(struct etcd_client *c, uint64_t id, const struct deadline *d,
                        struct error *err);

/* maintenance/status of the member at one client URL (no failover: the answer is about
 * that member). Returns 0 or a negative errno. */
int etcd_status_get(struct http_client *http, const char *url, const struct deadline *d,
                    struct etcd_status *ret, struct error *err);

/* GET <peer_url>/members on a peer port, which answers even while the cluster has no
 * quorum. Returns 0 and the list (IDs 0), or a negative errno. */
int etcd_peer_members(struct http_client *http, const char *peer_url, const struct deadline *d,
                      struct etcd_member_list *ret, struct error *err);

/* What a member's peer port says about another member ID, from its raft stream handler
 * (GET <peer URL>/raft/stream/message/<ID in hex>, with the cluster ID and version headers
 * a peer sends, and an X-Raft-To that never matches, so that no stream is ever attached).
 * Verified on etcd 3.3 to 3.7: 410 "removed member" only for an ID this very cluster
 * removed (it keeps the removed IDs for good), 404 "error sender not found" for an ID it
 * never had, 412 "to field mismatch" for a current member, 412 "cluster ID mismatch" for
 * another cluster. Only the first is a cluster's own word that a member was removed. */
enum etcd_peer_says {
	ETCD_PEER_SAYS_REMOVED,
	ETCD_PEER_SAYS_MEMBER,
	ETCD_PEER_SAYS_UNKNOWN,
	ETCD_PEER_SAYS_OTHER_CLUSTER,
};

/* Decode that answer. Returns 0 and *ret, or -EBADMSG for anything else. Pure. */
int etcd_parse_peer_says(long http_status, const char *body, size_t len, enum etcd_peer_says *ret,
                         struct error *err);

/* Ask the member at peer_url (its /version first, for the version headers) about member_id
 * of cluster_id. The answer must carry cluster_id in X-Etcd-Cluster-Id (another one for
 * ETCD_PEER_SAYS_OTHER_CLUSTER). Returns 0 and *ret, or a negative errno (no answer, or one
 * that cannot be read or is nobody's). */
int etcd_peer_says(struct http_client *http, const char *peer_url, uint64_t cluster_id,
                   uint64_t member_id, const struct deadline *d, enum etcd_peer_says *ret,
                   struct error *err);

/* GET /health at one client URL: 1 when it says {"health":"true"}, 0 when it answers
 * anything else, or a negative errno when it does not answer. */
int etcd_health(struct http_client *http, const char *url, const struct deadline *d,
                struct error *err);

/* True when err is an etcd answer that means "try again later": code 14 (unhealthy cluster,
 * no leader, not supported for learner), code 2 "not enough started members", or code 9
 * "too many learner members". */
bool etcd_error_transient(const struct error *err);

/* True when err is etcd's "Peer URLs already exists": the member was added already. */
bool etcd_error_peer_exists(const struct error *err);

/* maintenance/transfer-leadership to target, sent to the leader's client URL (etcd does not
 * forward it). Returns 0, or a negative errno (-EBUSY "not leader" or "bad leader
 * transferee", code 9). */
int etcd_move_leader(struct http_client *http, const char *leader_url, uint64_t target,
                     const struct deadline *d, struct error *err);
