/*
 * etcd-join: the etcd container's command (`etcd-join [options] -- [etcd flags]`).
 *
 * It runs first in the pod's life, decides how this member starts from what it sees (the
 * data dir, the live cluster, its ordinal, the cluster marker), repairs what it must
 * (moves stale data aside, removes the member of a lost volume, adds this member), and then
 * execs etcd with exactly the right flags, so etcd becomes the container's main process.
 * The decision itself is the pure join_decide(); this file gathers its inputs and carries
 * out its actions, one at a time, until etcd is exec'd or the run is refused.
 */
#include "beacon.h"
#include "cli.h"
#include "clock.h"
#include "cluster.h"
#include "datadir.h"
#include "decide.h"
#include "endpoints.h"
#include "error.h"
#include "etcd.h"
#include "etcdargs.h"
#include "exitcode.h"
#include "fsutil.h"
#include "http.h"
#include "identity.h"
#include "kube.h"
#include "leakcheck.h"
#include "log.h"
#include "membership.h"
#include "quarantine.h"
#include "settings.h"
#include "state.h"
#include "wal.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_MS (300 * 1000)
/* A live cluster answers a member list within milliseconds; a member still waiting for
 * quorum never answers (etcd-api.md §3.3), so no call of the probe waits long. */
#define PROBE_TIMEOUT_MS 2500
#define CALL_TIMEOUT_MS  800
#define KUBE_TIMEOUT_MS  2000
/* The StatefulSet's replicas are read again after this long. */
#define REPLICAS_TTL_MS    10000
#define CONNECT_TIMEOUT_MS 500
/* member/add and member/remove can hang without quorum: bound each call, then re-read. */
#define CHANGE_CALL_TIMEOUT_MS 2000
/* What a replacement's removal and add need after its snapshot. */
#define REPLACE_RESERVE_MS   (20 * 1000)
#define PROGRESS_INTERVAL_MS 5000
/* Waits re-probe with this backoff. */
#define WAIT_FIRST_MS 250
#define WAIT_MAX_MS   2000
/* An add refused this long (etcd's strict window is 5 s) looks for a stale member. */
#define STALE_AFTER_MS 8000
/* ... and removes it only when it was down and gone for this long, without a break. */
#define STALE_CONFIRM_MS 3000
/* etcd derives a new member's ID from its peer URL and the current second: an add refused
 * with "member not found" is retried after this long (the next second). */
#define SAME_SECOND_RETRY_MS 1100
/* A started learner this long pending is promoted by whoever waits for it. */
#define LEARNER_GRACE_MS 10000
/* The changes of one run: quarantine, replace, add: a handful at most. Waits and probes are
 * bounded by the deadline instead. */
#define MAX_CHANGES 12

extern char **environ;

struct join {
	struct settings s;
	struct identity id;
	struct endpoints ep;
	struct deadline deadline;
	struct local_state local; /* what the volume holds, read once (state.h) */
	bool has_wal;             /* local.wal holds valid data's IDs */
	bool marker;              /* the cluster marker says this member's cluster formed */
	bool tombstoned;          /* etcd-leave removed the member of this data dir */
	unsigned replicas;        /* the StatefulSet's spec.replicas, 0: unknown */
	uint64_t replicas_read_ms;
	bool replicas_warned;
	bool sts_formed;       /* the StatefulSet's annotation says its cluster formed */
	int sts_read;          /* the last read of the StatefulSet: 0 or its negative errno */
	unsigned pods_created; /* its status.replicas when read, UINT_MAX when unknown */
	char sts_why[ERROR_MSG_MAX];
	int may_mark; /* the mark may be written (a dry-run PATCH): 1 yes, -1 no, 0 not asked */
	uint64_t may_mark_ms;
	char mark_told[ERROR_MSG_MAX + 64]; /* why the bootstrap wait does not end, as logged */
	bool login_warned;
	uint64_t peers_wait_since_ms;       /* the first wait for silent peers, 0: none yet */
	struct beacon *beacon;              /* answers on the peer port while we wait */
	const char *state;                  /* what the join state and the beacon say */
	char waiting_detail[ERROR_MSG_MAX]; /* what the last probe saw, for wait progress lines */
	struct http_client *http;
	struct etcd_client *cluster;     /* the live members' client URLs, once known */
	struct etcd_member_list members; /* the live list, when a cluster answered */
	bool has_members;
	char *answered_at; /* the endpoint that answered */
	char *my_peer_url, *my_client_url;
	char *etcd_path;
	char *initial_cluster;
	char **extra;
	size_t n_extra;
};

static const enum setting_key uses[] = {
        CLI_USES_CLUSTER, SETTING_BOOTSTRAP_WAIT, SETTING_QUARANTINE_KEEP, SETTING_TIMEOUT,
        SETTING_ETCD,     SETTING_DRY_RUN,        SETTING_DEBUG,           SETTING_KEY_END};

/* etcd on PATH, or the --etcd path as given. Returns a malloc'd path, or NULL. */
static char *find_etcd(const char *given)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL, *found = NULL;

	if (given)
		return strdup(given);
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	copy = strdup(path);
	for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		char *candidate = NULL;

		if (asprintf(&candidate, "%s/etcd", *dir ? dir : ".") < 0)
			break;
		if (access(candidate, X_OK) == 0)
			found = candidate;
		else
			free(candidate);
	}
	free(copy);
	return found;
}

/* Tell etcd-promote (postStart, started together with us) what we do: in a long wait it
 * lets the pod become Ready instead of holding up an OrderedReady StatefulSet, and keeps
 * watching in the background; once we exited without starting etcd it stops waiting. The
 * file names our pid and start time, so a stale one is ignored. The beacon says the same
 * to the peers. */
static void set_state(struct join *j, const char *state, int exit_code)
{
	char *dir = state_helper_dir(j->s.data_dir), text[256], body[512], start[32];
	char cid[ETCD_ID_STR_MAX] = "";
	bool formed = j->marker || j->local.data.state == DATADIR_VALID;

	j->state = state;
	if (j->has_wal)
		etcd_id_format(j->local.wal.cluster_id, cid);
	snprintf(
	        body, sizeof(body),
	        "{\"etcd-hooks\":{\"member\":\"%s\",\"state\":\"%s\",\"data\":\"%s\",\"formed\":%s,\"cluster_id\":\"%s\"}}",
	        j->id.name, state, datadir_state_name(j->local.data.state),
	        formed ? "true" : "false", cid);
	beacon_set_body(j->beacon, body);
	if (!dir || j->s.dry_run) {
		free(dir);
		return;
	}
	/* with the pid, the start time names this etcd-join and no process before it */
	fsutil_process_start_time("self", start, sizeof(start));
	snprintf(text, sizeof(text), "pid=%ld\nstart_time=%s\nstate=%s\n", (long)getpid(),
	         start[0] ? start : "0", state);
	if (exit_code >= 0)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "exit_code=%d\n",
		         exit_code);
	state_write_atomic(dir, STATE_JOIN_STATE, text, NULL);
	free(dir);
}

static bool is_me(const struct join *j, const struct etcd_member *m)
{
	return etcd_member_has_peer_url(m, j->my_peer_url);
}

/* Sleep (the beacon answers the peers meanwhile); returns early on SIGTERM. */
static void wait_a_little(struct join *j, uint64_t ms)
{
	clock_sleep_ms(ms);
}

/* A stop signal came while we waited for `what`: nothing was changed half-way. */
static int stopped(struct join *j, const char *what)
{
	int sig = clock_stop_signal();

	log_msg(LOG_INFO, "stopped by signal %d while waiting for %s; nothing changed took=%.3fs",
	        sig, what ? what : "the cluster",
	        (double)deadline_elapsed_ms(&j->deadline) / 1000.0);
	return 128 + sig;
}

/* Point j->cluster at the client URLs of the started voting members of the live list (not
 * this member; learners cannot serve cluster calls), plus the extra endpoints. */
static int refresh_cluster_client(struct join *j)
{
	char **v = calloc(j->members.n_members * 4 + 2, sizeof(*v));
	size_t n = 0;
	struct etcd_client *c = NULL;
	int r;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < j->members.n_members; i++) {
		const struct etcd_member *m = &j->members.members[i];

		if (is_me(j, m) || m->is_learner)
			continue;
		for (size_t k = 0; k < m->n_client_urls && k < 4; k++)
			v[n++] = m->client_urls[k];
	}
	if (j->answered_at && n == 0)
		v[n++] = j->answered_at;
	r = etcd_client_new(j->http, (const char *const *)v, n, &c, NULL);
	free(v);
	if (r < 0)
		return r;
	etcd_client_free(j->cluster);
	j->cluster = c;
	return 0;
}

/* Keep a freshly read list as the live one. */
static void take_members(struct join *j, struct etcd_member_list *l)
{
	etcd_member_list_free(&j->members);
	j->members = *l;
	j->has_members = true;
	*l = (struct etcd_member_list){0};
}

/* Where this member stands in the live list (decide.h). */
static enum join_me find_me(const struct join *j)
{
	return join_find_me(&j->members, j->my_peer_url, j->has_wal ? &j->local.wal : NULL);
}

/* --initial-cluster from the live list: one entry per peer URL of every member, other
 * unstarted members with their (empty) name, this member under its own name (etcd-api.md
 * §10: only the URL sets are compared, and its own entry must carry its --name). */
static char *initial_cluster_from_members(const struct join *j)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	bool first = true;

	if (!f)
		return NULL;
	for (size_t i = 0; i < j->members.n_members; i++) {
		const struct etcd_member *m = &j->members.members[i];

		for (size_t k = 0; k < m->n_peer_urls; k++) {
			bool me = strcmp(m->peer_urls[k], j->my_peer_url) == 0;

			fprintf(f, "%s%s=%s", first ? "" : ",", me ? j->id.name : m->name,
			        m->peer_urls[k]);
			first = false;
		}
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static void log_members(const struct join *j)
{
	char id[ETCD_ID_STR_MAX], cluster[ETCD_ID_STR_MAX];

	log_msg(LOG_INFO, "cluster answers at '%s': cluster_id=%s members=%zu", j->answered_at,
	        etcd_id_hex(j->members.cluster_id, cluster), j->members.n_members);
	for (size_t i = 0; i < j->members.n_members; i++) {
		const struct etcd_member *m = &j->members.members[i];

		log_msg(LOG_INFO, "member id=%s name='%s' peer='%s' %s%s%s", etcd_id_hex(m->id, id),
		        m->name, m->n_peer_urls ? m->peer_urls[0] : "",
		        etcd_member_started(m) ? "started" : "unstarted",
		        m->is_learner ? " learner" : "", is_me(j, m) ? " (this member)" : "");
	}
}

/* Re-read the live list through the cluster client; keeps the old one on failure. */
static int reread_members(struct join *j, struct error *err)
{
	struct etcd_member_list l = {0};
	struct deadline d;
	int r;

	deadline_init(&d, PROBE_TIMEOUT_MS);
	r = etcd_member_list(j->cluster, &d, &l, err);
	if (r == 0) {
		take_members(j, &l);
		refresh_cluster_client(j);
	}
	return r;
}

/* The quorum guard of a removal (membership.h). Returns 0 (allowed: *ret_found says whether
 * it is listed at all, ret_voters and ret_healthy what was counted) or EXIT_REFUSED, said. */
static int removal_allowed(struct join *j, uint64_t target, const char *what, bool *ret_found,
                           unsigned *ret_voters, unsigned *ret_healthy)
{
	char id[ETCD_ID_STR_MAX], action[256], why[ERROR_MSG_MAX + 256];
	struct membership_survey sv;
	int r;

	membership_survey(j->http, &j->members, target,
	                  &(struct membership_survey_opts){.call_timeout_ms = CALL_TIMEOUT_MS},
	                  &sv);
	*ret_found = sv.found;
	*ret_voters = sv.voters;
	*ret_healthy = sv.healthy_others;
	snprintf(action, sizeof(action), "remove %s id=%s", what, etcd_id_hex(target, id));
	r = membership_removal_check(&sv, action, why, sizeof(why));
	if (r)
		log_msg(LOG_FATAL, "%s", why);
	return r;
}

/* Remove member `id` (`what` names it for the log), guarded by quorum (removal_allowed).
 * With snapshot_for, a snapshot first, once the guard allows the removal (a refusal spends
 * no time on it), and the guard asked again after it. Returns 0 (removed, or gone
 * already) or an exit code. */
static int remove_guarded(struct join *j, uint64_t target, const char *what,
                          const char *snapshot_for)
{
	struct log_progress progress;
	char id[ETCD_ID_STR_MAX];
	struct backoff b;
	struct error err;
	unsigned voters, healthy;
	bool found;
	int r = removal_allowed(j, target, what, &found, &voters, &healthy);

	if (r || !found)
		return r;
	etcd_id_hex(target, id);
	if (snapshot_for) {
		/* the new member needs room for its own copy of the db and its WAL besides */
		cli_snapshot_first(j->http, etcd_client_current(j->cluster), j->s.data_dir,
		                   j->members.cluster_id, &j->deadline, REPLACE_RESERVE_MS, true,
		                   snapshot_for);
		/* the list as it is now: the snapshot took seconds */
		error_clear(&err);
		r = reread_members(j, &err);
		if (r < 0) {
			log_msg(LOG_FATAL,
			        "not removing %s id=%s: the member list cannot be read again after the snapshot: %s",
			        what, id, err.msg);
			return EXIT_REFUSED;
		}
		r = removal_allowed(j, target, what, &found, &voters, &healthy);
		if (r || !found)
			return r;
	}
	log_msg(LOG_INFO, "removing %s id=%s (healthy voters besides it: %u of %u)", what, id,
	        healthy, voters);
	log_progress_start(&progress, PROGRESS_INTERVAL_MS);
	backoff_init(&b, 100, 500);
	for (;;) {
		struct deadline d;
		bool gone;

		error_clear(&err);
		deadline_init_within(&d, CHANGE_CALL_TIMEOUT_MS, &j->deadline);
		r = etcd_member_remove(j->cluster, target, &d, &err);
		if (r == 0 || r == -ENOENT) {
			log_msg(LOG_INFO, "removed %s id=%s took=%.3fs%s", what, id,
			        log_progress_elapsed(&progress), r ? " (it was gone already)" : "");
			break;
		}
		if (r == -EINTR || clock_stop_signal())
			return stopped(j, "the removal");
		/* A remove that timed out may have been applied: look before trying again. */
		if (r == -ETIMEDOUT && reread_members(j, NULL) == 0) {
			gone = true;
			for (size_t i = 0; i < j->members.n_members; i++)
				gone = gone && j->members.members[i].id != target;
			if (gone)
				break;
		}
		if (r != -ETIMEDOUT && !etcd_error_transient(&err)) {
			log_msg(LOG_FATAL, "cannot remove %s id=%s: %s", what, id, err.msg);
			return EXIT_FAILED;
		}
		if (deadline_passed(&j->deadline)) {
			log_msg(LOG_FATAL, "%s id=%s was not removed in time: %s", what, id,
			        err.msg);
			return EXIT_DEADLINE;
		}
		if (log_progress_due(&progress))
			log_progress_msg(&progress, &j->deadline,
			                 "retrying the removal of id=%s: %s", id, err.msg);
		wait_a_little(j, backoff_next(&b, &j->deadline));
		if (clock_stop_signal())
			return stopped(j, "the removal");
	}
	reread_members(j, NULL);
	return 0;
}

/* Remove this member's old entry (its volume was lost), guarded by quorum; a snapshot
 * first. */
static int replace_member(struct join *j)
{
	const struct etcd_member *old = etcd_member_find_peer_url(&j->members, j->my_peer_url);

	if (!old)
		return 0;
	return remove_guarded(j, old->id, "this member's old entry", "the replacement");
}

static bool getaddrinfo_ok(const char *host)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	int r = getaddrinfo(host, NULL, &hints, &res);

	if (res)
		freeaddrinfo(res);
	return r == 0;
}

/* The ordinal of a member of this StatefulSet, from its name or its peer URL's host;
 * -1 when it is not one of ours. */
static long member_ordinal(const struct join *j, const struct etcd_member *m)
{
	unsigned ordinal;

	if (identity_member_ordinal(j->id.set_name, m->name,
	                            m->n_peer_urls ? m->peer_urls[0] : NULL, &ordinal) < 0)
		return -1;
	return ordinal;
}

static void read_statefulset(struct join *j);

/* A started member above this ordinal that is down and whose pod is gone, on the word of
 * the Kubernetes API: its ordinal is at or above the StatefulSet's replicas (the set does
 * not want it), or at or above the count of pods its controller created (OrderedReady
 * creates the pods above this one only once this one is Ready). While a down voter is in
 * the list, etcd's strict reconfiguration check refuses every add, and nobody else will
 * remove it: a StatefulSet scaled down without preStop leaves such members behind. Never
 * stale: an unstarted member (it is pending: its pod may start it at any moment), a member
 * whose pod exists (it is starting, an image pull can take minutes; it replaces itself if
 * its volume was lost), and any member while the StatefulSet cannot be read (a name that
 * does not resolve says nothing). */
static const struct etcd_member *stale_member(struct join *j)
{
	for (size_t i = 0; i < j->members.n_members; i++) {
		const struct etcd_member *m = &j->members.members[i];
		long ordinal = member_ordinal(j, m);
		struct deadline d;

		if (is_me(j, m) || ordinal <= (long)j->id.ordinal || !etcd_member_started(m))
			continue;
		deadline_init(&d, CALL_TIMEOUT_MS);
		if (etcd_health(j->http, m->client_urls[0], &d, NULL) == 1)
			continue;
		/* Down: what does the StatefulSet say now (not from the cache)? */
		j->replicas_read_ms = 0;
		read_statefulset(j);
		if (j->sts_read == 0 && ((unsigned long)ordinal >= j->replicas ||
		                         (unsigned long)ordinal >= j->pods_created))
			return m;
	}
	return NULL;
}

/* A member other than this one that is added but not yet a started voter: etcd allows one
 * membership change at a time, so the next add waits for it. */
static const struct etcd_member *pending_member(const struct join *j)
{
	for (size_t i = 0; i < j->members.n_members; i++) {
		const struct etcd_member *m = &j->members.members[i];

		if (!is_me(j, m) && (!etcd_member_started(m) || m->is_learner))
			return m;
	}
	return NULL;
}

/* Can this member be added as a learner? Every started voter must run 3.4 or later. Each
 * voter's own /version says so; the cluster version is not enough alone: it reads 3.0.0
 * for a moment after a bootstrap. A voter that does not answer leaves the cluster version
 * to decide. */
static bool cluster_supports_learners(struct join *j)
{
	unsigned min_major = ~0u, min_minor = ~0u, answered = 0, asked = 0;
	unsigned cmajor = 0, cminor = 0;

	for (size_t i = 0; i < j->members.n_members; i++) {
		const struct etcd_member *m = &j->members.members[i];
		struct etcd_version v;
		struct deadline d;
		unsigned a, b;

		if (is_me(j, m) || m->is_learner || !etcd_member_started(m))
			continue;
		asked++;
		deadline_init(&d, CALL_TIMEOUT_MS);
		if (etcd_version_get(j->http, m->client_urls[0], &d, &v, NULL) < 0)
			continue;
		answered++;
		if (v.major < min_major || (v.major == min_major && v.minor < min_minor)) {
			min_major = v.major;
			min_minor = v.minor;
		}
		if (sscanf(v.cluster, "%u.%u", &a, &b) == 2 &&
		    (a > cmajor || (a == cmajor && b > cminor))) {
			cmajor = a;
			cminor = b;
		}
	}
	if (answered == 0) {
		log_msg(LOG_WARNING, "no voting member told its version; adding a voting member");
		return false;
	}
	if (answered < asked) {
		min_major = cmajor;
		min_minor = cminor;
	}
	log_msg(LOG_DEBUG, "lowest voter version %u.%u (%u of %u answered), cluster version %u.%u",
	        min_major, min_minor, answered, asked, cmajor, cminor);
	return min_major > 3 || (min_major == 3 && min_minor >= 4);
}

/* What add_member() carries from one round to the next. */
struct add_round {
	struct log_progress progress;
	struct backoff b;
	uint64_t last_pending;  /* the pending member the last round saw */
	uint64_t blocked_since; /* no member pending, and no add accepted, since */
	uint64_t suspect;       /* a member seen stale... */
	uint64_t suspect_since; /* ... and since when */
	uint64_t learner_since; /* a pending learner seen started since */
	uint64_t next_try_ms;   /* no add before this (same-second retry) */
};

/* A started learner whose etcd-promote died would block every add: once it has had time to
 * promote itself, promote it on its behalf (etcd refuses until it is in sync). */
static void take_over_learner(struct join *j, struct add_round *a,
                              const struct etcd_member *pending)
{
	char id[ETCD_ID_STR_MAX];
	struct deadline d;
	struct error err;

	if (!pending->is_learner || !etcd_member_started(pending))
		a->learner_since = 0;
	else if (!a->learner_since)
		a->learner_since = clock_now_ms();
	if (!a->learner_since || clock_now_ms() - a->learner_since <= LEARNER_GRACE_MS)
		return;
	error_clear(&err);
	deadline_init_within(&d, CHANGE_CALL_TIMEOUT_MS, &j->deadline);
	if (etcd_member_promote(j->cluster, pending->id, &d, &err) == 0)
		log_msg(LOG_INFO, "promoted the pending learner id=%s",
		        etcd_id_hex(pending->id, id));
	else
		log_msg(LOG_DEBUG, "cannot promote the pending learner: %s", err.msg);
}

/* One member/add of this member. Returns 1 (added: j->members holds it), 0 (not now: wait,
 * err says why) or an exit code as a negative number. */
static int try_add(struct join *j, struct add_round *a, struct error *err)
{
	bool learner = cluster_supports_learners(j);
	struct etcd_member_list l = {0};
	char id[ETCD_ID_STR_MAX];
	struct deadline d;
	uint64_t new_id;
	int r;

	deadline_init_within(&d, CHANGE_CALL_TIMEOUT_MS, &j->deadline);
	r = etcd_member_add(j->cluster, j->my_peer_url, learner, &d, &new_id, &l, err);
	if (r == 0) {
		log_msg(LOG_INFO, "added this member id=%s%s took=%.3fs", etcd_id_hex(new_id, id),
		        learner ? " as a learner" : "", log_progress_elapsed(&a->progress));
		take_members(j, &l);
		refresh_cluster_client(j);
		return 1;
	}
	if (r == -EINTR || clock_stop_signal()) {
		/* Whether an add cut short was applied is read at the next start. */
		return -stopped(j, "etcd to accept the add");
	} else if (etcd_error_peer_exists(err)) {
		log_msg(LOG_INFO, "the peer URL is a member already: %s", err->msg);
	} else if (r == -ENOENT) {
		/* etcd derives the new member's ID from the peer URL and the current second:
		 * within the second of this URL's last removal it derives the removed ID, and
		 * refuses it as "member not found" (ErrIDRemoved). */
		log_msg(LOG_INFO,
		        "etcd refused the add with '%s': the ID it derived is one removed within this second; retrying in the next",
		        err->msg);
		a->next_try_ms = clock_now_ms() + SAME_SECOND_RETRY_MS;
	} else if (r != -ETIMEDOUT && !etcd_error_transient(err)) {
		log_msg(LOG_FATAL, "cannot add this member: %s", err->msg);
		return -EXIT_FAILED;
	}
	return 0;
}

/* Blocked past etcd's own 5 s window with no member pending (a pending member is waited
 * for, never a reason to remove anyone): a stale member of a higher ordinal may be what
 * blocks the add; remove it as its own pod would. Returns 1 (removed one), 0 (none, or not
 * confirmed yet) or an exit code as a negative number. */
static int replace_stale(struct join *j, struct add_round *a, bool pending)
{
	const struct etcd_member *stale;
	char what[128];
	int r;

	if (pending || !a->blocked_since)
		a->blocked_since = pending ? 0 : clock_now_ms();
	if (!a->blocked_since || clock_now_ms() - a->blocked_since <= STALE_AFTER_MS)
		return 0;
	stale = stale_member(j);
	/* Down and gone now, and still so STALE_CONFIRM_MS later without a break: the
	 * suspicion ends whenever it is not stale. The snapshot before its removal is taken
	 * when the suspicion starts, so that the confirmation comes after it: a pod that
	 * returned meanwhile keeps its member. */
	if (!stale || stale->id != a->suspect) {
		a->suspect = stale ? stale->id : 0;
		if (stale)
			cli_snapshot_first(j->http, etcd_client_current(j->cluster), j->s.data_dir,
			                   j->members.cluster_id, &j->deadline, REPLACE_RESERVE_MS,
			                   true, "the stale member's removal");
		a->suspect_since = clock_now_ms();
	}
	if (!stale || clock_now_ms() - a->suspect_since < STALE_CONFIRM_MS)
		return 0;
	snprintf(what, sizeof(what),
	         "the stale member '%s' (down, its pod gone, above this ordinal)",
	         stale->name[0] ? stale->name : stale->peer_urls[0]);
	log_msg(LOG_WARNING, "%s blocks this add: etcd refuses every add while a voter is down",
	        what);
	r = remove_guarded(j, stale->id, what, NULL);
	if (r)
		return -r;
	a->blocked_since = a->suspect = 0;
	return 1;
}

/* member/add this member, one change at a time, retrying what etcd says is temporary.
 * Returns 0 with j->members holding this member (unstarted), or an exit code. */
static int add_member(struct join *j)
{
	struct add_round a = {0};
	char id[ETCD_ID_STR_MAX];

	log_progress_start(&a.progress, PROGRESS_INTERVAL_MS);
	backoff_init(&a.b, 100, 500);
	for (;;) {
		const struct etcd_member *mine =
		        etcd_member_find_peer_url(&j->members, j->my_peer_url);
		const struct etcd_member *pending = pending_member(j);
		const char *waiting_for = "etcd to accept the add";
		uint64_t pending_id = pending ? pending->id : 0;
		struct error err;
		int r;

		error_clear(&err);
		if (mine && !etcd_member_started(mine)) {
			log_msg(LOG_INFO, "this member is in the cluster now id=%s%s",
			        etcd_id_hex(mine->id, id), mine->is_learner ? " learner" : "");
			return 0;
		}
		if (mine) {
			log_msg(LOG_FATAL,
			        "another started member id=%s holds this member's peer URL '%s'",
			        etcd_id_hex(mine->id, id), j->my_peer_url);
			return EXIT_REFUSED;
		}
		if (pending) {
			waiting_for = "a pending member";
			snprintf(err.msg, sizeof(err.msg), "member id=%s peer='%s' is %s",
			         etcd_id_hex(pending->id, id),
			         pending->n_peer_urls ? pending->peer_urls[0] : "",
			         pending->is_learner ? "a learner" : "not started");
			take_over_learner(j, &a, pending);
		} else {
			r = try_add(j, &a, &err);
			if (r < 0)
				return -r;
			if (r > 0)
				continue;
		}
		r = replace_stale(j, &a, pending != NULL);
		if (r < 0)
			return -r;
		if (r > 0)
			continue;
		if (deadline_passed(&j->deadline)) {
			log_msg(LOG_FATAL, "this member was not added in time: waited for %s: %s",
			        waiting_for, err.msg);
			return EXIT_DEADLINE;
		}
		/* Say it at once when a pending member holds us up, then every few seconds. */
		if (log_progress_due(&a.progress) || (pending && pending_id != a.last_pending))
			log_progress_msg(&a.progress, &j->deadline, "waiting for %s: %s",
			                 waiting_for, err.msg);
		a.last_pending = pending_id;
		wait_a_little(j, backoff_next(&a.b, &j->deadline));
		if (a.next_try_ms > clock_now_ms())
			wait_a_little(j, a.next_try_ms - clock_now_ms());
		if (clock_stop_signal())
			return stopped(j, waiting_for);
		/* A timed-out add may have been applied: always look again before retrying. */
		reread_members(j, NULL);
	}
}

/* The decision and etcd's argv, in the helper folder beside the data dir (0600, atomic), so a
 * person can see later what the last start decided and why. */
static void record_decision(const struct join *j, const struct join_decision *dec,
                            const struct etcdargs *args)
{
	char *dir = state_helper_dir(j->s.data_dir), *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct error err;
	time_t now = time(NULL);
	char stamp[32];

	error_clear(&err);
	if (!dir || !f) {
		if (f)
			fclose(f);
		free(dir);
		return;
	}
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	fprintf(f, "time=%s\npid=%ld\naction=%s\nreason=%s\n", stamp, (long)getpid(),
	        join_action_name(dec->action), dec->reason);
	for (size_t i = 0; i < args->argc; i++)
		fprintf(f, "argv[%zu]=%s\n", i, args->argv[i]);
	if (fclose(f) == 0 && state_write_atomic(dir, STATE_LAST_DECISION, text, &err) < 0)
		log_msg(LOG_WARNING, "cannot record the decision: %s", err.msg);
	free(text);
	free(dir);
}

static void scrub_environment(const struct etcdargs *args)
{
	bool again = true;

	/* unsetenv() reorders environ: look again from the start after each removal */
	while (again) {
		again = false;
		for (char **e = environ; *e; e++) {
			/* secrets never reach etcd's environment */
			if (settings_secret_variable(*e)) {
				char name[128];

				snprintf(name, sizeof(name), "%.*s", (int)strcspn(*e, "="), *e);
				unsetenv(name);
				again = true;
				break;
			}
		}
	}
	for (size_t i = 0; args->unset[i]; i++) {
		if (strcmp(args->unset[i], "ETCD_DATA_DIR") != 0)
			log_msg(LOG_INFO, "removing %s from etcd's environment: the flag is set",
			        args->unset[i]);
		unsetenv(args->unset[i]);
	}
}

static void print_dry_run(const struct join_decision *dec, const struct etcdargs *args)
{
	printf("decision: %s\nreason: %s\nexec:", join_action_name(dec->action), dec->reason);
	for (size_t i = 0; i < args->argc; i++)
		printf(" %s", args->argv[i]);
	printf("\n");
	for (size_t i = 0; args->unset[i]; i++)
		printf("unset: %s\n", args->unset[i]);
	for (char **e = environ; *e; e++)
		if (settings_secret_variable(*e))
			printf("unset: %.*s\n", (int)strcspn(*e, "="), *e);
	cli_dry_run(NULL, NULL, NULL);
}

/* The cluster token of a bootstrap: the user's --initial-cluster-token, else ours, which
 * makes the bootstrap's IDs unique to this StatefulSet. */
static const char *bootstrap_token(const struct join *j, char *buf, size_t size)
{
	const char *user =
	        etcdargs_user_value(j->extra, j->n_extra, environ, "initial-cluster-token");

	snprintf(buf, size, "%s.%s", j->id.set_name, j->s.namespace);
	return user ? user : buf;
}

/* The cluster ID this set's bootstrap gives its initial members; 0 without a size. */
static uint64_t bootstrap_cluster_id(const struct join *j)
{
	unsigned n = j->s.initial_cluster_size;
	uint64_t *ids = n ? calloc(n, sizeof(*ids)) : NULL, cid = 0;
	char buf[160];
	const char *token = bootstrap_token(j, buf, sizeof(buf));

	for (unsigned i = 0; ids && i < n; i++) {
		char *peer = endpoints_peer_url(&j->ep, i);

		if (!peer)
			goto out;
		ids[i] = etcd_bootstrap_member_id(peer, token);
		free(peer);
	}
	if (ids)
		cid = etcd_bootstrap_cluster_id(ids, n);
out:
	free(ids);
	return cid;
}

/* Build etcd's argv for the action and exec it (or print it on --dry-run). */
static int start_etcd(struct join *j, const struct join_decision *dec)
{
	char token[160];
	struct etcdargs args = {0};
	struct etcdargs_input in = {
	        .etcd = j->etcd_path,
	        .name = j->id.name,
	        .data_dir = j->s.data_dir,
	        .advertise_peer_url = j->my_peer_url,
	        .advertise_client_url = j->my_client_url,
	        .extra = j->extra,
	        .n_extra = j->n_extra,
	        .envp = environ,
	};
	char listen_peer[64], listen_client[64];
	struct error err;
	int r;

	error_clear(&err);
	snprintf(listen_peer, sizeof(listen_peer), "%s://0.0.0.0:%u",
	         j->ep.peer_tls ? "https" : "http", j->s.peer_port);
	snprintf(listen_client, sizeof(listen_client), "%s://0.0.0.0:%u",
	         j->ep.client_tls ? "https" : "http", j->s.client_port);
	in.listen_peer_url = listen_peer;
	in.listen_client_url = listen_client;
	/* The token makes the bootstrap's IDs unique to this StatefulSet (a user's wins). */
	snprintf(token, sizeof(token), "%s.%s", j->id.set_name, j->s.namespace);
	if (dec->action == JOIN_BOOTSTRAP) {
		in.initial_cluster = j->initial_cluster;
		in.initial_state = "new";
		in.token = token;
	} else if (dec->action != JOIN_RESTART) {
		in.initial_cluster = j->initial_cluster;
		in.initial_state = "existing";
	}

	r = etcdargs_build(&in, &args, &err);
	if (r < 0) {
		log_msg(LOG_FATAL, "%s", err.msg);
		return EXIT_USAGE;
	}
	for (size_t i = 0; args.yielded[i]; i++)
		log_msg(LOG_INFO, "using the --%s given by the user", args.yielded[i]);
	if (j->s.dry_run) {
		print_dry_run(dec, &args);
		etcdargs_free(&args);
		return EXIT_DONE;
	}

	record_decision(j, dec, &args);
	scrub_environment(&args);
	/* etcd binds the peer port next. */
	beacon_close(j->beacon);
	j->beacon = NULL;
	log_msg(LOG_INFO, "exec '%s' action=%s initial_cluster_state=%s took=%.3fs", args.argv[0],
	        join_action_name(dec->action), in.initial_state ? in.initial_state : "(restart)",
	        (double)deadline_elapsed_ms(&j->deadline) / 1000.0);
	/* Close what we opened: curl's connections go with its handle. */
	http_client_free(j->http);
	j->http = NULL;
	fflush(NULL);
	leak_check_now();
	execv(args.argv[0], args.argv);
	r = errno;
	log_msg(LOG_FATAL, "cannot exec '%s': %s", args.argv[0], strerror(r));
	etcdargs_free(&args);
	return r == ENOENT ? EXIT_NOT_FOUND : EXIT_EXEC;
}

/* Move the data dir aside (a partial or a stale one); then it is empty. */
static int quarantine_data(struct join *j, const struct join_decision *dec)
{
	char *moved = NULL;
	struct error err;

	error_clear(&err);
	if (quarantine_move(j->s.data_dir, dec->tag, dec->reason, j->s.quarantine_keep,
	                    cli_log_pruned, &j->s.quarantine_keep, &moved, &err) < 0) {
		log_msg(LOG_FATAL, "cannot move the data dir aside: %s", err.msg);
		return EXIT_FAILED;
	}
	log_msg(LOG_WARNING, "moved the data dir aside to '%s' (kept, not deleted)", moved);
	free(moved);
	j->local.data = (struct datadir_info){.state = DATADIR_EMPTY};
	snprintf(j->local.data.reason, sizeof(j->local.data.reason), "moved aside");
	j->has_wal = false;
	set_state(j, j->state ? j->state : "deciding", -1);
	if (j->tombstoned)
		state_tombstone_clear(j->s.data_dir, NULL);
	j->tombstoned = false;
	return 0;
}

/* Read the volume (state.h) and log what it says. Returns 0, or EXIT_FAILED when the data
 * dir cannot be inspected or its WAL cannot be read at all: that says nothing about the
 * data, so nothing is decided on it. */
static int read_local_state(struct join *j)
{
	const struct local_state *ls = &j->local;
	char id[ETCD_ID_STR_MAX], cid[ETCD_ID_STR_MAX];
	struct error err;

	error_clear(&err);
	if (state_read(j->s.data_dir, &j->local, &err) < 0) {
		log_msg(LOG_FATAL, "%s", err.msg);
		return EXIT_FAILED;
	}
	log_msg(LOG_INFO, "member '%s' ordinal=%u data_dir='%s' state=%s (%s)", j->id.name,
	        j->id.ordinal, j->s.data_dir, datadir_state_name(ls->data.state), ls->data.reason);
	if (ls->wal_unreadable) {
		log_msg(LOG_FATAL,
		        "cannot read the WAL's metadata: %s; deciding nothing, nothing moved",
		        ls->wal_seen.error);
		return EXIT_FAILED;
	}
	j->has_wal = ls->data.state == DATADIR_VALID && ls->wal_seen.r == 0;
	if (j->has_wal)
		log_msg(LOG_INFO, "the data belongs to member id=%s cluster_id=%s",
		        etcd_id_hex(ls->wal.member_id, id), etcd_id_hex(ls->wal.cluster_id, cid));
	else if (ls->wal_seen.r < 0 && ls->wal_seen.r != -ENOENT &&
	         ls->data.state == DATADIR_PARTIAL)
		log_msg(LOG_WARNING, "the WAL's metadata is unreadable: %s", ls->wal_seen.error);
	j->tombstoned = j->has_wal && state_tombstoned(ls);
	if (j->tombstoned)
		log_msg(LOG_INFO, "a tombstone says etcd-leave removed member id=%s cluster_id=%s",
		        etcd_id_hex(ls->tomb.member_id, id), etcd_id_hex(ls->tomb.cluster_id, cid));
	j->marker = state_marker_formed(ls);
	if (ls->marker_seen.r == 0)
		log_msg(LOG_INFO,
		        "the cluster marker says this member's cluster formed: cluster_id=%s member id=%s",
		        etcd_id_hex(ls->marker_cluster, cid), etcd_id_hex(ls->marker_member, id));
	else if (j->marker)
		log_msg(LOG_WARNING, "%s; treating the cluster as formed", ls->marker_seen.error);
	return 0;
}

/* The StatefulSet, where the Kubernetes API answers (cached a while): its spec.replicas,
 * so that the probe asks every pod the set may have (0 when unknown), and the mark that
 * its cluster formed, kept outside every volume (kube.h). */
static void read_statefulset(struct join *j)
{
	struct kube_statefulset sts;
	struct deadline d;
	struct error err;

	if (j->replicas_read_ms && clock_now_ms() - j->replicas_read_ms < REPLICAS_TTL_MS)
		return;
	j->replicas_read_ms = clock_now_ms();
	error_clear(&err);
	deadline_init(&d, KUBE_TIMEOUT_MS);
	j->sts_read =
	        kube_statefulset_read(j->s.sa_dir, j->s.namespace, j->id.set_name, &d, &sts, &err);
	snprintf(j->sts_why, sizeof(j->sts_why), "%s", err.msg);
	if (j->sts_read == 0) {
		if (sts.replicas != j->replicas)
			log_msg(LOG_DEBUG, "the StatefulSet wants %u replicas", sts.replicas);
		j->replicas = sts.replicas;
		j->pods_created = sts.created;
		if (sts.formed_cluster[0] && !j->sts_formed) {
			/* the annotation holds the ID in hex, as the messages do */
			log_msg(LOG_INFO,
			        "the StatefulSet's annotation " KUBE_FORMED_ANNOTATION
			        " says its cluster formed: cluster_id='%s'",
			        sts.formed_cluster);
		}
		j->sts_formed = j->sts_formed || sts.formed_cluster[0];
	} else if (!j->replicas_warned && err.code != -ENXIO) {
		/* Without them the probe asks fewer pods: say so once. */
		log_msg(LOG_WARNING,
		        "the StatefulSet's replicas are unknown (%s); asking the initial members and every name that resolves%s",
		        err.msg,
		        err.code == -EACCES ? "; grant the service account 'get' on its StatefulSet"
		                            : "");
		j->replicas_warned = true;
	} else {
		log_msg(LOG_DEBUG, "the StatefulSet's replicas are unknown: %s", err.msg);
	}
}

/* Does the absence of the StatefulSet's mark say that no cluster formed? Only where the mark
 * could have been written: the StatefulSet read without it, and a dry-run PATCH of it
 * allowed; or outside Kubernetes (no KUBERNETES_SERVICE_HOST), where the only marks are on
 * the volumes. Otherwise a bootstrap on silent peers could start a second cluster beside
 * one whose volumes are only away: the wait goes on, and the log says why. */
static bool mark_authoritative(struct join *j)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	char why[sizeof(j->mark_told)] = "";
	struct deadline d;
	struct error err;

	if (j->sts_read == -ENXIO && (!host || !*host))
		return true;
	if (j->sts_read < 0) {
		snprintf(why, sizeof(why), "the StatefulSet cannot be read (%s)", j->sts_why);
	} else if (j->may_mark <= 0 &&
	           (!j->may_mark || clock_now_ms() - j->may_mark_ms >= REPLICAS_TTL_MS)) {
		error_clear(&err);
		deadline_init(&d, KUBE_TIMEOUT_MS);
		j->may_mark_ms = clock_now_ms();
		j->may_mark = kube_statefulset_may_mark(j->s.sa_dir, j->s.namespace, j->id.set_name,
		                                        &d, &err) == 0
		                      ? 1
		                      : -1;
		if (j->may_mark < 0)
			snprintf(why, sizeof(why), "the StatefulSet cannot be marked (%s)%s",
			         err.msg,
			         err.code == -EACCES ? "; grant the service account 'patch' on it"
			                             : "");
	}
	if (j->sts_read == 0 && j->may_mark > 0)
		return true;
	if (why[0] && strcmp(why, j->mark_told) != 0) {
		log_msg(LOG_WARNING,
		        "the bootstrap wait is over but some peers are silent, and nothing says whether their cluster formed: %s; waiting until every initial member answers",
		        why);
		snprintf(j->mark_told, sizeof(j->mark_told), "%s", why);
	}
	return false;
}

/* Do the names of every initial member resolve? etcd resolves --initial-cluster once. */
static bool initial_names_resolve(const struct join *j, char *missing, size_t size)
{
	for (unsigned i = 0; i < j->s.initial_cluster_size; i++) {
		char *host = endpoints_host(&j->ep, i);
		bool ok = host && getaddrinfo_ok(host);

		if (!ok)
			snprintf(missing, size, "%s", host ? host : "?");
		free(host);
		if (!ok)
			return false;
	}
	return true;
}

/* What a probe saw, for the log (quiet: a wait round, where only news is said). */
static void log_probe(const struct join *j, const struct cluster_probe *p,
                      const struct join_input *in, bool quiet, bool bootstrap_question,
                      const char *missing)
{
	if (p->answer == CLUSTER_ANSWERS) {
		if (!quiet)
			log_members(j);
	} else if (p->answer == CLUSTER_CONFLICT) {
		log_msg(LOG_ERROR, "split brain suspected: %s", p->why);
	} else if (p->answer == CLUSTER_UNREADABLE) {
		log_msg(quiet ? LOG_DEBUG : LOG_WARNING,
		        "no member list can be read, and that is not silence: %s", p->why);
	} else if (!quiet) {
		log_msg(LOG_INFO, "no cluster answers: asked %u client URL(s), last: %s", p->asked,
		        p->why[0] ? p->why : "no other member to ask");
	}
	if (bootstrap_question && !quiet && p->answer == CLUSTER_NONE) {
		if (p->formed)
			log_msg(LOG_WARNING, "a cluster formed before: %s", p->formed_why);
		if (p->peer_unreadable)
			log_msg(LOG_WARNING, "a peer answers what cannot be read: %s",
			        p->peer_unreadable_why);
		log_msg(LOG_INFO, "heard from %u of the %u peers to hear from%s%s", p->heard,
		        p->must_hear, p->silent[0] ? "; silent: " : "", p->silent);
		if (!in->initial_names_resolve)
			log_msg(LOG_INFO, "the initial peer name '%s' does not resolve yet",
			        missing);
	}
}

/* What the wait's progress lines say the probe saw. */
static void set_waiting_detail(struct join *j, const struct cluster_probe *p,
                               const struct join_input *in, bool bootstrap_question,
                               const char *missing)
{
	if (p->login_failed)
		snprintf(j->waiting_detail, sizeof(j->waiting_detail), "%s", p->login_why);
	else if (p->answer == CLUSTER_NONE && j->sts_formed && !j->marker && !p->formed)
		/* The only evidence: say how to start a new cluster on empty volumes on purpose. */
		snprintf(
		        j->waiting_detail, sizeof(j->waiting_detail),
		        "the StatefulSet's annotation " KUBE_FORMED_ANNOTATION
		        " says its cluster formed (to bootstrap a new cluster on empty volumes on purpose, remove it: kubectl annotate statefulset %s " KUBE_FORMED_ANNOTATION
		        "-)",
		        j->id.set_name);
	else if (p->answer != CLUSTER_NONE || !bootstrap_question || in->formed)
		snprintf(j->waiting_detail, sizeof(j->waiting_detail), "%s", p->why);
	else if (p->silent[0])
		snprintf(j->waiting_detail, sizeof(j->waiting_detail), "silent: %s", p->silent);
	else if (!in->initial_names_resolve)
		snprintf(j->waiting_detail, sizeof(j->waiting_detail), "'%s' does not resolve",
		         missing);
	else
		snprintf(j->waiting_detail, sizeof(j->waiting_detail), "%s",
		         p->peer_unreadable ? p->peer_unreadable_why : p->why);
}

/* Ask the pods of the set (cluster.h) and fill the decision's inputs. `quiet` during waits:
 * the outcome is logged only when it changes. Returns 0 or an exit code. */
static int probe(struct join *j, struct join_input *in, bool quiet)
{
	struct cluster_probe_opts o = {
	        .ep = &j->ep,
	        .ordinal = j->id.ordinal,
	        .initial_size = j->s.initial_cluster_size,
	        .extra = j->s.endpoints,
	        .call_timeout_ms = CALL_TIMEOUT_MS,
	};
	static const enum join_cluster answers[] = {
	        [CLUSTER_NONE] = JOIN_CLUSTER_NONE,
	        [CLUSTER_ANSWERS] = JOIN_CLUSTER_ANSWERS,
	        [CLUSTER_UNREADABLE] = JOIN_CLUSTER_UNREADABLE,
	        [CLUSTER_CONFLICT] = JOIN_CLUSTER_CONFLICT,
	};
	struct cluster_probe p;
	char missing[256] = "";
	bool bootstrap_question;

	read_statefulset(j);
	o.replicas = j->replicas;
	/* The peer ports matter only to an empty member that may bootstrap. */
	bootstrap_question = j->local.data.state == DATADIR_EMPTY && !j->marker && !j->sts_formed &&
	                     j->id.ordinal < j->s.initial_cluster_size;
	o.peers = bootstrap_question && !in->formed;
	if (o.peers)
		o.bootstrap_cluster_id = bootstrap_cluster_id(j);
	if (cluster_probe(j->http, &o, &p) < 0) {
		log_msg(LOG_FATAL, "out of memory");
		return EXIT_FAILED;
	}
	in->cluster = answers[p.answer];
	/* Once seen, formation stays seen for this run: a peer that said so and then went
	 * silent proves nothing new. */
	if (quiet && p.formed && !in->formed)
		log_msg(LOG_WARNING, "a cluster formed before: %s", p.formed_why);
	in->formed = in->formed || j->marker || j->sts_formed || p.formed;
	in->peers_heard = p.heard == p.must_hear;
	in->peer_unreadable = p.peer_unreadable;
	in->initial_names_resolve = initial_names_resolve(j, missing, sizeof(missing));
	in->vouch = JOIN_VOUCH_UNKNOWN;
	if (p.answer == CLUSTER_ANSWERS || p.answer == CLUSTER_CONFLICT) {
		free(j->answered_at);
		j->answered_at = strdup(p.answered_at);
		take_members(j, &p.members);
		if (!j->answered_at || refresh_cluster_client(j) < 0) {
			cluster_probe_free(&p);
			log_msg(LOG_FATAL, "out of memory");
			return EXIT_FAILED;
		}
	}
	if (p.login_failed && (!quiet || !j->login_warned)) {
		log_msg(LOG_ERROR, "%s", p.login_why);
		j->login_warned = true;
	}
	log_probe(j, &p, in, quiet, bootstrap_question, missing);
	set_waiting_detail(j, &p, in, bootstrap_question, missing);
	cluster_probe_free(&p);
	return 0;
}

/* Valid data: may the answering cluster have it? Its leader's own view decides
 * (join_vouch_of()): the same cluster ID, a raft log not behind the data's, and, for a
 * member it does not list, its peer port's word that it removed this very member ID. */
static void confirm(struct join *j, struct join_input *in)
{
	static const char *const said[] = {
	        [JOIN_PEER_NO_ANSWER] =
	                "does not list it, and its peer port gives no answer about it",
	        [JOIN_PEER_REMOVED] =
	                "does not list it, and its cluster's peer port says it removed it",
	        [JOIN_PEER_MEMBER] = "does not list it, but its peer port says it is a member",
	        [JOIN_PEER_UNKNOWN] = "does not list it, and its peer port says it never had it",
	        [JOIN_PEER_OTHER_CLUSTER] =
	                "does not list it, and its peer port says it is of another cluster",
	};
	enum join_peer_word peer = JOIN_PEER_NO_ANSWER;
	struct etcd_member_list l = {0};
	struct etcd_status st = {0};
	struct wal_state ws = {0};
	char a[ETCD_ID_STR_MAX], b[ETCD_ID_STR_MAX], c[ETCD_ID_STR_MAX], m[ETCD_ID_STR_MAX];
	enum etcd_peer_says says;
	struct deadline d;
	struct error err;
	bool has_leader, lists_me = false;
	int r;

	error_clear(&err);
	deadline_init(&d, PROBE_TIMEOUT_MS);
	r = cluster_leader_view(j->http, &j->members, j->answered_at, &d, &st, &l, &err);
	has_leader = r == 0;
	if (r < 0)
		log_msg(LOG_WARNING, "cannot hear from the cluster's leader: %s", err.msg);
	if (has_leader) {
		take_members(j, &l);
		refresh_cluster_client(j);
		lists_me = find_me(j) == JOIN_ME_SAME;
		error_clear(&err);
		if (!lists_me) {
			if (cluster_leader_says(j->http, &j->members, st.member_id,
			                        j->local.wal.cluster_id, j->local.wal.member_id, &d,
			                        &says, &err) == 0)
				peer = (enum join_peer_word)says;
			else
				log_msg(LOG_WARNING,
				        "no peer port of the cluster answers about this member: %s",
				        err.msg);
		}
	}
	error_clear(&err);
	if (wal_read_state(j->s.data_dir, &ws, &err) < 0) {
		/* Without the data's log position, a cluster behind it cannot be told apart. */
		log_msg(LOG_WARNING, "cannot read how far the data's raft log went: %s", err.msg);
		ws.commit = UINT64_MAX;
	}
	in->vouch = join_vouch_of(has_leader, st.cluster_id, st.raft_index, lists_me, peer,
	                          j->local.wal.cluster_id, ws.commit);
	if (has_leader)
		log_msg(in->vouch == JOIN_VOUCH_YES || in->vouch == JOIN_VOUCH_LISTED ? LOG_INFO
		                                                                      : LOG_ERROR,
		        "the leader id=%s of cluster_id=%s is at raft index %" PRIu64
		        "; this data belongs to cluster_id=%s and committed index %" PRIu64
		        "; of member id=%s the leader %s",
		        etcd_id_hex(st.member_id, a), etcd_id_hex(st.cluster_id, b), st.raft_index,
		        etcd_id_hex(j->local.wal.cluster_id, c), ws.commit,
		        etcd_id_hex(j->local.wal.member_id, m), lists_me ? "lists it" : said[peer]);
}

/* What a wait waits for, for the join state (etcd-promote hands over on "waiting...") and
 * the log. */
static const char *wait_state(enum join_action a)
{
	return a == JOIN_WAIT_PEERS ? "waiting-peers" : "waiting-cluster";
}

/* One round of a wait: the deadline, the progress line, the sleep. Returns 0 to probe
 * again, or an exit code. */
static int wait_round(struct join *j, const struct join_decision *dec, struct backoff *b,
                      struct log_progress *progress)
{
	const char *what = dec->action == JOIN_WAIT_PEERS ? "every peer to be heard from"
	                                                  : "the cluster to answer";

	if (deadline_passed(&j->deadline)) {
		log_msg(LOG_FATAL,
		        "gave up waiting for %s after %.0fs (%s): %s; this member will not bootstrap a second cluster",
		        what, log_progress_elapsed(progress), j->waiting_detail, dec->reason);
		return EXIT_DEADLINE;
	}
	if (j->state != wait_state(dec->action))
		set_state(j, wait_state(dec->action), -1);
	if (log_progress_due(progress))
		log_progress_msg(progress, &j->deadline, "waiting for %s: %s", what,
		                 j->waiting_detail);
	wait_a_little(j, backoff_next(b, &j->deadline));
	return clock_stop_signal() ? stopped(j, what) : 0;
}

/* Before the first decision: the volume read, the HTTP client, the beacon on the peer port
 * and the retention a program killed half-way left undone. Returns 0 or an exit code. */
static int prepare(struct join *j)
{
	struct http_options ho = {
	        .connect_timeout_ms = CONNECT_TIMEOUT_MS,
	        .call_timeout_ms = CALL_TIMEOUT_MS,
	        .cacert = j->s.cacert,
	        .cert = j->s.cert,
	        .key = j->s.key,
	};
	struct error err;
	int r;

	error_clear(&err);
	r = read_local_state(j);
	if (r)
		return r;
	if (http_global_init(&err) < 0 || http_client_new(&ho, &j->http, &err) < 0 ||
	    (j->s.user && http_client_set_login(j->http, j->s.user, j->s.password) < 0)) {
		log_msg(LOG_FATAL, "%s", err.msg[0] ? err.msg : "out of memory");
		return EXIT_FAILED;
	}
	/* Until etcd runs, answer on the peer port for this member (beacon.h). A data dir in use
	 * is refused later with nothing touched, its helper folder included. */
	if (j->local.data.state == DATADIR_IN_USE)
		return 0;
	if (!j->s.dry_run && beacon_open(j->s.peer_port, &j->beacon, &err) < 0)
		log_msg(LOG_WARNING, "%s: the peers will not hear from this member until etcd runs",
		        err.msg);
	set_state(j, "deciding", -1);
	/* etcd-leave dies with the container, which exits once its member is removed. */
	if (!j->s.dry_run)
		quarantine_prune(j->s.data_dir, j->s.quarantine_keep, cli_log_pruned,
		                 &j->s.quarantine_keep);
	return 0;
}

/* The decision on what is known now; said when it differs from the last one (a wait
 * repeats the same decision each round). */
static struct join_decision next_decision(struct join *j, struct join_input *in,
                                          struct join_decision *last)
{
	struct join_decision dec;

	in->data = j->local.data.state;
	in->formed = in->formed || j->marker;
	in->tombstoned = j->tombstoned;
	in->me = j->has_members ? find_me(j) : JOIN_ME_ABSENT;
	in->bootstrap_wait_over =
	        j->peers_wait_since_ms &&
	        clock_now_ms() - j->peers_wait_since_ms >= j->s.bootstrap_wait_ms &&
	        mark_authoritative(j);
	dec = join_decide(in);
	if (dec.action != last->action || dec.reason != last->reason)
		log_msg(dec.action == JOIN_REFUSE ? LOG_FATAL : LOG_INFO, "decision: %s: %s",
		        join_action_name(dec.action), dec.reason);
	*last = dec;
	return dec;
}

static bool changes_something(enum join_action a)
{
	return a == JOIN_QUARANTINE || a == JOIN_REPLACE || a == JOIN_ADD;
}

/* A step that does not start etcd: probe, confirm, quarantine, replace. Returns 0 (decide
 * again) or an exit code. */
static int step(struct join *j, const struct join_decision *dec, struct join_input *in)
{
	int r = 0;

	switch (dec->action) {
	case JOIN_PROBE:
		r = probe(j, in, false);
		/* A call cut short by a stop signal looks like a silent peer: never decide on
		 * it. */
		if (!r && clock_stop_signal())
			r = stopped(j, "the cluster's answer");
		return r;
	case JOIN_CONFIRM:
		confirm(j, in);
		return clock_stop_signal() ? stopped(j, "the leader's answer") : 0;
	case JOIN_QUARANTINE:
		/* Empty now: what the peers said about formation still holds. */
		return quarantine_data(j, dec);
	case JOIN_REPLACE:
		return replace_member(j);
	default:
		return 0;
	}
}

/* The final step: the member list or the marker for etcd's flags, then exec etcd. Returns
 * an exit code (only when etcd could not be started). */
static int finish(struct join *j, const struct join_decision *dec)
{
	struct error err;
	int r;

	error_clear(&err);
	switch (dec->action) {
	case JOIN_ADD:
		r = add_member(j);
		if (r)
			return r;
		j->initial_cluster = initial_cluster_from_members(j);
		break;
	case JOIN_REUSE:
		j->initial_cluster = initial_cluster_from_members(j);
		break;
	case JOIN_BOOTSTRAP:
		j->initial_cluster = endpoints_initial_cluster(&j->ep, j->s.initial_cluster_size);
		break;
	case JOIN_RESTART:
		if (j->has_wal && !j->s.dry_run &&
		    state_marker_write(j->s.data_dir, j->local.wal.cluster_id,
		                       j->local.wal.member_id, &err) < 0)
			log_msg(LOG_WARNING, "cannot write the cluster marker: %s", err.msg);
		break;
	default:
		return EXIT_FAILED; /* not a final step */
	}
	if (dec->action != JOIN_RESTART && !j->initial_cluster) {
		log_msg(LOG_FATAL, "out of memory");
		return EXIT_FAILED;
	}
	return start_etcd(j, dec);
}

static int run(struct join *j)
{
	struct join_input in = {.ordinal = j->id.ordinal,
	                        .initial_size = j->s.initial_cluster_size};
	struct join_decision dec, last = {0};
	struct log_progress progress;
	struct backoff b;
	unsigned changes = 0;
	bool waiting = false;
	int r = prepare(j);

	if (r)
		return r;
	for (;;) {
		dec = next_decision(j, &in, &last);
		/* A dry run stops before the first step that would change anything or wait. */
		if (j->s.dry_run && (changes_something(dec.action) || dec.action == JOIN_WAIT ||
		                     dec.action == JOIN_WAIT_PEERS)) {
			cli_dry_run(join_action_name(dec.action), dec.reason, "exec",
			            "not known yet: etcd's flags depend on this step's outcome",
			            NULL);
			return EXIT_DONE;
		}
		if (dec.action == JOIN_WAIT || dec.action == JOIN_WAIT_PEERS) {
			if (dec.action == JOIN_WAIT_PEERS && !j->peers_wait_since_ms)
				j->peers_wait_since_ms = clock_now_ms();
			if (!waiting) {
				log_progress_start(&progress, PROGRESS_INTERVAL_MS);
				backoff_init(&b, WAIT_FIRST_MS, WAIT_MAX_MS);
				waiting = true;
			}
			r = wait_round(j, &dec, &b, &progress);
			if (r == 0)
				r = probe(j, &in, true);
			if (!r && clock_stop_signal())
				r = stopped(j, "the cluster's answer");
			if (r)
				return r;
			continue;
		}
		if (waiting) {
			log_msg(LOG_INFO, "waited %.1fs", log_progress_elapsed(&progress));
			if (in.cluster == JOIN_CLUSTER_ANSWERS)
				log_members(j);
			set_state(j, "deciding", -1);
			waiting = false;
		}
		if (changes_something(dec.action) && ++changes > MAX_CHANGES) {
			log_msg(LOG_FATAL,
			        "no decision after %u changes; the cluster keeps changing under us",
			        MAX_CHANGES);
			return EXIT_FAILED;
		}
		if (dec.action == JOIN_REFUSE)
			return dec.exit_code;
		if (dec.action == JOIN_PROBE || dec.action == JOIN_CONFIRM ||
		    dec.action == JOIN_QUARANTINE || dec.action == JOIN_REPLACE) {
			r = step(j, &dec, &in);
			if (r)
				return r;
			continue;
		}
		return finish(j, &dec);
	}
}

static const struct cli join_cli = {
        .program = "etcd-join",
        .synopsis = "[options] [-- etcd flags...]",
        .summary =
                "Decide how this etcd member starts (bootstrap, restart, add, reuse, replace),\nrepair what must be repaired, and exec etcd. --dry-run prints the decision and\netcd's argv.",
        .uses = uses,
        .timeout_help = "the run's deadline (300s)",
        .footer =
                "Exit: 0 dry run done, 1 failed, 2 usage or configuration, 3 refused for safety,\n4 deadline passed, 126/127 etcd cannot be executed / not found, 128+N stopped\nby signal N while waiting. See etcd-join(8).\n",
        .allow_extra = true,
};

int main(int argc, char **argv)
{
	struct join j = {0};
	struct error err;
	int first_extra, r;

	log_init("etcd-join", "/dev/termination-log", false);
	clock_handle_stop_signals();
	error_clear(&err);
	settings_init(&j.s);
	r = cli_parse(&join_cli, &j.s, argc, argv, &first_extra);
	if (r >= 0)
		goto out;
	j.extra = argv + first_extra;
	j.n_extra = (size_t)(argc - first_extra);
	if (etcdargs_check_extra(j.extra, j.n_extra, &err) < 0) {
		r = cli_usage_error("etcd-join", "%s", err.msg);
		goto out;
	}
	log_init("etcd-join", j.s.dry_run ? NULL : "/dev/termination-log", j.s.debug);
	r = cli_check(&j.s, &j.id);
	if (r)
		goto out;
	/* All of the configuration is checked before the first change, dry runs included; the
	 * hooks' own deadline variables too, so that their error is the container's. */
	if (etcdargs_check_env(environ, &err) < 0 || settings_check_program_envs(&err) < 0 ||
	    datadir_check_volume(j.s.data_dir, NULL, &err) < 0) {
		log_msg(LOG_FATAL, "%s", err.msg);
		r = EXIT_USAGE;
		goto out;
	}
	if (!j.s.timeout_ms)
		j.s.timeout_ms = DEFAULT_TIMEOUT_MS;
	deadline_init(&j.deadline, j.s.timeout_ms);
	endpoints_init(&j.ep, &j.s, j.id.set_name);
	j.my_peer_url = endpoints_peer_url(&j.ep, j.id.ordinal);
	j.my_client_url = endpoints_client_url(&j.ep, j.id.ordinal);
	j.etcd_path = find_etcd(j.s.etcd);
	if (!j.my_peer_url || !j.my_client_url) {
		log_msg(LOG_FATAL, "out of memory");
		r = EXIT_FAILED;
		goto out;
	}
	if (!j.etcd_path) {
		if (!j.s.dry_run) {
			log_msg(LOG_FATAL, "etcd is not on PATH; give its path with --etcd");
			r = EXIT_NOT_FOUND;
			goto out;
		}
		log_msg(LOG_WARNING, "etcd is not on PATH; the dry run shows 'etcd'");
		j.etcd_path = strdup("etcd");
	}
	r = run(&j);
	/* Still here: etcd was not exec'd. etcd-promote stops waiting for it. */
	if (j.state)
		set_state(&j, "exited", r);
out:
	beacon_close(j.beacon);
	etcd_member_list_free(&j.members);
	etcd_client_free(j.cluster);
	http_client_free(j.http);
	free(j.answered_at);
	free(j.my_peer_url);
	free(j.my_client_url);
	free(j.etcd_path);
	free(j.initial_cluster);
	settings_free(&j.s);
	return r;
}
