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

static struct join_decision quarantine(const char *tag, const char *reason)
{
	struct join_decision d = act(JOIN_QUARANTINE, reason);

	d.tag = tag;
	return d;
}

static struct join_decision decide_valid(const struct join_input *in)
{
	if (in->tombstoned)
		return quarantine("left", "a tombstone says etcd-leave removed the member of this "
		                          "data dir: move the data aside and join as new");
	switch (in->cluster) {
	case JOIN_CLUSTER_UNKNOWN:
		return act(JOIN_PROBE, "the data dir holds member data: asking the cluster "
		                       "whether this member still belongs to it");
	case JOIN_CLUSTER_NONE:
		return act(JOIN_RESTART, "the data dir holds member data and no cluster answers: "
		                         "restart, etcd rejoins when its peers return");
	case JOIN_CLUSTER_ANSWERS:
		break;
	}
	if (in->me == JOIN_ME_SAME)
		return act(JOIN_RESTART, "the data dir holds this member's data and the cluster "
		                         "lists it: restart");
	return quarantine("removed", "the cluster does not list the member ID and cluster ID "
	                             "of the data dir (removed, or a stale volume): move the data "
	                             "aside and join again");
}

static struct join_decision decide_empty(const struct join_input *in)
{
	switch (in->cluster) {
	case JOIN_CLUSTER_UNKNOWN:
		return act(JOIN_PROBE, "the data dir is empty: asking the cluster first");
	case JOIN_CLUSTER_NONE:
		if (in->initial_size == 0)
			return refuse(EXIT_USAGE, "the data dir is empty, no cluster answers and "
			                          "INITIAL_CLUSTER_SIZE is not set: cannot tell "
			                          "whether this member bootstraps");
		if (in->ordinal < in->initial_size && !in->formed)
			return act(JOIN_BOOTSTRAP, "the data dir is empty, this is an initial "
			                           "member, its cluster never formed and no "
			                           "cluster answers: bootstrap");
		return act(JOIN_WAIT,
		           in->formed ? "the data dir is empty but this member's cluster formed "
		                        "before: waiting for the cluster, never bootstrapping again"
		                      : "the data dir is empty and this is not an initial member: "
		                        "waiting for the cluster to answer");
	case JOIN_CLUSTER_ANSWERS:
		break;
	}
	switch (in->me) {
	case JOIN_ME_UNSTARTED:
		return act(JOIN_REUSE, "the cluster lists this member's peer URL as not started: "
		                       "start as that member");
	case JOIN_ME_STARTED:
	case JOIN_ME_SAME:
		return act(JOIN_REPLACE, "the cluster lists this member as started but the data "
		                         "dir is empty (volume lost): remove the old member and "
		                         "add it again");
	case JOIN_ME_ABSENT:
		break;
	}
	return act(JOIN_ADD, "the data dir is empty and this member is not in the cluster: add "
	                     "it");
}

struct join_decision join_decide(const struct join_input *in)
{
	switch (in->data) {
	case DATADIR_IN_USE:
		return refuse(EXIT_REFUSED, "another etcd holds the data dir; refusing to start a "
		                            "second one on it");
	case DATADIR_PARTIAL:
		return quarantine("partial", "the data dir holds partial or unreadable data: move "
		                             "it aside, then start as with an empty one");
	case DATADIR_VALID:
		return decide_valid(in);
	case DATADIR_EMPTY:
		break;
	}
	return decide_empty(in);
}

const char *join_action_name(enum join_action a)
{
	static const char *const names[] = {
	        [JOIN_RESTART] = "restart", [JOIN_BOOTSTRAP] = "bootstrap",
	        [JOIN_REUSE] = "reuse",     [JOIN_ADD] = "add",
	        [JOIN_REPLACE] = "replace", [JOIN_QUARANTINE] = "quarantine",
	        [JOIN_PROBE] = "probe",     [JOIN_WAIT] = "wait",
	        [JOIN_REFUSE] = "refuse",
	};

	return names[a];
}

bool join_remove_keeps_quorum(unsigned voters, unsigned healthy_others, bool target_is_voter)
{
	unsigned left = target_is_voter ? voters - 1 : voters;

	if (voters == 0 || left == 0)
		return false;
	return healthy_others >= left / 2 + 1;
}
