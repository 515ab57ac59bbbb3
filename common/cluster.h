/* Talking to the cluster from a pod: the probe every decision starts from, and the leader's
 * view that confirms a destructive step.
 *
 * The probe asks every pod the StatefulSet may have, not only the initial members: the
 * ordinals below max(INITIAL_CLUSTER_SIZE, spec.replicas, this ordinal + 1) and every
 * further one whose name resolves. On each it asks the client port for the member list and,
 * for a bootstrap decision, the peer port too: a peer port answers even without quorum
 * (`/members`), and while a peer's etcd-join waits it answers there for its member
 * (beacon.h). What it cannot read is never taken for "nobody answers": an HTML page, a
 * member list that does not parse, a TLS failure, an oversized body make the answer
 * CLUSTER_UNREADABLE, and two client ports that name different clusters make it
 * CLUSTER_CONFLICT. */
#pragma once

#include "endpoints.h"
#include "error.h"
#include "etcd.h"
#include "http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cluster_answer {
	CLUSTER_NONE,       /* no client port answered: every one refused, timed out, or its
	                     * name does not resolve */
	CLUSTER_ANSWERS,    /* a member list, and no other cluster's */
	CLUSTER_UNREADABLE, /* something answered, but no member list could be read from it */
	CLUSTER_CONFLICT,   /* two client ports gave member lists of different clusters */
};

/* What a peer port said (GET <peer URL>/members). */
enum peer_heard {
	PEER_SILENT,        /* no answer: refused, timed out, or the name does not resolve */
	PEER_UNREADABLE,    /* an answer that is neither etcd's nor etcd-join's */
	PEER_EMPTY,         /* its etcd-join: an empty data dir that never was in a cluster */
	PEER_HAS_DATA,      /* its etcd-join: member data, or a marker of a formed cluster */
	PEER_BOOTSTRAPPING, /* its etcd: a member list in which no member has started yet */
	PEER_FORMED,        /* its etcd: a member list with started members */
};

struct cluster_probe_opts {
	const struct endpoints *ep;
	unsigned ordinal;      /* this member's: not asked */
	unsigned initial_size; /* 0: not configured */
	unsigned replicas;     /* the StatefulSet's spec.replicas, 0: unknown */
	const char *extra;     /* comma-separated client URLs asked first, may be NULL */
	bool peers;            /* ask the peer ports too (the bootstrap evidence) */
	/* The cluster ID this set's bootstrap gives (etcd_bootstrap_cluster_id()), 0: not
	 * known. Only with it does a timeout of a client URL whose peer port says its etcd
	 * bootstraps that very cluster count as silence. */
	uint64_t bootstrap_cluster_id;
	uint64_t call_timeout_ms;
};

struct cluster_probe {
	enum cluster_answer answer;
	struct etcd_member_list members; /* ANSWERS and CONFLICT: the first list read */
	char answered_at[256];           /* the client URL that gave it */
	char why[ERROR_MSG_MAX];         /* NONE, UNREADABLE, CONFLICT: what was seen */
	/* Evidence that a cluster formed: a client port that answers (etcd serves it only
	 * once its cluster formed), a peer port listing started members, or a peer's etcd-join
	 * reporting member data or a marker. */
	bool formed;
	char formed_why[ERROR_MSG_MAX];
	/* A login that failed (a wrong password, an unknown user): etcd answers, so a cluster
	 * formed, but this member cannot talk to it. */
	bool login_failed;
	char login_why[ERROR_MSG_MAX];
	/* Peer ports that answered what cannot be read (never bootstrap on them). */
	bool peer_unreadable;
	char peer_unreadable_why[ERROR_MSG_MAX];
	/* The peers an empty initial member must hear from before it bootstraps: every ordinal
	 * below max(initial size, replicas) but this one. `silent` names those not heard. */
	unsigned must_hear, heard;
	char silent[ERROR_MSG_MAX];
	unsigned asked; /* client URLs asked */
};

/* Probe as described above. Fills *ret (free with cluster_probe_free()); returns 0, or
 * -ENOMEM. Network failures are not errors: they are what the probe reports. */
int cluster_probe(struct http_client *http, const struct cluster_probe_opts *o,
                  struct cluster_probe *ret);
void cluster_probe_free(struct cluster_probe *p);

/* How many ordinals to ask: max(initial_size, replicas, ordinal + 1), then one more for each
 * further name that resolves (a pod that the StatefulSet still has). */
unsigned cluster_ordinal_bound(const struct endpoints *ep, unsigned ordinal, unsigned initial_size,
                               unsigned replicas);

/* Decode a peer port's answer to GET /members: etcd's JSON array (started members have
 * client URLs; my_peer_url, may be NULL, is named in *detail when listed as started), or
 * etcd-join's 503 {"etcd-hooks": {"data": ..., "formed": ...}}. Pure. detail gets one
 * line for the log. */
enum peer_heard cluster_parse_peer_answer(long status, const char *body, size_t len, char *detail,
                                          size_t size);

/* The leader's own view: the status of the member at `url` names the leader; the leader's
 * status and member list follow, from its client URLs in `members`. Returns 0 with both,
 * -ENOENT when no leader is known, or another negative errno (err says which call). */
int cluster_leader_view(struct http_client *http, const struct etcd_member_list *members,
                        const char *url, const struct deadline *d, struct etcd_status *ret_status,
                        struct etcd_member_list *ret_list, struct error *err);

/* What the cluster of list says on its peer ports about member_id of cluster_id
 * (etcd_peer_says()): ETCD_PEER_SAYS_REMOVED, that cluster's own word that the member was
 * removed, from any member (the leader, member leader_id, first); else the leader's own
 * answer. Returns 0 and *ret, or a negative errno when the leader gave no answer and no
 * member said "removed". */
int cluster_leader_says(struct http_client *http, const struct etcd_member_list *list,
                        uint64_t leader_id, uint64_t cluster_id, uint64_t member_id,
                        const struct deadline *d, enum etcd_peer_says *ret, struct error *err);

/* "empty", "silent", ...: the word for a peer's answer in the log. */
const char *cluster_peer_heard_name(enum peer_heard h);
