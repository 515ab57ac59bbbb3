/* etcd-join's decision as a pure function of what it saw: the data dir, whether a cluster
 * answers, this member's entry in the live member list, its ordinal and the initial size.
 * See design.md "etcd-join: the decision". */
#pragma once

#include "datadir.h"

enum join_cluster {
	JOIN_CLUSTER_UNKNOWN, /* not asked yet */
	JOIN_CLUSTER_NONE,    /* no endpoint answered with a member list */
	JOIN_CLUSTER_ANSWERS,
};

enum join_me {
	JOIN_ME_ABSENT,    /* no member has my peer URL */
	JOIN_ME_UNSTARTED, /* a member has my peer URL but never started */
	JOIN_ME_STARTED,   /* a started member has my peer URL */
};

struct join_input {
	enum datadir_state data;
	unsigned ordinal;
	unsigned initial_size; /* 0: not configured */
	enum join_cluster cluster;
	enum join_me me; /* meaningful when cluster == JOIN_CLUSTER_ANSWERS */
};

enum join_action {
	JOIN_RESTART,   /* valid data: exec etcd, touch nothing */
	JOIN_BOOTSTRAP, /* exec etcd with --initial-cluster-state new */
	JOIN_REUSE,     /* my member was added (or bootstrapped) but never started: existing */
	JOIN_PROBE,     /* ask the cluster first, then decide again */
	JOIN_REFUSE,    /* exit with decision.exit_code and decision.reason */
};

struct join_decision {
	enum join_action action;
	int exit_code;      /* for JOIN_REFUSE */
	const char *reason; /* one sentence for the log */
};

/* Decide. Never returns JOIN_BOOTSTRAP unless the cluster was asked and nobody answered. */
struct join_decision join_decide(const struct join_input *in);

/* "restart", "bootstrap", "reuse", "probe", "refuse". */
const char *join_action_name(enum join_action a);
