/*
 * etcd-promote: lifecycle.postStart of the etcd container.
 *
 * Kubernetes starts it together with the container's command, so etcd-join may still be
 * deciding. It waits (bounded) until this pod's etcd answers on its peer port, which it does
 * at once even without quorum, and finds this member there. Whether it is a learner is asked
 * of the voting members (a member that has just started may not know yet that it is one);
 * when they do not answer (no quorum), its own view decides. A voting member (every member
 * on etcd 3.3, a bootstrapped or restarted one) needs nothing: exit 0. A learner is promoted
 * as soon as etcd accepts it ("not in sync" is expected for a while), with bounded backoff.
 * If this fails, the kubelet restarts the container; etcd-join then restarts the learner on
 * its data and postStart tries again.
 *
 * The pod is not Ready until postStart returns, and an OrderedReady StatefulSet creates the
 * next pod only then. So while etcd-join waits for something only later pods can bring (peer
 * names, a cluster), this hook returns 0 at once and goes on watching in the background.
 */
#include "cli.h"
#include "clock.h"
#include "datadir.h"
#include "endpoints.h"
#include "etcd.h"
#include "exitcode.h"
#include "fsutil.h"
#include "http.h"
#include "identity.h"
#include "kube.h"
#include "leakcheck.h"
#include "log.h"
#include "settings.h"
#include "state.h"
#include "wal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_MS (300 * 1000)
/* In the helper folder: the log of a promote watch handed over to the background. */
#define PROMOTE_LOG     "etcd-promote.log"
#define CALL_TIMEOUT_MS 1000
#define KUBE_TIMEOUT_MS 2000
/* How long the voters get to say whether this member is a learner. */
#define CONFIRM_TIMEOUT_MS 3000
/* How long a dry run waits for this member's etcd before it says what a run would do. */
#define DRY_RUN_WAIT_MS 3000
/* How long a configuration error is held before exit 2 (see config_error()). */
#define CONFIG_ERROR_HOLD_MS 5000
#define PROGRESS_INTERVAL_MS 5000

struct promote {
	struct settings s;
	bool background;         /* handed over: no more handing over */
	bool forked;             /* this is the background watch */
	struct timespec started; /* CLOCK_REALTIME at our start, against the join state's mtime */
	struct identity id;
	struct endpoints ep;
	struct deadline deadline;
	struct http_client *http;
	char *my_peer_url;
	char local_peer[64], local_client[64]; /* this pod's etcd, over loopback */
};

static const enum setting_key uses[] = {CLI_USES_CLUSTER, SETTING_TIMEOUT, SETTING_DRY_RUN,
                                        SETTING_DEBUG, SETTING_KEY_END};

/* The command name of process pid ("" when it is gone). */
static void process_name(const char *pid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(buf, (int)size, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* What etcd-join, still running, waits for: the state it wrote in the helper folder, when
 * the pid and start time it names are an etcd-join that still runs (after the exec it is
 * etcd; a later process with the same pid has another start time). */
static bool join_is_waiting(const struct promote *p, char *state, size_t size)
{
	char pid[32], start[32], comm[32], now_start[32];

	if (state_value(p->s.data_dir, STATE_JOIN_STATE, "pid", pid, sizeof(pid)) < 0 ||
	    state_value(p->s.data_dir, STATE_JOIN_STATE, "state", state, size) < 0)
		return false;
	process_name(pid, comm, sizeof(comm));
	if (state_value(p->s.data_dir, STATE_JOIN_STATE, "start_time", start, sizeof(start)) == 0) {
		fsutil_process_start_time(pid, now_start, sizeof(now_start));
		if (strcmp(start, now_start) != 0)
			return false;
	}
	return strcmp(comm, "etcd-join") == 0 && strncmp(state, "waiting", 7) == 0;
}

/* Did this container's etcd-join exit without starting etcd? Its join state says "exited",
 * written after this hook started (a record from an earlier container is older than us).
 * Then nothing will ever answer here: stop waiting. Returns true with its exit code. */
static bool join_exited(const struct promote *p, int *ret_code)
{
	char state[32], code[16], *dir = state_helper_dir(p->s.data_dir), path[4096];
	struct stat st;
	bool newer;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : ".", STATE_JOIN_STATE);
	free(dir);
	if (stat(path, &st) < 0 ||
	    state_value(p->s.data_dir, STATE_JOIN_STATE, "state", state, sizeof(state)) < 0 ||
	    strcmp(state, "exited") != 0)
		return false;
	newer = st.st_mtim.tv_sec > p->started.tv_sec || (st.st_mtim.tv_sec == p->started.tv_sec &&
	                                                  st.st_mtim.tv_nsec >= p->started.tv_nsec);
	if (!newer)
		return false;
	*ret_code = -1;
	if (state_value(p->s.data_dir, STATE_JOIN_STATE, "exit_code", code, sizeof(code)) == 0)
		sscanf(code, "%d", ret_code);
	return true;
}

/* Did this container's etcd-join bootstrap or restart this member (not add it)? Then its
 * own view of whether it is a learner is right: it comes from its data or its bootstrap.
 * The decision names etcd-join's pid, which the exec gave to etcd. */
static bool started_from_own_state(const struct promote *p)
{
	char pid[32], action[32], comm[32];

	if (state_value(p->s.data_dir, STATE_LAST_DECISION, "pid", pid, sizeof(pid)) < 0 ||
	    state_value(p->s.data_dir, STATE_LAST_DECISION, "action", action, sizeof(action)) < 0)
		return false;
	process_name(pid, comm, sizeof(comm));
	return strcmp(comm, "etcd") == 0 &&
	       (strcmp(action, "bootstrap") == 0 || strcmp(action, "restart") == 0);
}

/* Go on in a child of our own session; the parent returns 0 so the pod can become Ready.
 * Returns true in the parent. */
static bool hand_over(struct promote *p, const char *state)
{
	char *dir = state_helper_dir(p->s.data_dir), path[4096];
	pid_t pid;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : ".", PROMOTE_LOG);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		log_msg(LOG_WARNING,
		        "etcd-join is %s, and cannot fork a background watch: %s; waiting here",
		        state, strerror(errno));
		p->background = true;
		free(dir);
		return false;
	}
	if (pid > 0) {
		log_msg(LOG_INFO,
		        "etcd-join is %s: returning so that the pod can become Ready, and watching in the background (pid %d, until the deadline) in case this member joins as a learner; its log: '%s'",
		        state, (int)pid, path);
		free(dir);
		return true;
	}
	setsid();
	p->background = p->forked = true;
	/* The hook's output goes away with the hook (a write would then kill us with
	 * SIGPIPE): log to a file in the helper folder instead. */
	signal(SIGPIPE, SIG_IGN);
	fd = dir && (mkdir(dir, 0700) == 0 || errno == EEXIST)
	             ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600)
	             : -1;
	if (fd < 0)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	free(dir);
	return false;
}

/* This member in a member list: by the member ID of its own data, for a restarted etcd
 * replaying its log may list an earlier member with this peer URL for a moment (a voter,
 * where this member is a learner). An etcd that answers has its WAL in place (it renames
 * it there before it serves): a WAL that cannot be read then (a segment cut or purged at
 * that moment) is "not yet", asked again. By its peer URL only when the list's IDs could
 * not be read, or while this pod's data dir has no WAL dir at all (etcd not started). */
static const struct etcd_member *find_me(const struct promote *p, const struct etcd_member_list *l)
{
	struct wal_metadata md;
	struct error err;
	struct stat st;
	char wal_dir[4096];
	bool ids = l->n_members > 0;
	int r;

	for (size_t i = 0; i < l->n_members; i++)
		if (!l->members[i].id)
			ids = false;
	if (!ids)
		return etcd_member_find_peer_url(l, p->my_peer_url);
	snprintf(wal_dir, sizeof(wal_dir), "%s/member/wal", p->s.data_dir);
	if (stat(wal_dir, &st) < 0 && errno == ENOENT)
		return etcd_member_find_peer_url(l, p->my_peer_url);
	error_clear(&err);
	r = wal_read_metadata(p->s.data_dir, &md, &err);
	if (r < 0 || !md.member_id) {
		log_msg(LOG_DEBUG, "this member's WAL cannot be read yet: %s", err.msg);
		return NULL;
	}
	for (size_t i = 0; i < l->n_members; i++)
		if (l->members[i].id == md.member_id)
			return &l->members[i];
	return NULL;
}

/* A dry run does not wait as a run would, nor fork a watch: it says what a run would do.
 * Returns -1 (the caller exits 0). */
static int dry_run_wait(const char *reason)
{
	cli_dry_run("wait", reason, NULL);
	return -1;
}

/* Wait until this pod's etcd answers on its peer port and lists this member. Returns 0,
 * an exit code, or -1 when the watch was handed over to the background or a dry run
 * stopped (the caller exits 0). */
static int wait_for_local_member(struct promote *p, bool *ret_learner)
{
	char why[ERROR_MSG_MAX + 512];
	struct log_progress progress;
	struct backoff b;

	log_progress_start(&progress, PROGRESS_INTERVAL_MS);
	backoff_init(&b, 50, 1000);
	for (;;) {
		struct etcd_member_list l = {0};
		const struct etcd_member *m = NULL;
		struct deadline d;
		struct error err;

		error_clear(&err);
		deadline_init(&d, CALL_TIMEOUT_MS);
		if (etcd_peer_members(p->http, p->local_peer, &d, &l, &err) == 0 &&
		    (m = find_me(p, &l))) {
			*ret_learner = m->is_learner;
			etcd_member_list_free(&l);
			log_msg(LOG_INFO, "this member's etcd answers waited=%.1fs learner=%s",
			        log_progress_elapsed(&progress), *ret_learner ? "yes" : "no");
			return 0;
		}
		etcd_member_list_free(&l);
		if (!p->background) {
			char state[32];

			/* asked once: a dry run must never reach hand_over() */
			if (join_is_waiting(p, state, sizeof(state))) {
				if (p->s.dry_run) {
					snprintf(
					        why, sizeof(why),
					        "etcd-join is %s: a run returns 0 and watches in the background",
					        state);
					return dry_run_wait(why);
				}
				if (hand_over(p, state))
					return -1;
			}
		}
		{
			int code;

			if (join_exited(p, &code)) {
				log_msg(LOG_FATAL,
				        "etcd-join exited (exit code %d) without starting etcd: nothing to promote; the container restarts",
				        code);
				return EXIT_FAILED;
			}
		}
		if (p->s.dry_run && log_progress_elapsed(&progress) * 1000 >= DRY_RUN_WAIT_MS) {
			snprintf(
			        why, sizeof(why),
			        "this member's etcd does not answer at '%s' yet (%s): a run waits for it until its deadline (%llus)",
			        p->local_peer,
			        err.msg[0] ? err.msg : "this member is not in its list",
			        (unsigned long long)(p->s.timeout_ms / 1000));
			return dry_run_wait(why);
		}
		if (deadline_passed(&p->deadline)) {
			log_msg(LOG_FATAL,
			        "this member's etcd did not answer at '%s' within %.0fs: %s",
			        p->local_peer, log_progress_elapsed(&progress),
			        err.msg[0] ? err.msg : "this member is not in its list");
			return EXIT_DEADLINE;
		}
		if (log_progress_due(&progress))
			log_progress_msg(&progress, &p->deadline,
			                 "waiting for this member's etcd at '%s'", p->local_peer);
		clock_sleep_ms(backoff_next(&b, &p->deadline));
	}
}

/* A client of the other members: the client URLs of the pods by ordinal (as etcd-join
 * asks them), then the client URLs this member's own view knows. Right after a join that
 * view has no client URLs yet, so the ordinals come first. A learner among them answers
 * "not supported" and the next one is asked. */
static int voter_client(struct promote *p, struct etcd_client **ret)
{
	struct etcd_member_list l = {0};
	struct deadline d;
	char **urls = NULL, **more;
	size_t n = 0;
	int r;

	deadline_init(&d, CALL_TIMEOUT_MS);
	etcd_peer_members(p->http, p->local_peer, &d, &l, NULL);
	/* As many ordinals as the local view has members, at least. */
	r = endpoints_other_client_urls(&p->ep, p->id.ordinal,
	                                l.n_members > p->s.initial_cluster_size
	                                        ? (unsigned)l.n_members
	                                        : p->s.initial_cluster_size,
	                                p->s.endpoints, &urls, &n);
	for (size_t i = 0; r == 0 && i < l.n_members; i++) {
		const struct etcd_member *m = &l.members[i];

		if (m->is_learner || etcd_member_has_peer_url(m, p->my_peer_url) ||
		    !m->n_client_urls)
			continue;
		more = realloc(urls, (n + 1) * sizeof(*urls));
		if (!more || !(more[n] = strdup(m->client_urls[0]))) {
			urls = more ? more : urls;
			r = -ENOMEM;
			break;
		}
		urls = more;
		n++;
	}
	if (r == 0)
		r = etcd_client_new(p->http, (const char *const *)urls, n, ret, NULL);
	endpoints_free_urls(urls, n);
	etcd_member_list_free(&l);
	return r;
}

/* Is this member a learner, as the voting members see it? Its own view right after the
 * start may still say it votes. Without an answer from them (no quorum: nothing could be
 * promoted anyway) its own view stands. */
static bool learner_per_voters(struct promote *p, bool local_view)
{
	struct etcd_client *voters = NULL;
	struct etcd_member_list l = {0};
	const struct etcd_member *me;
	struct deadline d;
	struct error err;
	bool learner = local_view;

	error_clear(&err);
	deadline_init(&d, CONFIRM_TIMEOUT_MS);
	while (!deadline_passed(&d)) {
		if (!voters && voter_client(p, &voters) < 0)
			break;
		if (etcd_member_list(voters, &d, &l, &err) == 0) {
			me = find_me(p, &l);
			if (me) {
				learner = me->is_learner;
				etcd_member_list_free(&l);
				break;
			}
			etcd_member_list_free(&l);
		}
		clock_sleep_ms(100);
	}
	if (deadline_passed(&d))
		log_msg(LOG_INFO,
		        "the voting members did not confirm: %s; this member's own view stands (learner=%s)",
		        err.msg[0] ? err.msg : "this member is not in their list",
		        local_view ? "yes" : "no");
	etcd_client_free(voters);
	return learner;
}

/* Promote this member, which the voters (or, without them, its own view) say is a learner. */
static int promote(struct promote *p)
{
	struct etcd_client *voters = NULL;
	struct log_progress progress;
	struct etcd_status st;
	char id[ETCD_ID_STR_MAX];
	struct backoff b;
	struct error err;
	unsigned not_in_sync = 0;
	int r;

	error_clear(&err);
	/* The member ID comes from the member itself: a learner answers status. Its own view
	 * of being a learner may lag behind the voters', which brought us here: a voter
	 * refuses the promote with "can only promote a learner member", which ends it. */
	r = etcd_status_get(p->http, p->local_client, &p->deadline, &st, &err);
	if (r < 0) {
		log_msg(LOG_FATAL, "cannot read this member's status at '%s': %s", p->local_client,
		        err.msg);
		return deadline_passed(&p->deadline) ? EXIT_DEADLINE : EXIT_FAILED;
	}
	etcd_id_hex(st.member_id, id);
	if (!st.is_learner)
		log_msg(LOG_INFO,
		        "this member id=%s says it votes, but it was seen as a learner: asking the voting members to promote it",
		        id);
	if (p->s.dry_run) {
		cli_dry_run(
		        "promote",
		        "this member is a learner: a run asks the voting members to promote it (etcd refuses until it is in sync with the leader)",
		        "member", id, NULL);
		return EXIT_DONE;
	}
	log_progress_start(&progress, PROGRESS_INTERVAL_MS);
	backoff_init(&b, 20, 1000);
	for (;;) {
		struct deadline d;

		error_clear(&err);
		deadline_init(&d, CALL_TIMEOUT_MS * 5);
		if (!voters)
			voter_client(p, &voters);
		r = voters ? etcd_member_promote(voters, st.member_id, &d, &err)
		           : error_set(&err, -EAGAIN, "no voting member known yet");
		if (r == 0) {
			log_msg(LOG_INFO,
			        "promoted this member id=%s to voter took=%.3fs not_in_sync_replies=%u",
			        id, log_progress_elapsed(&progress), not_in_sync);
			break;
		}
		if (err.etcd_code == ETCD_CODE_FAILED_PRECONDITION &&
		    strstr(err.msg, "in sync with leader")) {
			not_in_sync++;
		} else if (err.etcd_code == ETCD_CODE_FAILED_PRECONDITION &&
		           strstr(err.msg, "can only promote a learner member")) {
			log_msg(LOG_INFO, "this member is a voting member now id=%s", id);
			break;
		} else if (r != -ETIMEDOUT && r != -EAGAIN && !etcd_error_transient(&err) &&
		           err.etcd_code >= 0) {
			log_msg(LOG_FATAL, "cannot promote this member id=%s: %s", id, err.msg);
			r = EXIT_FAILED;
			goto out;
		}
		if (deadline_passed(&p->deadline)) {
			log_msg(LOG_FATAL, "this learner was not promoted within %.0fs: %s",
			        log_progress_elapsed(&progress), err.msg);
			r = EXIT_DEADLINE;
			goto out;
		}
		if (log_progress_due(&progress))
			log_progress_msg(&progress, &p->deadline,
			                 "waiting for the learner to catch up: %s", err.msg);
		clock_sleep_ms(backoff_next(&b, &p->deadline));
	}
	r = EXIT_DONE;
out:
	etcd_client_free(voters);
	return r;
}

/* The mark outside every volume that the cluster formed: an annotation on the StatefulSet,
 * where RBAC allows 'patch' (kube.h). Evidence that survives the loss of any volume, for
 * etcd-join's "never bootstrap again". Best effort. */
static void mark_statefulset(struct promote *p, uint64_t cluster_id)
{
	struct kube_statefulset sts;
	struct deadline d;
	struct error err;
	char hex[17];

	snprintf(hex, sizeof(hex), "%" PRIx64, cluster_id);
	error_clear(&err);
	deadline_init(&d, KUBE_TIMEOUT_MS);
	if (kube_statefulset_read(p->s.sa_dir, p->s.namespace, p->id.set_name, &d, &sts, &err) ==
	            0 &&
	    strcmp(sts.formed_cluster, hex) == 0)
		return;
	if (err.code == -ENXIO) {
		log_msg(LOG_DEBUG, "no Kubernetes API: %s", err.msg);
		return;
	}
	error_clear(&err);
	if (kube_statefulset_mark_formed(p->s.sa_dir, p->s.namespace, p->id.set_name, hex, &d,
	                                 &err) == 0)
		log_msg(LOG_INFO,
		        "marked the StatefulSet: " KUBE_FORMED_ANNOTATION
		        "=%s (its cluster formed)",
		        hex);
	else
		log_msg(LOG_WARNING,
		        "cannot mark the StatefulSet (%s)%s; that the cluster formed is then known only from the volumes and the live members",
		        err.msg,
		        err.code == -EACCES
		                ? ": grant the service account 'patch' on its StatefulSet"
		                : "");
}

/* Record that this member's cluster formed, for etcd-join's "never bootstrap again": the
 * marker beside the data dir, and the mark on the StatefulSet. */
static void write_marker(struct promote *p)
{
	struct etcd_status st;
	struct deadline d;
	struct error err;

	error_clear(&err);
	deadline_init(&d, CALL_TIMEOUT_MS);
	if (etcd_status_get(p->http, p->local_client, &d, &st, &err) < 0 || !st.cluster_id)
		return;
	if (state_marker_write(p->s.data_dir, st.cluster_id, st.member_id, &err) < 0)
		log_msg(LOG_WARNING, "cannot write the cluster marker: %s", err.msg);
	/* Only once the cluster has a leader: it formed. */
	if (st.leader)
		mark_statefulset(p, st.cluster_id);
}

/* A configuration error in the environment: the container's command, etcd-join, reads the
 * same settings and meets the same error. A failed postStart makes the kubelet kill the
 * container, so if this hook exited first, the container's exit code and termination
 * message (what kubectl describe shows; a hook's own output is only in an event) would be
 * a SIGTERM's, not etcd-join's. Said at once, the exit waits a little. */
static int config_error(void)
{
	log_msg(LOG_INFO, "exit 2 in %d s, so that the container's own error comes first",
	        CONFIG_ERROR_HOLD_MS / 1000);
	fflush(NULL);
	clock_sleep_ms(CONFIG_ERROR_HOLD_MS);
	return EXIT_USAGE;
}

static const struct cli promote_cli = {
        .program = "etcd-promote",
        .summary =
                "Promote this etcd member from learner to voter once it is in sync (postStart).\nA voting member needs nothing and exits 0 at once. --endpoints: whom it asks\nwhether it is a learner; --serviceaccount-dir: the StatefulSet it marks.",
        .uses = uses,
        .timeout_help = "the run's deadline (300s)",
        .footer =
                "Exit: 0 done (promoted, or nothing to do), 1 failed, 2 usage or configuration,\n4 deadline passed. See etcd-promote(8).\n",
};

/* The deadline, this member's URLs and the HTTP client (logged in when a user is set).
 * Returns 0 or EXIT_FAILED, logged. */
static int open_client(struct promote *p)
{
	struct http_options ho = {.call_timeout_ms = CALL_TIMEOUT_MS,
	                          .cacert = p->s.cacert,
	                          .cert = p->s.cert,
	                          .key = p->s.key};
	struct error err;

	error_clear(&err);
	if (!p->s.timeout_ms)
		p->s.timeout_ms = DEFAULT_TIMEOUT_MS;
	deadline_init(&p->deadline, p->s.timeout_ms);
	endpoints_init(&p->ep, &p->s, p->id.set_name);
	p->my_peer_url = endpoints_peer_url(&p->ep, p->id.ordinal);
	snprintf(p->local_peer, sizeof(p->local_peer), "http://127.0.0.1:%u", p->s.peer_port);
	snprintf(p->local_client, sizeof(p->local_client), "%s://127.0.0.1:%u",
	         p->ep.client_tls ? "https" : "http", p->s.client_port);
	if (!p->my_peer_url || http_global_init(&err) < 0 ||
	    http_client_new(&ho, &p->http, &err) < 0 ||
	    (p->s.user && http_client_set_login(p->http, p->s.user, p->s.password) < 0)) {
		log_msg(LOG_FATAL, "%s", err.msg[0] ? err.msg : "out of memory");
		return EXIT_FAILED;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct promote p = {0};
	struct error err;
	bool learner = false;
	int first, r;

	/* A hook: the termination log belongs to the container's main process. */
	log_init("etcd-promote", NULL, false);
	clock_gettime(CLOCK_REALTIME, &p.started);
	error_clear(&err);
	settings_init(&p.s);
	r = cli_parse(&promote_cli, &p.s, argc, argv, &first);
	if (r < 0) {
		log_init("etcd-promote", NULL, p.s.debug);
		r = cli_check(&p.s, &p.id);
		if (!r && datadir_check_volume(p.s.data_dir, NULL, &err) < 0) {
			log_msg(LOG_FATAL, "%s", err.msg);
			r = EXIT_USAGE;
		}
		if (!r)
			r = -1;
	}
	/* Every configuration error, a bad flag in the manifest's hook included; a dry run by
	 * hand answers at once. */
	if (r == EXIT_USAGE && !cli_by_hand())
		r = config_error();
	if (r >= 0)
		goto out;
	r = open_client(&p);
	if (r)
		goto out;
	r = wait_for_local_member(&p, &learner);
	if (r < 0) {
		r = EXIT_DONE; /* handed over (the background child goes on), or a dry run */
		goto out;
	}
	if (r)
		goto out;
	if (!started_from_own_state(&p))
		learner = learner_per_voters(&p, learner);
	if (learner)
		r = promote(&p);
	else if (p.s.dry_run)
		cli_dry_run("none", "this member votes: nothing to promote", NULL);
	else
		log_msg(LOG_INFO, "this member votes: nothing to promote");
	if (r == EXIT_DONE && !p.s.dry_run)
		write_marker(&p);
out:
	http_client_free(p.http);
	free(p.my_peer_url);
	settings_free(&p.s);
	/* The background watcher belongs to the container's PID 1 now, which is etcd, and etcd
	 * reaps no children: an exited watcher would stay a zombie until the container ends.
	 * It sleeps until then instead. */
	if (p.forked)
		log_msg(LOG_INFO, "the background watch pid %d is done (exit %d)", (int)getpid(),
		        r);
	if (p.background && getppid() == 1) {
		log_msg(LOG_DEBUG, "asleep until the container ends");
		fflush(NULL);
		leak_check_now();
		for (;;)
			pause();
	}
	return r;
}
