/* etcd-join's decision as a pure function of what it saw: the data dir, whether a cluster
 * answers, this member's entry in the live member list, its ordinal, the initial size and
 * whether this member's cluster ever formed. See design.md "etcd-join: the decision". The
 * program calls it again after each step (probe, quarantine) until the action is final. */
#pragma once

#include "datadir.h"

#include <stdbool.h>

enum join_cluster {
	JOIN_CLUSTER_UNKNOWN, /* not asked yet */
	JOIN_CLUSTER_NONE,    /* no endpoint answered with a member list */
	JOIN_CLUSTER_ANSWERS,
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
	/* This member's cluster formed before: the cluster marker says so, or a peer reports
	 * this member as started. An empty data dir is then never bootstrapped again. */
	bool formed;
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
	JOIN_WAIT,       /* wait (bounded) for the cluster to answer, then decide again */
	JOIN_REFUSE,     /* exit with decision.exit_code and decision.reason */
};

struct join_decision {
	enum join_action action;
	int exit_code;      /* for JOIN_REFUSE */
	const char *reason; /* one sentence for the log */
	const char *tag;    /* for JOIN_QUARANTINE: a word naming why ("partial", "removed") */
};

/* Decide. Never returns JOIN_BOOTSTRAP unless the cluster was asked, nobody answered, this
 * is an initial member and its cluster never formed. */
struct join_decision join_decide(const struct join_input *in);

/* "restart", "bootstrap", "reuse", "add", "replace", "quarantine", "probe", "wait",
 * "refuse". */
const char *join_action_name(enum join_action a);

/* True when removing one member keeps quorum: `voters` voting members now, `healthy_others`
 * of them healthy other than the target, `target_is_voter` whether the target votes. The
 * remaining healthy voters must be a majority of the voters left, and someone must remain. */
bool join_remove_keeps_quorum(unsigned voters, unsigned healthy_others, bool target_is_voter);
