/*
 * etcd-promote: lifecycle.postStart of the etcd container.
 *
 * Kubernetes starts it together with the container's command, so etcd-join may still be
 * deciding. It waits (bounded) until this pod's etcd answers on its peer port, which it does
 * at once even without quorum, and finds this member there. A voting member (every member on
 * etcd 3.3, a bootstrapped or restarted one) needs nothing: exit 0. A learner is promoted as
 * soon as etcd accepts it ("not in sync" is expected for a while), with bounded backoff. If
 * this fails, the kubelet restarts the container; etcd-join then restarts the learner on its
 * data and postStart tries again.
 */
#include "cli.h"
#include "clock.h"
#include "datadir.h"
#include "endpoints.h"
#include "etcd.h"
#include "exitcode.h"
#include "http.h"
#include "identity.h"
#include "log.h"
#include "settings.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS   (300 * 1000)
#define CALL_TIMEOUT_MS      1000
#define PROGRESS_INTERVAL_MS 5000

struct promote {
	struct settings s;
	struct identity id;
	struct endpoints ep;
	struct deadline deadline;
	struct http_client *http;
	char *my_peer_url;
	char local_peer[64], local_client[64]; /* this pod's etcd, over loopback */
};

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: etcd-promote [options]\n"
	        "Promote this etcd member from learner to voter once it is in sync (postStart).\n"
	        "A voting member needs nothing and exits 0 at once.\n"
	        "\n"
	        "Options: the shared settings of etcd-hooks(7), each also read from its\n"
	        "environment variable: --name, --set-name, --service, --namespace,\n"
	        "--cluster-domain, --client-port, --peer-port, --user, --password-file,\n"
	        "--cacert, --cert, --key, --timeout (300s), --dry-run, --debug;\n"
	        "-h, --help; -V, --version.\n"
	        "\n"
	        "Exit: 0 done (promoted, or nothing to do), 1 failed, 2 usage or configuration,\n"
	        "4 deadline passed. See etcd-promote(8).\n");
}

/* Wait until this pod's etcd answers on its peer port and lists this member. */
static int wait_for_local_member(struct promote *p, bool *ret_learner)
{
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
		    (m = etcd_member_find_peer_url(&l, p->my_peer_url))) {
			*ret_learner = m->is_learner;
			etcd_member_list_free(&l);
			log_msg(LOG_INFO, "this member's etcd answers waited=%.1fs learner=%s",
			        log_progress_elapsed(&progress), *ret_learner ? "yes" : "no");
			return 0;
		}
		etcd_member_list_free(&l);
		if (deadline_passed(&p->deadline)) {
			log_msg(LOG_FATAL,
			        "this member's etcd did not answer at '%s' within %.0fs: %s",
			        p->local_peer, log_progress_elapsed(&progress),
			        err.msg[0] ? err.msg : "this member is not in its list");
			return EXIT_DEADLINE;
		}
		if (log_progress_due(&progress))
			log_msg(LOG_INFO,
			        "waiting for this member's etcd at '%s' waited=%.0fs "
			        "deadline=%llus",
			        p->local_peer, log_progress_elapsed(&progress),
			        (unsigned long long)(p->s.timeout_ms / 1000));
		clock_sleep_ms(backoff_next(&b, &p->deadline));
	}
}

/* The voting members' client URLs, from the local member's view (a learner cannot serve
 * cluster calls itself). */
static int voter_client(struct promote *p, struct etcd_client **ret)
{
	struct etcd_member_list l = {0};
	struct deadline d;
	const char **urls;
	size_t n = 0;
	int r;

	deadline_init(&d, CALL_TIMEOUT_MS);
	r = etcd_peer_members(p->http, p->local_peer, &d, &l, NULL);
	if (r < 0)
		return r;
	urls = calloc(l.n_members * 2 + 1, sizeof(*urls));
	for (size_t i = 0; urls && i < l.n_members; i++) {
		const struct etcd_member *m = &l.members[i];

		if (m->is_learner || !etcd_member_started(m))
			continue;
		for (size_t k = 0; k < m->n_client_urls && k < 2; k++)
			urls[n++] = m->client_urls[k];
	}
	r = urls ? etcd_client_new(p->http, urls, n, ret, NULL) : -ENOMEM;
	free(urls);
	etcd_member_list_free(&l);
	return r;
}

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
	/* The member ID comes from the member itself: a learner answers status. */
	r = etcd_status_get(p->http, p->local_client, &p->deadline, &st, &err);
	if (r < 0) {
		log_msg(LOG_FATAL, "cannot read this member's status at '%s': %s", p->local_client,
		        err.msg);
		return deadline_passed(&p->deadline) ? EXIT_DEADLINE : EXIT_FAILED;
	}
	if (!st.is_learner) {
		log_msg(LOG_INFO, "this member is a voting member already id=%s",
		        etcd_id_format(st.member_id, id));
		return EXIT_DONE;
	}
	if (p->s.dry_run) {
		printf("decision: promote\nmember: %s\n(dry run: nothing changed)\n",
		       etcd_id_format(st.member_id, id));
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
			        "promoted this member id=%s to voter took=%.3fs "
			        "not_in_sync_replies=%u",
			        etcd_id_format(st.member_id, id), log_progress_elapsed(&progress),
			        not_in_sync);
			break;
		}
		if (err.etcd_code == ETCD_CODE_FAILED_PRECONDITION &&
		    strstr(err.msg, "in sync with leader")) {
			not_in_sync++;
		} else if (err.etcd_code == ETCD_CODE_FAILED_PRECONDITION &&
		           strstr(err.msg, "can only promote a learner member")) {
			log_msg(LOG_INFO, "this member is a voting member now id=%s",
			        etcd_id_format(st.member_id, id));
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
			log_msg(LOG_INFO, "waiting for the learner to catch up: %s waited=%.0fs",
			        err.msg, log_progress_elapsed(&progress));
		clock_sleep_ms(backoff_next(&b, &p->deadline));
	}
	r = EXIT_DONE;
out:
	etcd_client_free(voters);
	return r;
}

/* Record that this member's cluster formed, for etcd-join's "never bootstrap again". */
static void write_marker(struct promote *p)
{
	struct etcd_status st;
	struct deadline d;
	struct error err;

	error_clear(&err);
	deadline_init(&d, CALL_TIMEOUT_MS);
	if (etcd_status_get(p->http, p->local_client, &d, &st, &err) == 0 && st.cluster_id &&
	    datadir_marker_write(p->s.data_dir, st.cluster_id, st.member_id, &err) < 0)
		log_msg(LOG_WARNING, "cannot write the cluster marker: %s", err.msg);
}

int main(int argc, char **argv)
{
	struct promote p = {0};
	struct http_options ho = {.call_timeout_ms = CALL_TIMEOUT_MS};
	struct error err;
	bool learner = false;
	int first, r;

	log_init("etcd-promote", "/dev/termination-log", false);
	error_clear(&err);
	settings_init(&p.s);
	r = cli_parse(&(struct cli){.program = "etcd-promote", .usage = usage}, &p.s, argc, argv,
	              &first);
	if (r >= 0)
		goto out;
	log_init("etcd-promote", "/dev/termination-log", p.s.debug);
	if (settings_validate(&p.s, 0, &err) < 0 ||
	    identity_resolve(p.s.name, p.s.set_name, &p.id, &err) < 0) {
		log_msg(LOG_FATAL, "%s", err.msg);
		r = EXIT_USAGE;
		goto out;
	}
	deadline_init(&p.deadline, p.s.timeout_ms ? p.s.timeout_ms : DEFAULT_TIMEOUT_MS);
	if (!p.s.timeout_ms)
		p.s.timeout_ms = DEFAULT_TIMEOUT_MS;
	p.ep = (struct endpoints){
	        .set_name = p.id.set_name,
	        .service = p.s.service ? p.s.service : p.id.set_name,
	        .namespace = p.s.namespace,
	        .cluster_domain = p.s.cluster_domain,
	        .client_tls = p.s.cacert || p.s.cert,
	        .client_port = p.s.client_port,
	        .peer_port = p.s.peer_port,
	};
	p.my_peer_url = endpoints_peer_url(&p.ep, p.id.ordinal);
	snprintf(p.local_peer, sizeof(p.local_peer), "http://127.0.0.1:%u", p.s.peer_port);
	snprintf(p.local_client, sizeof(p.local_client), "%s://127.0.0.1:%u",
	         p.ep.client_tls ? "https" : "http", p.s.client_port);
	ho.cacert = p.s.cacert;
	ho.cert = p.s.cert;
	ho.key = p.s.key;
	if (!p.my_peer_url || http_global_init(&err) < 0 ||
	    http_client_new(&ho, &p.http, &err) < 0) {
		log_msg(LOG_FATAL, "%s", err.msg[0] ? err.msg : "out of memory");
		r = EXIT_FAILED;
		goto out;
	}
	r = wait_for_local_member(&p, &learner);
	if (r)
		goto out;
	if (learner)
		r = promote(&p);
	else
		log_msg(LOG_INFO, "this member votes: nothing to promote");
	if (r == EXIT_DONE && !p.s.dry_run)
		write_marker(&p);
out:
	http_client_free(p.http);
	free(p.my_peer_url);
	settings_free(&p.s);
	return r;
}
