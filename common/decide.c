#include "decide.h"

#include "exitcode.h"

static struct join_decision act(enum join_action a, const char *reason)
{
	return (struct join_decision){.action = a, .exit_code = EXIT_DONE, .reason = reason};
}

static struct join_decision refuse(int exit_code, const char *reason)
{
	return (struct join_decision){
	        .action = JOIN_REFUSE, .exit_code = exit_code, .reason = reason};
}

struct join_decision join_decide(const struct join_input *in)
{
	switch (in->data) {
	case DATADIR_IN_USE:
		return refuse(EXIT_REFUSED, "another etcd holds the data dir; refusing to start a "
		                            "second one on it");
	case DATADIR_PARTIAL:
		return refuse(EXIT_REFUSED,
		              "the data dir holds partial or unreadable data; this version does "
		              "not move data aside yet: inspect it and move it away by hand");
	case DATADIR_VALID:
		return act(JOIN_RESTART, "the data dir holds this member's data: restart, etcd "
		                         "rejoins its cluster");
	case DATADIR_EMPTY:
		break;
	}

	if (in->initial_size == 0)
		return refuse(EXIT_USAGE, "the data dir is empty and INITIAL_CLUSTER_SIZE is not "
		                          "set: cannot tell whether this member bootstraps");
	if (in->cluster == JOIN_CLUSTER_UNKNOWN)
		return act(JOIN_PROBE, "the data dir is empty: asking the cluster first");
	if (in->cluster == JOIN_CLUSTER_NONE) {
		if (in->ordinal < in->initial_size)
			return act(JOIN_BOOTSTRAP, "the data dir is empty, this is an initial "
			                           "member and no cluster answers: bootstrap");
		return refuse(EXIT_REFUSED,
		              "the data dir is empty, this member is not an initial member and no "
		              "cluster answers; it cannot join a cluster that does not answer, "
		              "and bootstrapping it alone would form a second cluster");
	}
	switch (in->me) {
	case JOIN_ME_UNSTARTED:
		return act(JOIN_REUSE, "the cluster lists this member as not started yet: start "
		                       "it as that member");
	case JOIN_ME_STARTED:
		return refuse(EXIT_REFUSED,
		              "the cluster lists this member as started but the data dir is empty "
		              "(volume lost?); replacing a member is not implemented yet, and "
		              "bootstrapping would form a second cluster");
	case JOIN_ME_ABSENT:
		break;
	}
	return refuse(EXIT_REFUSED, "a cluster answers and this member is not in it; joining a "
	                            "running cluster is not implemented yet, and bootstrapping "
	                            "would form a second cluster");
}

const char *join_action_name(enum join_action a)
{
	static const char *const names[] = {
	        [JOIN_RESTART] = "restart", [JOIN_BOOTSTRAP] = "bootstrap", [JOIN_REUSE] = "reuse",
	        [JOIN_PROBE] = "probe",     [JOIN_REFUSE] = "refuse",
	};

	return names[a];
}
