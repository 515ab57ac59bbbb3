#include "decide.h"

#include "exitcode.h"

#include <errno.h>

static struct join_decision act(enum join_action a, const char *reason)
{
	return (struct join_decision){.action = a, .exit_code = EXIT_DONE, .reason = reason};
}

static struct join_decision refuse(int exit_code, const char *reason)
{
	return (struct join_decision){
	        .action = JOIN_REFUSE, .exit_code = exit_code, .reason = reason};
}

static struct join_decision quarantine(enum quarantine_tag tag, const char *reason)
{
	struct join_decision d = act(JOIN_QUARANTINE, reason);

	d.tag = tag;
	return d;
}

#define BEHIND_REASON                                                                              \
	"the cluster that answers has the data's cluster ID but a raft log behind the data's: "    \
	"it was bootstrapped again beside this member, or restored from a snapshot since (split "  \
	"brain suspected); keeping the data (if the cluster was restored on purpose, move this "   \
	"data aside by hand: etcd-clean --quarantine)"

/* Valid data whose member ID and cluster ID the cluster lists: restart, unless its leader's
 * log is behind the data's (a cluster bootstrapped again repeats the initial IDs). */
static struct join_decision decide_listed(const struct join_input *in)
{
	switch (in->vouch) {
	case JOIN_VOUCH_UNKNOWN:
		return act(
		        JOIN_CONFIRM,
		        "the cluster lists this member: asking its leader how far its log went before this data restarts in it");
	case JOIN_VOUCH_BEHIND:
		return refuse(EXIT_REFUSED, BEHIND_REASON);
	case JOIN_VOUCH_OTHER_CLUSTER:
	case JOIN_VOUCH_NEVER_HAD:
		return refuse(
		        EXIT_REFUSED,
		        "the leader of the cluster that answers is not of this data's cluster (split brain suspected); keeping the data");
	case JOIN_VOUCH_NO_LEADER:
		return act(
		        JOIN_RESTART,
		        "the data dir holds this member's data and the cluster lists it (no leader now): restart, which moves nothing");
	case JOIN_VOUCH_YES:
	case JOIN_VOUCH_LISTED:
	case JOIN_VOUCH_CANNOT_TELL:
		break;
	}
	return act(JOIN_RESTART,
	           "the data dir holds this member's data and the cluster lists it: restart");
}

static struct join_decision decide_valid(const struct join_input *in)
{
	if (in->tombstoned)
		return quarantine(
		        QUARANTINE_LEFT,
		        "a tombstone says etcd-leave removed the member of this data dir from its cluster: move the data aside and join as new");
	switch (in->cluster) {
	case JOIN_CLUSTER_UNKNOWN:
		return act(
		        JOIN_PROBE,
		        "the data dir holds member data: asking the cluster whether this member still belongs to it");
	case JOIN_CLUSTER_NONE:
		return act(
		        JOIN_RESTART,
		        "the data dir holds member data and no cluster answers: restart, etcd rejoins when its peers return");
	case JOIN_CLUSTER_UNREADABLE:
		return act(
		        JOIN_RESTART,
		        "the data dir holds member data and the cluster's answer cannot be read: restart on the data, which moves nothing");
	case JOIN_CLUSTER_CONFLICT:
		return refuse(
		        EXIT_REFUSED,
		        "two clusters answer (split brain suspected): keeping the data and refusing to decide between them");
	case JOIN_CLUSTER_ANSWERS:
		break;
	}
	if (in->me == JOIN_ME_SAME)
		return decide_listed(in);
	switch (in->vouch) {
	case JOIN_VOUCH_UNKNOWN:
		break;
	case JOIN_VOUCH_YES:
		return quarantine(
		        QUARANTINE_REMOVED,
		        "the leader of the data's own cluster (same cluster ID, a log not behind the data's) does not list this member: it was removed; move the data aside and join again");
	case JOIN_VOUCH_LISTED:
		return act(JOIN_RESTART, "the leader lists this member after all: restart");
	case JOIN_VOUCH_NO_LEADER:
		return act(
		        JOIN_WAIT,
		        "the cluster that answers does not list this member and has no leader to confirm it: waiting, the data stays");
	case JOIN_VOUCH_OTHER_CLUSTER:
		return refuse(
		        EXIT_REFUSED,
		        "the cluster that answers is not the one this data belongs to (split brain suspected): keeping the data; see the cluster IDs above");
	case JOIN_VOUCH_BEHIND:
		return refuse(EXIT_REFUSED, BEHIND_REASON);
	case JOIN_VOUCH_NEVER_HAD:
		return refuse(
		        EXIT_REFUSED,
		        "the cluster that answers has the data's cluster ID but never had this member: it was bootstrapped again beside it (split brain suspected); keeping the data");
	case JOIN_VOUCH_CANNOT_TELL:
		return act(
		        JOIN_WAIT,
		        "the cluster that answers does not list this member and its leader's peer port does not say it was removed: waiting, the data stays");
	}
	return act(
	        JOIN_CONFIRM,
	        "the cluster does not list this member's data (member ID and cluster ID): asking its leader before anything is moved");
}

/* Empty data dir, no client port answers: bootstrap only on positive evidence. */
static struct join_decision decide_bootstrap(const struct join_input *in)
{
	if (in->formed)
		return act(
		        JOIN_WAIT,
		        "the data dir is empty but this member's cluster formed before: waiting for the cluster, never bootstrapping again");
	if (in->initial_size == 0)
		return refuse(
		        EXIT_USAGE,
		        "the data dir is empty, no cluster answers and INITIAL_CLUSTER_SIZE is not set: cannot tell whether this member bootstraps");
	if (in->ordinal >= in->initial_size)
		return act(
		        JOIN_WAIT,
		        "the data dir is empty and this is not an initial member: waiting for the cluster to answer");
	if (in->peer_unreadable)
		return act(
		        JOIN_WAIT,
		        "a peer port answers what cannot be read: waiting, never bootstrapping without knowing what it holds");
	if (!in->peers_heard && !in->bootstrap_wait_over)
		return act(
		        JOIN_WAIT_PEERS,
		        "the data dir is empty and no cluster answers, but not every peer was heard from: waiting for them (one restarting on its data may be slow to start)");
	if (!in->initial_names_resolve)
		return act(
		        JOIN_WAIT_PEERS,
		        "the data dir is empty and this is an initial member, but not every initial peer's name resolves yet");
	if (!in->peers_heard)
		return act(
		        JOIN_BOOTSTRAP,
		        "the data dir is empty, no cluster answers, nothing shows that one formed, and the silent peers did not answer within the bootstrap wait: bootstrap");
	return act(
	        JOIN_BOOTSTRAP,
	        "the data dir is empty, no cluster answers, every peer was heard from and none holds data of a formed cluster: bootstrap");
}

static struct join_decision decide_empty(const struct join_input *in)
{
	switch (in->cluster) {
	case JOIN_CLUSTER_UNKNOWN:
		return act(JOIN_PROBE, "the data dir is empty: asking the cluster first");
	case JOIN_CLUSTER_CONFLICT:
		return refuse(
		        EXIT_REFUSED,
		        "two clusters answer (split brain suspected): refusing to join either");
	case JOIN_CLUSTER_UNREADABLE:
		return act(
		        JOIN_WAIT,
		        "a server answers what cannot be read, or does not answer in time: waiting, never bootstrapping on an answer that cannot be read");
	case JOIN_CLUSTER_NONE:
		return decide_bootstrap(in);
	case JOIN_CLUSTER_ANSWERS:
		break;
	}
	switch (in->me) {
	case JOIN_ME_UNSTARTED:
		return act(
		        JOIN_REUSE,
		        "the cluster lists this member's peer URL as not started: start as that member");
	case JOIN_ME_STARTED:
	case JOIN_ME_SAME:
		return act(
		        JOIN_REPLACE,
		        "the cluster lists this member as started but the data dir is empty (volume lost): remove the old member and add it again");
	case JOIN_ME_ABSENT:
		break;
	}
	return act(JOIN_ADD, "the data dir is empty and this member is not in the cluster: add it");
}

struct join_decision join_decide(const struct join_input *in)
{
	switch (in->data) {
	case DATADIR_IN_USE:
		return refuse(
		        EXIT_REFUSED,
		        "another etcd holds the data dir; refusing to start a second one on it");
	case DATADIR_PARTIAL:
		return quarantine(
		        QUARANTINE_PARTIAL,
		        "the data dir holds partial or unreadable data: move it aside, then start as with an empty one");
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
	        [JOIN_PROBE] = "probe",     [JOIN_CONFIRM] = "confirm",
	        [JOIN_WAIT] = "wait",       [JOIN_WAIT_PEERS] = "wait-peers",
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

enum join_vouch join_vouch_of(bool has_leader, uint64_t leader_cluster_id,
                              uint64_t leader_raft_index, bool leader_lists_me,
                              enum join_peer_word peer, uint64_t data_cluster_id,
                              uint64_t data_commit)
{
	/* A peer port that knows the member while the list does not: a moment between the
	 * two (a leader change, a removal not applied yet); ask again. */
	static const enum join_vouch words[] = {
	        [JOIN_PEER_NO_ANSWER] = JOIN_VOUCH_CANNOT_TELL,
	        [JOIN_PEER_REMOVED] = JOIN_VOUCH_YES,
	        [JOIN_PEER_MEMBER] = JOIN_VOUCH_CANNOT_TELL,
	        [JOIN_PEER_UNKNOWN] = JOIN_VOUCH_NEVER_HAD,
	        [JOIN_PEER_OTHER_CLUSTER] = JOIN_VOUCH_OTHER_CLUSTER,
	};

	if (!has_leader)
		return JOIN_VOUCH_NO_LEADER;
	if (leader_cluster_id != data_cluster_id)
		return JOIN_VOUCH_OTHER_CLUSTER;
	/* The data's log position unknown (UINT64_MAX): listed data restarts, which moves
	 * nothing, as it did before the log was compared; unlisted data is never moved aside
	 * on a guess. */
	if (leader_lists_me)
		return data_commit != UINT64_MAX && leader_raft_index < data_commit
		               ? JOIN_VOUCH_BEHIND
		               : JOIN_VOUCH_LISTED;
	if (leader_raft_index < data_commit)
		return JOIN_VOUCH_BEHIND;
	return words[peer];
}

enum clean_action clean_decide(const struct clean_input *in)
{
	enum clean_action move;

	if (in->data == DATADIR_IN_USE)
		return CLEAN_REFUSE_IN_USE;
	if (in->data == DATADIR_PARTIAL)
		move = CLEAN_MOVE_PARTIAL;
	else if (in->data == DATADIR_VALID && in->tombstoned)
		move = CLEAN_MOVE_LEFT;
	else
		return in->is_link && in->link_dangling ? CLEAN_REFUSE_DANGLING : CLEAN_KEEP;
	return in->is_link ? CLEAN_REFUSE_SYMLINK : move;
}

enum join_me join_find_me(const struct etcd_member_list *list, const char *my_peer_url,
                          const struct wal_metadata *wal)
{
	const struct etcd_member *m = etcd_member_find_peer_url(list, my_peer_url);

	if (wal && wal->cluster_id == list->cluster_id)
		for (size_t i = 0; i < list->n_members; i++)
			if (list->members[i].id == wal->member_id)
				return JOIN_ME_SAME;
	if (!m)
		return JOIN_ME_ABSENT;
	return etcd_member_started(m) ? JOIN_ME_STARTED : JOIN_ME_UNSTARTED;
}

bool leave_needs_replicas(enum leave_policy p)
{
	return p == LEAVE_POLICY_AUTO || p == LEAVE_POLICY_SCALE_DOWN;
}

struct leave_verdict leave_decide(const struct leave_input *in)
{
	struct leave_verdict v = {.why = LEAVE_WHY_POLICY};

	if (in->policy == LEAVE_POLICY_NEVER)
		return v;
	if (in->policy == LEAVE_POLICY_ALWAYS)
		return (struct leave_verdict){
		        .leave = true, .why = LEAVE_WHY_POLICY, .leaving_from = ~0u};
	if (leave_needs_replicas(in->policy)) {
		if (in->sts_read == 0 && in->replicas == 0)
			return (struct leave_verdict){.why = LEAVE_WHY_SCALED_TO_0};
		if (in->sts_read == 0)
			return (struct leave_verdict){.leave = in->ordinal >= in->replicas,
			                              .why = LEAVE_WHY_REPLICAS,
			                              .leaving_from = in->replicas};
		if (in->sts_read == -ENOENT)
			return (struct leave_verdict){.why = LEAVE_WHY_DELETED};
		if (in->sts_read == -EACCES)
			return (struct leave_verdict){.exit_code = EXIT_FAILED,
			                              .why = LEAVE_WHY_FORBIDDEN};
		if (in->sts_read != -ENXIO || in->policy == LEAVE_POLICY_SCALE_DOWN)
			return (struct leave_verdict){.exit_code = EXIT_FAILED,
			                              .why = LEAVE_WHY_UNKNOWN};
		v.fell_back = true;
	}
	if (!in->initial_size) {
		v.exit_code = EXIT_USAGE;
		v.why = LEAVE_WHY_NO_SIZE;
		return v;
	}
	v.why = LEAVE_WHY_INITIAL_SIZE;
	v.leave = in->ordinal >= in->initial_size;
	v.leaving_from = in->initial_size;
	return v;
}
