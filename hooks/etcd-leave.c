/*
 * etcd-leave: lifecycle.preStop of the etcd container.
 *
 * preStop runs when the pod is deleted: for a rolling restart, a node drain, or a
 * scale-down. Only the last means "this member goes away for good", and only then does
 * etcd-leave remove it from the cluster: by policy, the StatefulSet's desired replicas (read
 * from the Kubernetes API) or the classic ordinal rule. Before removing it refuses to break
 * quorum or remove the last member, and moves leadership away if this member leads. It
 * records its intent (a tombstone) before the remove call, because a removed etcd exits at
 * once and the kubelet then kills this hook; whatever it does not finish, the next
 * etcd-join or etcd-clean completes. Everything is bounded by one deadline, below the
 * pod's grace period, and every run is safe to repeat.
 */
#include "cli.h"
#include "clock.h"
#include "cluster.h"
#include "datadir.h"
#include "decide.h"
#include "endpoints.h"
#include "etcd.h"
#include "exitcode.h"
#include "http.h"
#include "identity.h"
#include "kube.h"
#include "log.h"
#include "membership.h"
#include "quarantine.h"
#include "settings.h"
#include "state.h"
#include "wal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS (20 * 1000)
#define CALL_TIMEOUT_MS    1000
/* The leader's view, which confirms that this member is gone from its own cluster. */
#define CONFIRM_TIMEOUT_MS 2000
#define KUBE_TIMEOUT_MS    3000
/* How long a leadership transfer may take before we remove anyway (etcd: ~0.1 s). */
#define TRANSFER_TIMEOUT_MS 3000
/* A quorum check that fails is made again every SAFE_RETRY_MS, until SAFE_RESERVE_MS before
 * the deadline: what the snapshot, the transfer and the removal need after it. */
#define SAFE_RETRY_MS        1000
#define SAFE_RESERVE_MS      8000
#define PROGRESS_INTERVAL_MS 5000

enum {
	OPT_POLICY = 1000,
};

struct leave {
	struct settings s;
	struct identity id;
	struct endpoints ep;
	struct deadline deadline;
	enum leave_policy policy;
	struct error policy_err; /* a bad --policy, for its message */
	struct http_client *http;
	struct etcd_client *cluster;
	struct etcd_member_list members;
	/* Pods from this ordinal up are going away too (the policy's threshold): never hand
	 * leadership to one of them. */
	unsigned leaving_from;
	uint64_t my_id, cluster_id;
	uint64_t my_leader; /* the leader as this member's etcd sees it, 0: unknown */
	char *my_peer_url;
	char local_client[64];
	char why[512]; /* the policy's verdict, as logged */
};

/* Log the policy's verdict and keep it for a dry run's answer. */
static void verdict(struct leave *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void verdict(struct leave *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->why, sizeof(l->why), fmt, ap);
	va_end(ap);
	log_msg(LOG_INFO, "%s", l->why);
}

static const enum setting_key uses[] = {CLI_USES_CLUSTER, SETTING_QUARANTINE_KEEP, SETTING_TIMEOUT,
                                        SETTING_DRY_RUN,  SETTING_DEBUG,           SETTING_KEY_END};

static const struct cli_help own_help[] = {
        {"policy", "POLICY",
         "when to leave: scale-down, above-initial, always, never, auto (the default: scale-down where the Kubernetes API answers, else above-initial)",
         "ETCD_HOOKS_LEAVE_POLICY"},
};

static int on_option(int c, const char *arg, void *ctx, const char **ret_msg)
{
	struct leave *l = ctx;

	switch (c) {
	case OPT_POLICY:
		if (settings_leave_policy_parse(arg, "--policy", &l->policy, &l->policy_err) < 0) {
			*ret_msg = l->policy_err.msg;
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

/* Does this pod leave for good? Returns 1 (leave), 0 (stay) or an exit code as negative.
 * "Could not tell" keeps the member: the fallback to the ordinal rule is only for a pod that
 * has no Kubernetes API at all (no service account). */
static int should_leave(struct leave *l)
{
	const char *policy = settings_leave_policy_name(l->policy);
	struct leave_input in = {.policy = l->policy,
	                         .ordinal = l->id.ordinal,
	                         .initial_size = l->s.initial_cluster_size};
	struct leave_verdict v;
	struct deadline d;
	struct error err;

	error_clear(&err);
	if (leave_needs_replicas(l->policy)) {
		deadline_init_within(&d, KUBE_TIMEOUT_MS, &l->deadline);
		in.sts_read = kube_statefulset_replicas(l->s.sa_dir, l->s.namespace, l->id.set_name,
		                                        &d, &in.replicas, &err);
	}
	v = leave_decide(&in);
	l->leaving_from = v.leaving_from;
	if (v.fell_back)
		log_msg(LOG_INFO, "policy auto: no Kubernetes API here (%s): using above-initial",
		        err.msg);
	switch (v.why) {
	case LEAVE_WHY_POLICY:
		verdict(l, "policy %s: this member %s", policy, v.leave ? "leaves" : "stays");
		break;
	case LEAVE_WHY_SCALED_TO_0:
		/* Scaled to zero: the whole cluster stops. Removing members one by one would
		 * dismantle it; they stay and come back with their data. */
		verdict(l,
		        "policy %s: the StatefulSet is scaled to 0, a whole-cluster stop: this member stays",
		        policy);
		break;
	case LEAVE_WHY_REPLICAS:
		verdict(l,
		        "policy %s: the StatefulSet wants %u replicas and this is ordinal %u: %s",
		        policy, in.replicas, l->id.ordinal,
		        v.leave ? "scale-down, this member leaves"
		                : "this pod comes back, the member stays");
		break;
	case LEAVE_WHY_DELETED:
		verdict(l,
		        "policy %s: %s: the StatefulSet is being deleted, the whole cluster stops: this member stays",
		        policy, err.msg);
		break;
	case LEAVE_WHY_FORBIDDEN:
		log_msg(LOG_WARNING,
		        "policy %s: %s: the pod's service account may not read its StatefulSet; grant it a Role with verb 'get' on 'statefulsets' (resourceNames '%s') in namespace '%s'; this member stays",
		        policy, err.msg, l->id.set_name, l->s.namespace);
		break;
	case LEAVE_WHY_UNKNOWN:
		log_msg(LOG_WARNING,
		        "policy %s: %s; not removing this member without knowing the desired replicas: this member stays",
		        policy, err.msg);
		break;
	case LEAVE_WHY_NO_SIZE:
		log_msg(LOG_FATAL,
		        "policy above-initial needs INITIAL_CLUSTER_SIZE; not removing this member");
		break;
	case LEAVE_WHY_INITIAL_SIZE:
		verdict(l, "policy above-initial: ordinal %u, initial cluster size %u: %s",
		        l->id.ordinal, l->s.initial_cluster_size,
		        v.leave ? "this member leaves" : "this member stays");
		break;
	}
	return v.exit_code ? -v.exit_code : v.leave;
}

/* This member's ID and cluster: from its own etcd, else from its WAL. */
static int find_identity(struct leave *l)
{
	struct etcd_status st;
	struct wal_metadata wal;
	struct deadline d;
	struct error err;

	error_clear(&err);
	deadline_init(&d, CALL_TIMEOUT_MS);
	if (etcd_status_get(l->http, l->local_client, &d, &st, &err) == 0) {
		l->my_id = st.member_id;
		l->cluster_id = st.cluster_id;
		l->my_leader = st.leader;
		return 0;
	}
	log_msg(LOG_INFO, "this member's etcd does not answer (%s): reading the WAL", err.msg);
	error_clear(&err);
	if (wal_read_metadata(l->s.data_dir, &wal, &err) == 0) {
		l->my_id = wal.member_id;
		l->cluster_id = wal.cluster_id;
		return 0;
	}
	log_msg(LOG_FATAL, "cannot tell this member's ID: %s", err.msg);
	return EXIT_FAILED;
}

/* A client of the other members (by ordinal, and --endpoints), and the member list. Only a
 * list of this member's own cluster counts: another cluster's says nothing about it.
 * Returns 0 or an exit code. */
static int read_members(struct leave *l)
{
	char **urls = NULL, **more, a[ETCD_ID_STR_MAX], b[ETCD_ID_STR_MAX];
	unsigned bound;
	struct deadline d;
	struct error err;
	size_t n = 0;
	int r;

	error_clear(&err);
	bound = cluster_ordinal_bound(&l->ep, l->id.ordinal, l->s.initial_cluster_size,
	                              l->leaving_from != ~0u ? l->leaving_from : 0);
	if (endpoints_other_client_urls(&l->ep, l->id.ordinal, bound, l->s.endpoints, &urls, &n) <
	    0)
		return EXIT_FAILED;
	/* This member's own etcd last: it can answer too, but it is the one leaving. */
	more = realloc(urls, (n + 1) * sizeof(*urls));
	if (!more || !(more[n] = strdup(l->local_client))) {
		endpoints_free_urls(more ? more : urls, n);
		return EXIT_FAILED;
	}
	urls = more;
	n++;
	/* Time for every endpoint once: hung members first must not hide the healthy ones. */
	deadline_init_within(&d, (n + 1) * CALL_TIMEOUT_MS, &l->deadline);
	/* With a user set, the first call logs in (etcd.h): a failed login fails it. */
	r = etcd_client_new(l->http, (const char *const *)urls, n, &l->cluster, &err);
	if (r == 0)
		r = etcd_member_list(l->cluster, &d, &l->members, &err);
	endpoints_free_urls(urls, n);
	if (r < 0) {
		log_msg(LOG_FATAL, "cannot read the member list: %s", err.msg);
		return EXIT_FAILED;
	}
	if (l->members.cluster_id != l->cluster_id) {
		log_msg(LOG_FATAL,
		        "refusing to leave: the cluster that answers at '%s' is cluster_id=%s, this member belongs to cluster_id=%s (split brain suspected, or a wrong --endpoints); no tombstone written, nothing moved",
		        etcd_client_current(l->cluster), etcd_id_hex(l->members.cluster_id, a),
		        etcd_id_hex(l->cluster_id, b));
		return EXIT_REFUSED;
	}
	return 0;
}

/* Is this member gone from its own cluster, as that cluster's leader sees it? True only on
 * a positive answer: the leader of this member's cluster ID lists members, not this one. */
static bool leader_confirms_gone(struct leave *l)
{
	struct etcd_member_list list = {0};
	struct etcd_status st = {0};
	struct deadline d;
	struct error err;
	bool gone = false;

	error_clear(&err);
	deadline_init_within(&d, CONFIRM_TIMEOUT_MS, &l->deadline);
	for (size_t i = 0; i < l->members.n_members; i++) {
		const struct etcd_member *m = &l->members.members[i];

		if (m->id == l->my_id || !m->n_client_urls)
			continue;
		if (cluster_leader_view(l->http, &l->members, m->client_urls[0], &d, &st, &list,
		                        &err) == 0)
			break;
	}
	if (list.n_members && st.cluster_id == l->cluster_id) {
		enum etcd_peer_says says = ETCD_PEER_SAYS_MEMBER;

		gone = true;
		for (size_t i = 0; i < list.n_members; i++)
			gone = gone && list.members[i].id != l->my_id;
		/* Not listed is not enough: only its peer port's "removed member" is this very
		 * cluster's word that it removed this member ID. */
		error_clear(&err);
		if (gone && (cluster_leader_says(l->http, &list, st.member_id, l->cluster_id,
		                                 l->my_id, &d, &says, &err) < 0 ||
		             says != ETCD_PEER_SAYS_REMOVED)) {
			gone = false;
			if (!err.msg[0])
				snprintf(err.msg, sizeof(err.msg), "%s",
				         "not listed, but no peer port says it was removed");
		}
	}
	if (!gone)
		log_msg(LOG_WARNING,
		        "the leader of this member's cluster does not confirm that it is gone%s%s",
		        err.msg[0] ? ": " : "", err.msg);
	etcd_member_list_free(&list);
	return gone;
}

static const struct etcd_member *find_member(const struct leave *l, uint64_t id)
{
	for (size_t i = 0; i < l->members.n_members; i++)
		if (l->members.members[i].id == id)
			return &l->members.members[i];
	return NULL;
}

/* Refuse what would break the cluster: the last member, or quorum. Also find the voter
 * furthest ahead to hand leadership to. Returns 0, or EXIT_REFUSED with the reason in why
 * (*ret_final: it will not change by waiting). */
static int check_safety(struct leave *l, uint64_t *ret_successor, uint64_t *ret_leader, char *why,
                        size_t size, bool *ret_final)
{
	struct membership_survey sv;

	*ret_successor = 0;
	*ret_leader = 0;
	*ret_final = false;
	if (l->members.n_members <= 1) {
		snprintf(why, size, "refusing to remove the last member of the cluster");
		*ret_final = true;
		return EXIT_REFUSED;
	}
	/* The successor: the healthy voter furthest ahead in the raft log, among those that
	 * stay. */
	membership_survey(l->http, &l->members, l->my_id,
	                  &(struct membership_survey_opts){.call_timeout_ms = CALL_TIMEOUT_MS,
	                                                   .run = &l->deadline,
	                                                   .statuses = true,
	                                                   .set_name = l->id.set_name,
	                                                   .stays_below = l->leaving_from},
	                  &sv);
	*ret_successor = sv.successor;
	*ret_leader = sv.leader;
	return membership_removal_check(&sv, "leave", why, size);
}

/* The member list and this member's leader read again. Returns 0 or an exit code. */
static int reread(struct leave *l)
{
	struct etcd_status st;
	struct deadline d;

	etcd_client_free(l->cluster);
	l->cluster = NULL;
	etcd_member_list_free(&l->members);
	deadline_init_within(&d, CALL_TIMEOUT_MS, &l->deadline);
	if (etcd_status_get(l->http, l->local_client, &d, &st, NULL) == 0 &&
	    st.cluster_id == l->cluster_id)
		l->my_leader = st.leader;
	else
		l->my_leader = 0;
	return read_members(l);
}

/* check_safety() again while the voters are not healthy enough: a leader election or a
 * member that just started is over in seconds. Until SAFE_RESERVE_MS before the deadline,
 * the time the removal itself needs; then the refusal stands. */
static int wait_safe(struct leave *l, uint64_t *ret_successor, uint64_t *ret_leader)
{
	struct log_progress progress;
	char why[ERROR_MSG_MAX];
	bool final;
	int r;

	log_progress_start(&progress, PROGRESS_INTERVAL_MS);
	for (bool first = true;; first = false) {
		const struct etcd_member *me = find_member(l, l->my_id);
		uint64_t t0 = clock_now_ms();

		if (!me) {
			log_msg(LOG_FATAL,
			        "this member is not in the member list read again: nothing done");
			return EXIT_FAILED;
		}
		r = check_safety(l, ret_successor, ret_leader, why, sizeof(why), &final);
		/* Another round only if it still leaves the reserve, as long as this one took. */
		if (r == 0 || final ||
		    deadline_left_ms(&l->deadline) <
		            SAFE_RESERVE_MS + SAFE_RETRY_MS + (clock_now_ms() - t0))
			break;
		if (first || log_progress_due(&progress))
			log_progress_msg(
			        &progress, &l->deadline,
			        "not yet: %s; asking again until %.0fs before the deadline", why,
			        SAFE_RESERVE_MS / 1000.0);
		clock_sleep_ms(SAFE_RETRY_MS);
		/* The members and the leader as they are now: others may have left or joined
		 * meanwhile (a Parallel scale-down), and a new leader may be this member. */
		r = reread(l);
		if (r)
			return r;
	}
	if (r)
		log_msg(LOG_FATAL, "%s", why);
	return r;
}

/* If this member leads, hand leadership to the successor first: removing the leader costs
 * an election (~1 s without a leader); a transfer costs ~0.1 s. The request must go to the
 * leader, that is to this member. */
static void transfer_leadership(struct leave *l, uint64_t leader, uint64_t successor)
{
	char a[ETCD_ID_STR_MAX], b[ETCD_ID_STR_MAX];
	struct deadline d;
	struct error err;
	uint64_t t0 = clock_now_ms();

	if (leader != l->my_id)
		return;
	if (!successor) {
		log_msg(LOG_WARNING,
		        "this member leads and no healthy voter can take over; removing it costs an election");
		return;
	}
	error_clear(&err);
	deadline_init_within(&d, TRANSFER_TIMEOUT_MS, &l->deadline);
	if (etcd_move_leader(l->http, l->local_client, successor, &d, &err) == 0)
		log_msg(LOG_INFO, "moved leadership from id=%s to id=%s took=%.3fs",
		        etcd_id_hex(l->my_id, a), etcd_id_hex(successor, b),
		        (double)(clock_now_ms() - t0) / 1000.0);
	else
		log_msg(LOG_WARNING, "cannot move leadership to id=%s: %s; removing anyway",
		        etcd_id_hex(successor, b), err.msg);
}

/* Remove this member by ID. "Not found" means done only once the leader of this member's own
 * cluster confirms it: a failover to another cluster's endpoint would say it too. */
static int remove_self(struct leave *l)
{
	struct state_tombstone t = {.member_id = l->my_id, .cluster_id = l->cluster_id};
	char id[ETCD_ID_STR_MAX];
	struct backoff b;
	struct error err;
	uint64_t t0 = clock_now_ms();

	etcd_id_hex(l->my_id, id);
	/* The intent first: a removed etcd exits within milliseconds, and the kubelet then
	 * kills this hook. */
	error_clear(&err);
	if (state_tombstone_write(l->s.data_dir, &t, &err) < 0)
		log_msg(LOG_WARNING, "cannot write the tombstone: %s", err.msg);
	backoff_init(&b, 50, 500);
	for (;;) {
		struct deadline d;
		int r;

		error_clear(&err);
		deadline_init_within(&d, 3 * CALL_TIMEOUT_MS, &l->deadline);
		r = etcd_member_remove(l->cluster, l->my_id, &d, &err);
		if (r == -ENOENT && !leader_confirms_gone(l)) {
			log_msg(LOG_FATAL,
			        "the remove of this member id=%s said 'not found' (%s), and its cluster does not confirm it: the tombstone stays an intent",
			        id, err.msg);
			return EXIT_FAILED;
		}
		if (r == 0 || r == -ENOENT) {
			t.removed = true;
			state_tombstone_write(l->s.data_dir, &t, NULL);
			log_msg(LOG_INFO, "removed this member id=%s took=%.3fs%s", id,
			        (double)(clock_now_ms() - t0) / 1000.0,
			        r ? " (it was removed already)" : "");
			return 0;
		}
		if (r != -ETIMEDOUT && !etcd_error_transient(&err)) {
			log_msg(LOG_FATAL, "cannot remove this member id=%s: %s", id, err.msg);
			return EXIT_FAILED;
		}
		if (deadline_passed(&l->deadline)) {
			log_msg(LOG_FATAL, "this member id=%s was not removed in time: %s", id,
			        err.msg);
			return EXIT_DEADLINE;
		}
		clock_sleep_ms(backoff_next(&b, &l->deadline));
	}
}

/* Once etcd has exited and let go of the data dir, move it aside (best effort: the next
 * etcd-join or etcd-clean does it otherwise, from the tombstone). The data dir is inspected
 * at least once, and moved only when the last inspection saw it not in use. */
static void move_data_aside(struct leave *l)
{
	struct datadir_info info = {.state = DATADIR_IN_USE};
	struct backoff b;
	struct error err;
	char *moved = NULL;

	/* Look at least once, even past the deadline: only a look that finds the data dir
	 * free allows the move. */
	backoff_init(&b, 10, 200);
	for (;;) {
		if (datadir_inspect(l->s.data_dir, &info, NULL) < 0 || info.state == DATADIR_EMPTY)
			return;
		if (info.state != DATADIR_IN_USE || deadline_passed(&l->deadline))
			break;
		clock_sleep_ms(backoff_next(&b, &l->deadline));
	}
	error_clear(&err);
	if (info.state == DATADIR_IN_USE) {
		log_msg(LOG_INFO,
		        "etcd still holds the data dir; the next etcd-join or etcd-clean moves it aside");
		return;
	}
	if (quarantine_move(l->s.data_dir, QUARANTINE_LEFT,
	                    "this member left the cluster (etcd-leave)", 0, NULL, NULL, &moved,
	                    &err) < 0) {
		log_msg(LOG_WARNING, "cannot move the data dir aside: %s", err.msg);
		return;
	}
	state_tombstone_clear(l->s.data_dir, NULL);
	log_msg(LOG_INFO, "moved the data dir aside to '%s'", moved);
	free(moved);
	/* Once the move is said: the container may end any moment now that etcd stopped, and
	 * the next etcd-join applies a retention left undone. */
	quarantine_prune(l->s.data_dir, l->s.quarantine_keep, cli_log_pruned,
	                 &l->s.quarantine_keep);
}

static int run(struct leave *l)
{
	const struct etcd_member *me;
	uint64_t successor = 0, leader = 0;
	char id[ETCD_ID_STR_MAX];
	int r;

	r = should_leave(l);
	if (r == 0 && l->s.dry_run)
		cli_dry_run("stay", l->why, NULL);
	if (r <= 0)
		return -r;
	r = find_identity(l);
	if (r)
		return r;
	etcd_id_hex(l->my_id, id);
	r = read_members(l);
	if (r)
		return r;
	me = find_member(l, l->my_id);
	if (!me) {
		struct state_tombstone t = {
		        .member_id = l->my_id, .cluster_id = l->cluster_id, .removed = true};

		/* A lagging follower may not list it yet: only the leader's word counts. */
		if (!leader_confirms_gone(l)) {
			log_msg(LOG_FATAL,
			        "this member id=%s is not in the list that answered, but its cluster's leader does not confirm it is gone: nothing done",
			        id);
			return EXIT_FAILED;
		}
		log_msg(LOG_INFO, "this member id=%s is not in its cluster: removed already", id);
		if (l->s.dry_run) {
			cli_dry_run("removed already", "this member is not in its cluster",
			            "member", id, "would",
			            "record a tombstone, move the data aside", NULL);
			return EXIT_DONE;
		}
		state_tombstone_write(l->s.data_dir, &t, NULL);
		move_data_aside(l);
		return EXIT_DONE;
	}
	/* A snapshot first, from this member, before the quorum check: its verdict must be
	 * fresh when the removal follows. Never more than half of what the check, the
	 * transfer and the removal leave it. */
	if (!l->s.dry_run)
		cli_snapshot_first(l->http, l->local_client, l->s.data_dir, l->cluster_id,
		                   &l->deadline, SAFE_RESERVE_MS + 2 * SAFE_RETRY_MS, false,
		                   "the removal");
	r = wait_safe(l, &successor, &leader);
	if (l->my_leader)
		leader = l->my_leader;
	if (r)
		return r;
	if (l->s.dry_run) {
		cli_dry_run("leave", l->why, "member", id, "leader",
		            leader == l->my_id ? "this member (leadership would move first)"
		                               : "another",
		            NULL);
		return EXIT_DONE;
	}
	transfer_leadership(l, leader, successor);
	r = remove_self(l);
	if (r)
		return r;
	move_data_aside(l);
	log_msg(LOG_INFO, "left the cluster took=%.3fs",
	        (double)deadline_elapsed_ms(&l->deadline) / 1000.0);
	return EXIT_DONE;
}

static const struct option own[] = {
        {"policy", required_argument, NULL, OPT_POLICY},
};

_Static_assert(sizeof(own_help) / sizeof(own_help[0]) == sizeof(own) / sizeof(own[0]),
               "every option of the program has its --help line");

static const struct cli leave_cli = {
        .program = "etcd-leave",
        .summary =
                "Remove this etcd member from its cluster when its pod goes away for good\n(preStop): quorum-guarded, moving leadership away first.",
        .own_help = own_help,
        .uses = uses,
        .timeout_help =
                "the run's deadline, below the grace period (20s; ETCD_HOOKS_TIMEOUT is capped at 20s)",
        .footer =
                "Exit: 0 done (left, or stayed by policy), 1 failed, 2 usage or configuration,\n3 refused for safety (quorum, last member, another cluster answers), 4 deadline\npassed. See etcd-leave(8).\n",
        .own = own,
        .n_own = sizeof(own) / sizeof(own[0]),
        .on_option = on_option,
};

int main(int argc, char **argv)
{
	struct cli cli = leave_cli;
	struct leave l = {0};
	struct http_options ho = {.call_timeout_ms = CALL_TIMEOUT_MS};
	struct error err;
	int first, r;

	/* A hook: the termination log belongs to the container's main process. */
	log_init("etcd-leave", NULL, false);
	error_clear(&err);
	settings_init(&l.s);
	if (settings_load_leave_policy(&l.policy, &err) < 0) {
		log_msg(LOG_FATAL, "%s", err.msg);
		r = EXIT_USAGE;
		goto out;
	}
	cli.ctx = &l;
	r = cli_parse(&cli, &l.s, argc, argv, &first);
	if (r >= 0)
		goto out;
	log_init("etcd-leave", NULL, l.s.debug);
	r = cli_check(&l.s, &l.id);
	if (r)
		goto out;
	if (datadir_check_volume(l.s.data_dir, NULL, &err) < 0) {
		log_msg(LOG_FATAL, "%s", err.msg);
		r = EXIT_USAGE;
		goto out;
	}
	/* The container's ETCD_HOOKS_TIMEOUT is meant for etcd-join (300 s, say): past the
	 * grace period, the kubelet would kill this hook half-way. */
	if (l.s.timeout_ms > DEFAULT_TIMEOUT_MS &&
	    strcmp(settings_origin(&l.s, SETTING_TIMEOUT), "ETCD_HOOKS_TIMEOUT") == 0) {
		log_msg(LOG_INFO,
		        "ETCD_HOOKS_TIMEOUT=%.0fs, which the container's command reads too, is capped at %us here, below the grace period; ETCD_HOOKS_LEAVE_TIMEOUT or --timeout sets etcd-leave's own",
		        l.s.timeout_ms / 1000.0, DEFAULT_TIMEOUT_MS / 1000);
		l.s.timeout_ms = DEFAULT_TIMEOUT_MS;
	}
	deadline_init(&l.deadline, l.s.timeout_ms ? l.s.timeout_ms : DEFAULT_TIMEOUT_MS);
	endpoints_init(&l.ep, &l.s, l.id.set_name);
	l.my_peer_url = endpoints_peer_url(&l.ep, l.id.ordinal);
	snprintf(l.local_client, sizeof(l.local_client), "%s://127.0.0.1:%u",
	         l.ep.client_tls ? "https" : "http", l.s.client_port);
	ho.cacert = l.s.cacert;
	ho.cert = l.s.cert;
	ho.key = l.s.key;
	if (!l.my_peer_url || http_global_init(&err) < 0 ||
	    http_client_new(&ho, &l.http, &err) < 0 ||
	    (l.s.user && http_client_set_login(l.http, l.s.user, l.s.password) < 0)) {
		log_msg(LOG_FATAL, "%s", err.msg[0] ? err.msg : "out of memory");
		r = EXIT_FAILED;
		goto out;
	}
	r = run(&l);
	log_msg(LOG_DEBUG, "done took=%.3fs", (double)deadline_elapsed_ms(&l.deadline) / 1000.0);
out:
	etcd_member_list_free(&l.members);
	etcd_client_free(l.cluster);
	http_client_free(l.http);
	free(l.my_peer_url);
	settings_free(&l.s);
	return r;
}
