/* etcd-join's decision as a pure function of what it saw: the data dir, whether a cluster
 * answers, this member's entry in the live member list, its ordinal, the initial size and
 * whether this member's cluster ever formed. See design.md "etcd-join: the decision". The
 * program calls it again after each step (probe, quarantine) until the action is final. */
#pragma once

#include "datadir.h"
#include "etcd.h"
#include "quarantine.h"
#include "settings.h"
#include "wal.h"

#include <stdbool.h>
#include <stdint.h>

enum join_cluster {
	JOIN_CLUSTER_UNKNOWN,    /* not asked yet */
	JOIN_CLUSTER_NONE,       /* no client port answered: refused, timed out, no name */
	JOIN_CLUSTER_ANSWERS,    /* a member list */
	JOIN_CLUSTER_UNREADABLE, /* an answer without a readable member list: never decide on
	                          * it as if nobody answered */
	JOIN_CLUSTER_CONFLICT,   /* two client ports name different clusters */
};

/* For valid data that the answering cluster does not list: may that cluster say this member
 * was removed? Only the data's own cluster can: the same cluster ID, a leader, and a raft
 * log not behind the data's (a cluster bootstrapped again beside it starts from nothing). */
enum join_vouch {
	JOIN_VOUCH_UNKNOWN,       /* not asked yet */
	JOIN_VOUCH_YES,           /* its leader, with the data's cluster ID and log, does not
	                           * list this member: it was removed */
	JOIN_VOUCH_LISTED,        /* its leader lists this member after all */
	JOIN_VOUCH_NO_LEADER,     /* no leader answers */
	JOIN_VOUCH_OTHER_CLUSTER, /* the leader's cluster ID is not the data's */
	JOIN_VOUCH_BEHIND,        /* the leader's raft index is below the data's commit index */
	JOIN_VOUCH_NEVER_HAD,     /* the leader's peer port never had this member ID: a cluster
	                           * bootstrapped again with the same IDs, not the data's own */
	JOIN_VOUCH_CANNOT_TELL,   /* the leader's peer port gave no readable answer */
};

/* What the leader's peer port says about the data's member ID (etcd.h etcd_peer_says), or
 * that it gave no readable answer. */
enum join_peer_word {
	JOIN_PEER_REMOVED = ETCD_PEER_SAYS_REMOVED,
	JOIN_PEER_MEMBER = ETCD_PEER_SAYS_MEMBER,
	JOIN_PEER_UNKNOWN = ETCD_PEER_SAYS_UNKNOWN,
	JOIN_PEER_OTHER_CLUSTER = ETCD_PEER_SAYS_OTHER_CLUSTER,
	JOIN_PEER_NO_ANSWER,
};

enum join_me {
	JOIN_ME_ABSENT,    /* no member has my peer URL (nor my WAL's member ID) */
	JOIN_ME_UNSTARTED, /* a member has my peer URL but never started */
	JOIN_ME_STARTED,   /* a started member has my peer URL, but not my data's ID */
	JOIN_ME_SAME,      /* my data's member ID and cluster ID are in the list */
};

struct join_input {
	enum datadir_state data;
	unsigned ordinal;
	unsigned initial_size; /* 0: not configured */
	enum join_cluster cluster;
	enum join_me me; /* meaningful when cluster == JOIN_CLUSTER_ANSWERS */
	/* This member's cluster formed before: the cluster marker says so, a client port
	 * answers, a peer port lists started members, or a peer's etcd-join reports member
	 * data. An empty data dir is then never bootstrapped again. */
	bool formed;
	/* Every peer an empty initial member must hear from (cluster.h) answered. */
	bool peers_heard;
	/* The bootstrap wait (--bootstrap-wait) for silent peers is over. */
	bool bootstrap_wait_over;
	/* Every initial member's name resolves (etcd resolves them once, at its start). */
	bool initial_names_resolve;
	/* A peer port answered what cannot be read. */
	bool peer_unreadable;
	/* meaningful for valid data the answering cluster does not list */
	enum join_vouch vouch;
	/* etcd-leave removed the member of this data dir (its tombstone says "removed" with
	 * the WAL's member ID). */
	bool tombstoned;
};

enum join_action {
	JOIN_RESTART,    /* valid data: exec etcd, touch nothing */
	JOIN_BOOTSTRAP,  /* exec etcd with --initial-cluster-state new */
	JOIN_REUSE,      /* my peer URL is an unstarted member: start as it, existing */
	JOIN_ADD,        /* member add (learner where supported), then start existing */
	JOIN_REPLACE,    /* remove my started member (quorum-guarded), then as JOIN_ADD */
	JOIN_QUARANTINE, /* move the data dir aside, then decide again with it empty */
	JOIN_PROBE,      /* ask the cluster first, then decide again */
	JOIN_CONFIRM,    /* ask the leader whether it removed this member, then decide again */
	JOIN_WAIT,       /* wait (bounded) for the cluster to answer, then decide again */
	JOIN_WAIT_PEERS, /* wait (bounded) to hear from every initial peer, then again */
	JOIN_REFUSE,     /* exit with decision.exit_code and decision.reason */
};

struct join_decision {
	enum join_action action;
	int exit_code;           /* for JOIN_REFUSE */
	const char *reason;      /* one sentence for the log */
	enum quarantine_tag tag; /* for JOIN_QUARANTINE: why */
};

/* Decide. Never returns JOIN_BOOTSTRAP unless the data dir is empty, the cluster was asked
 * and no client port answered, nothing shows that a cluster formed, no peer answered what
 * cannot be read, this is an initial member whose peers' names resolve, and every peer was
 * heard from or the bootstrap wait is over. Never moves valid data aside unless a tombstone
 * or the data's own cluster (JOIN_VOUCH_YES) says the member was removed. */
struct join_decision join_decide(const struct join_input *in);

/* "restart", "bootstrap", "reuse", "add", "replace", "quarantine", "probe", "confirm",
 * "wait", "wait-peers", "refuse". */
const char *join_action_name(enum join_action a);

/* The verdict on the leader's answer (JOIN_VOUCH_*) for data of data_cluster_id whose WAL
 * committed up to data_commit (UINT64_MAX: unknown): no leader; another cluster ID; a raft
 * log behind the data's (whether or not it lists the member: a cluster bootstrapped again
 * repeats the initial IDs; an unknown position counts as behind only for a member it does
 * not list); listed; and else the word of its peer port, where only "removed" (an ID this
 * very cluster removed) says yes, and "a member" while the list says no is "cannot tell".
 * Pure. */
enum join_vouch join_vouch_of(bool has_leader, uint64_t leader_cluster_id,
                              uint64_t leader_raft_index, bool leader_lists_me,
                              enum join_peer_word peer, uint64_t data_cluster_id,
                              uint64_t data_commit);

/* True when removing one member keeps quorum: `voters` voting members now, `healthy_others`
 * of them healthy other than the target, `target_is_voter` whether the target votes. The
 * remaining healthy voters must be a majority of the voters left, and someone must remain. */
bool join_remove_keeps_quorum(unsigned voters, unsigned healthy_others, bool target_is_voter);

/* Where this member is in the live member list: its data's member ID in the data's cluster
 * (wal NULL: no WAL of valid data), else a member with its peer URL, started or not. Pure. */
enum join_me join_find_me(const struct etcd_member_list *list, const char *my_peer_url,
                          const struct wal_metadata *wal);

/* ---- etcd-clean's default mode (the initContainer): what becomes of the data dir ---- */

struct clean_input {
	enum datadir_state data;
	bool tombstoned;    /* the tombstone says etcd-leave removed this data's member */
	bool is_link;       /* the data dir is a symlink (never followed) */
	bool link_dangling; /* ... to nothing */
};

enum clean_action {
	CLEAN_KEEP,            /* usable: empty, or valid member data (exit 0) */
	CLEAN_MOVE_PARTIAL,    /* move aside, tag "partial" */
	CLEAN_MOVE_LEFT,       /* move aside, tag "left" (the tombstone etcd-leave wrote) */
	CLEAN_REFUSE_IN_USE,   /* a running etcd holds it: touch nothing (exit 3) */
	CLEAN_REFUSE_SYMLINK,  /* it would be moved, but it is a symlink (exit 3) */
	CLEAN_REFUSE_DANGLING, /* a symlink to nothing: etcd cannot use it (exit 3) */
};

/* The verdict, pure. Valid data is never moved on the marker's word alone (another
 * cluster ID in the marker keeps it: only its own cluster, which etcd-join asks, can say
 * it was removed); a WAL that could not be read is decided before (nothing). */
enum clean_action clean_decide(const struct clean_input *in);

/* ---- etcd-leave: does this pod leave for good? ---- */

enum leave_why {
	LEAVE_WHY_POLICY,       /* never / always: the policy alone */
	LEAVE_WHY_REPLICAS,     /* the ordinal against the StatefulSet's replicas */
	LEAVE_WHY_SCALED_TO_0,  /* replicas 0: a whole-cluster stop, everyone stays */
	LEAVE_WHY_DELETED,      /* the StatefulSet is being deleted: everyone stays */
	LEAVE_WHY_FORBIDDEN,    /* the service account may not read it: stays, exit 1 */
	LEAVE_WHY_UNKNOWN,      /* the replicas could not be read: stays, exit 1 */
	LEAVE_WHY_INITIAL_SIZE, /* above-initial: the ordinal against INITIAL_CLUSTER_SIZE */
	LEAVE_WHY_NO_SIZE,      /* above-initial without INITIAL_CLUSTER_SIZE: stays, exit 2 */
};

struct leave_input {
	enum leave_policy policy;
	unsigned ordinal;
	unsigned initial_size; /* 0: unset */
	/* The read of the StatefulSet's replicas (policies auto and scale-down): 0, -ENOENT
	 * (being deleted), -EACCES (forbidden), -ENXIO (no Kubernetes API: no service
	 * account), another negative errno (could not tell). */
	int sts_read;
	unsigned replicas; /* when sts_read == 0 */
};

struct leave_verdict {
	bool leave;
	int exit_code; /* 0, or EXIT_FAILED / EXIT_USAGE: the member stays */
	enum leave_why why;
	bool fell_back;        /* policy auto without a Kubernetes API: above-initial */
	unsigned leaving_from; /* the first ordinal that leaves (~0u: only this one) */
};

/* Whether the policy needs the StatefulSet's replicas (in->sts_read) at all. */
bool leave_needs_replicas(enum leave_policy p);

/* The verdict, pure. "Could not tell" keeps the member: only a pod without any Kubernetes
 * API falls back from auto to the ordinal rule; scale-down never does. */
struct leave_verdict leave_decide(const struct leave_input *in);
