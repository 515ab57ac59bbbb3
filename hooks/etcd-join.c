/*
 * etcd-join: the etcd container's command (`etcd-join [options] -- [etcd flags]`).
 *
 * It runs first in the pod's life, decides how this member starts from what it sees (the
 * data dir, the live cluster, its ordinal), prepares nothing inside etcd's data dir, and then
 * execs etcd with exactly the right flags, so etcd becomes the container's main process.
 * This version bootstraps the initial members, restarts members with data, and starts a
 * member that the cluster lists but that never started; every other case is refused
 * with a reason (see etcd-join(8)).
 */
#include "cli.h"
#include "clock.h"
#include "datadir.h"
#include "decide.h"
#include "endpoints.h"
#include "error.h"
#include "etcd.h"
#include "etcdargs.h"
#include "exitcode.h"
#include "http.h"
#include "identity.h"
#include "log.h"
#include "settings.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_MS (300 * 1000)
/* A live cluster answers a member list within milliseconds; a member still waiting for
 * quorum never answers (etcd-api.md §3.3), so the probe must not wait long for one. */
#define PROBE_TIMEOUT_MS     2500
#define CALL_TIMEOUT_MS      800
#define CONNECT_TIMEOUT_MS   500
#define PROGRESS_INTERVAL_MS 5000
#define DNS_POLL_MS          250

extern char **environ;

struct join {
	struct settings s;
	struct identity id;
	struct endpoints ep;
	struct deadline deadline;
	struct datadir_info data;
	struct http_client *http;
	struct etcd_member_list members; /* the live list, when a cluster answered */
	const char *answered_at;         /* the endpoint that answered */
	char *my_peer_url, *my_client_url;
	char *etcd_path;
	char *initial_cluster;
	const char *initial_state;
	char **extra;
	size_t n_extra;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: etcd-join [options] [-- etcd flags...]\n"
	        "Decide how this etcd member starts (bootstrap or restart) and exec etcd.\n"
	        "\n"
	        "Options (each also read from the environment variable in brackets):\n"
	        "  --name NAME                 member and pod name [POD_NAME, HOSTNAME]\n"
	        "  --set-name NAME             StatefulSet name [SET_NAME]\n"
	        "  --service NAME              headless Service [SERVICE_NAME]\n"
	        "  --namespace NS              namespace [CLUSTER_NAMESPACE] (default)\n"
	        "  --cluster-domain DOMAIN     cluster domain [CLUSTER_DOMAIN]\n"
	        "  --initial-cluster-size N    members that bootstrap [INITIAL_CLUSTER_SIZE]\n"
	        "  --data-dir DIR              etcd data dir [ETCD_DATA_DIR]\n"
	        "                              (/var/run/etcd/default.etcd)\n"
	        "  --client-port PORT          [CLIENT_PORT] (2379)\n"
	        "  --peer-port PORT            [PEER_PORT] (2380)\n"
	        "  --endpoints URLS            extra client URLs to ask [ETCDCTL_ENDPOINTS]\n"
	        "  --user USER                 [ETCDCTL_USER]; password from ETCDCTL_PASSWORD,\n"
	        "  --password-file FILE        ROOT_PASSWORD or this file [ROOT_PASSWORD_FILE]\n"
	        "  --cacert FILE, --cert FILE, --key FILE   client TLS [ETCDCTL_CACERT, ...]\n"
	        "  --api 3                     etcd API [ETCDAPI_VERSION]\n"
	        "  --timeout DURATION          overall deadline [ETCD_HOOKS_TIMEOUT] (300s)\n"
	        "  --etcd PATH                 the etcd binary (etcd on PATH)\n"
	        "  --dry-run                   print the decision and etcd's argv; change nothing\n"
	        "  --debug                     debug log lines [ETCD_HOOKS_DEBUG]\n"
	        "  -h, --help                  this help\n"
	        "  -V, --version               the version\n"
	        "\n"
	        "Exit: 0 dry run done, 1 failed, 2 usage or configuration, 3 refused for safety,\n"
	        "4 deadline passed, 126/127 etcd cannot be executed / not found.\n"
	        "See etcd-join(8).\n");
}

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

/* Wait until every initial peer's name resolves: etcd resolves them once at start and
 * fails when one does not. Returns 0, or EXIT_DEADLINE. */
static int wait_for_names(struct join *j)
{
	struct log_progress progress;
	unsigned size = j->s.initial_cluster_size;

	log_progress_start(&progress, PROGRESS_INTERVAL_MS);
	for (unsigned i = 0; i < size; i++) {
		char *host = endpoints_host(&j->ep, i);
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;

		if (!host)
			return EXIT_FAILED;
		while (getaddrinfo(host, NULL, &hints, &res) != 0) {
			if (deadline_passed(&j->deadline)) {
				log_msg(LOG_FATAL,
				        "peer name '%s' does not resolve after %.0fs; is the "
				        "headless "
				        "Service '%s' there with publishNotReadyAddresses: true?",
				        host, log_progress_elapsed(&progress), j->ep.service);
				free(host);
				return EXIT_DEADLINE;
			}
			if (log_progress_due(&progress))
				log_msg(LOG_INFO,
				        "waiting for peer names to resolve: '%s' does not yet "
				        "waited=%.0fs deadline=%llus",
				        host, log_progress_elapsed(&progress),
				        (unsigned long long)(j->s.timeout_ms / 1000));
			clock_sleep_ms(DNS_POLL_MS);
		}
		freeaddrinfo(res);
		free(host);
	}
	log_msg(LOG_INFO, "all %u initial peer names resolve waited=%.1fs", size,
	        log_progress_elapsed(&progress));
	return 0;
}

/* Ask the other members (and the extra endpoints) for the member list, briefly, with
 * failover. Sets j->members and returns JOIN_CLUSTER_ANSWERS when one answers. */
static enum join_cluster probe_cluster(struct join *j)
{
	unsigned n_peers = j->s.initial_cluster_size > j->id.ordinal + 1 ? j->s.initial_cluster_size
	                                                                 : j->id.ordinal + 1;
	struct etcd_client *client = NULL;
	struct strv {
		char **v;
		size_t n;
	} urls = {calloc(n_peers + 1, sizeof(char *)), 0};
	enum join_cluster result = JOIN_CLUSTER_NONE;
	char *copy = NULL, *save = NULL;
	struct deadline d;
	struct error err;

	error_clear(&err);
	if (!urls.v)
		goto out;
	if (j->s.endpoints) {
		size_t max = n_peers + 1 + strlen(j->s.endpoints);
		char **v = realloc(urls.v, max * sizeof(char *));

		if (!v || !(copy = strdup(j->s.endpoints))) {
			free(v ? v : urls.v);
			urls.v = NULL;
			goto out;
		}
		urls.v = v;
		for (char *u = strtok_r(copy, ",", &save); u; u = strtok_r(NULL, ",", &save))
			urls.v[urls.n++] = strdup(u);
	}
	for (unsigned i = 0; i < n_peers; i++)
		if (i != j->id.ordinal)
			urls.v[urls.n++] = endpoints_client_url(&j->ep, i);
	for (size_t i = 0; i < urls.n; i++)
		if (!urls.v[i])
			goto out;
	if (urls.n == 0) {
		log_msg(LOG_INFO, "no other member to ask: a cluster of one");
		goto out;
	}

	deadline_init(&d, PROBE_TIMEOUT_MS);
	if (etcd_client_new(j->http, (const char *const *)urls.v, urls.n, &client, &err) == 0 &&
	    etcd_member_list(client, &d, &j->members, &err) == 0) {
		j->answered_at = strdup(etcd_client_current(client));
		result = JOIN_CLUSTER_ANSWERS;
	} else {
		log_msg(LOG_INFO, "no cluster answers: asked %zu endpoint(s) for %.1fs, last: %s",
		        urls.n, (double)deadline_elapsed_ms(&d) / 1000.0, err.msg);
	}
out:
	etcd_client_free(client);
	for (size_t i = 0; urls.v && i < urls.n; i++)
		free(urls.v[i]);
	free(urls.v);
	free(copy);
	return result;
}

static enum join_me find_me(const struct join *j)
{
	const struct etcd_member *m = etcd_member_find_peer_url(&j->members, j->my_peer_url);

	if (!m)
		return JOIN_ME_ABSENT;
	return etcd_member_started(m) ? JOIN_ME_STARTED : JOIN_ME_UNSTARTED;
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
	        etcd_id_format(j->members.cluster_id, cluster), j->members.n_members);
	for (size_t i = 0; i < j->members.n_members; i++) {
		const struct etcd_member *m = &j->members.members[i];

		log_msg(LOG_INFO, "member id=%s name='%s' peer='%s' %s%s",
		        etcd_id_format(m->id, id), m->name, m->n_peer_urls ? m->peer_urls[0] : "",
		        etcd_member_started(m) ? "started" : "unstarted",
		        m->is_learner ? " learner" : "");
	}
}

/* The decision and etcd's argv, in the helper folder beside the data dir (0600, atomic), so a
 * person can see later what the last start decided and why. */
static void record_decision(const struct join *j, const struct join_decision *dec,
                            const struct etcdargs *args)
{
	char *dir = datadir_helper_dir(j->s.data_dir), *text = NULL;
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
	fprintf(f, "time=%s\naction=%s\nreason=%s\n", stamp, join_action_name(dec->action),
	        dec->reason);
	for (size_t i = 0; i < args->argc; i++)
		fprintf(f, "argv[%zu]=%s\n", i, args->argv[i]);
	if (fclose(f) == 0 && datadir_write_atomic(dir, "last-decision", text, &err) < 0)
		log_msg(LOG_WARNING, "cannot record the decision: %s", err.msg);
	free(text);
	free(dir);
}

/* Secrets and our own variables never reach etcd's environment. */
static void scrub_environment(const struct etcdargs *args)
{
	static const char *const secrets[] = {
	        "ETCDCTL_PASSWORD",
	        "ROOT_PASSWORD",
	        "ETCDCTL_USER",
	};

	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		unsetenv(secrets[i]);
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
	/* The token makes the bootstrap's IDs unique to this StatefulSet. */
	snprintf(token, sizeof(token), "%s.%s", j->id.set_name, j->s.namespace);
	if (dec->action == JOIN_BOOTSTRAP) {
		in.initial_cluster = j->initial_cluster;
		in.initial_state = "new";
		in.token = token;
	} else if (dec->action == JOIN_REUSE) {
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
	log_msg(LOG_INFO, "exec '%s' action=%s initial_cluster_state=%s took=%.3fs", args.argv[0],
	        join_action_name(dec->action), in.initial_state ? in.initial_state : "(restart)",
	        (double)deadline_elapsed_ms(&j->deadline) / 1000.0);
	/* Close what we opened: curl's connections go with its handle. */
	http_client_free(j->http);
	j->http = NULL;
	fflush(NULL);
	execv(args.argv[0], args.argv);
	r = errno;
	log_msg(LOG_FATAL, "cannot exec '%s': %s", args.argv[0], strerror(r));
	etcdargs_free(&args);
	return r == ENOENT ? EXIT_NOT_FOUND : EXIT_EXEC;
}

static int run(struct join *j)
{
	struct join_input in = {.ordinal = j->id.ordinal,
	                        .initial_size = j->s.initial_cluster_size};
	struct join_decision dec;
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
	r = datadir_inspect(j->s.data_dir, &j->data, &err);
	if (r < 0) {
		log_msg(LOG_FATAL, "%s", err.msg);
		return EXIT_FAILED;
	}
	in.data = j->data.state;
	log_msg(LOG_INFO, "member '%s' ordinal=%u data_dir='%s' state=%s (%s)", j->id.name,
	        j->id.ordinal, j->s.data_dir, datadir_state_name(j->data.state), j->data.reason);

	dec = join_decide(&in);
	if (dec.action == JOIN_PROBE) {
		if (j->s.api != 3) {
			log_msg(LOG_FATAL, "ETCDAPI_VERSION=%u is not supported yet; use 3",
			        j->s.api);
			return EXIT_USAGE;
		}
		if (dec.exit_code == EXIT_DONE && j->id.ordinal < j->s.initial_cluster_size) {
			r = wait_for_names(j);
			if (r)
				return r;
		}
		if (http_global_init(&err) < 0 || http_client_new(&ho, &j->http, &err) < 0) {
			log_msg(LOG_FATAL, "%s", err.msg);
			return EXIT_FAILED;
		}
		in.cluster = probe_cluster(j);
		if (in.cluster == JOIN_CLUSTER_ANSWERS) {
			log_members(j);
			in.me = find_me(j);
		}
		dec = join_decide(&in);
	}
	log_msg(dec.action == JOIN_REFUSE ? LOG_FATAL : LOG_INFO, "decision: %s: %s",
	        join_action_name(dec.action), dec.reason);
	switch (dec.action) {
	case JOIN_REFUSE:
		return dec.exit_code;
	case JOIN_BOOTSTRAP:
		j->initial_cluster = endpoints_initial_cluster(&j->ep, j->s.initial_cluster_size);
		break;
	case JOIN_REUSE:
		j->initial_cluster = initial_cluster_from_members(j);
		break;
	case JOIN_RESTART:
	case JOIN_PROBE:
		break;
	}
	if ((dec.action == JOIN_BOOTSTRAP || dec.action == JOIN_REUSE) && !j->initial_cluster) {
		log_msg(LOG_FATAL, "out of memory");
		return EXIT_FAILED;
	}
	return start_etcd(j, &dec);
}

int main(int argc, char **argv)
{
	struct join j = {0};
	struct error err;
	int first_extra, r;

	log_init("etcd-join", "/dev/termination-log", false);
	error_clear(&err);
	settings_init(&j.s);
	r = cli_parse(&(struct cli){.program = "etcd-join", .usage = usage, .allow_extra = true},
	              &j.s, argc, argv, &first_extra);
	if (r >= 0)
		goto out;
	j.extra = argv + first_extra;
	j.n_extra = (size_t)(argc - first_extra);
	log_init("etcd-join", "/dev/termination-log", j.s.debug);
	if (settings_validate(&j.s, 0, &err) < 0 ||
	    identity_resolve(j.s.name, j.s.set_name, &j.id, &err) < 0) {
		log_msg(LOG_FATAL, "%s", err.msg);
		r = EXIT_USAGE;
		goto out;
	}
	if (!j.s.timeout_ms)
		j.s.timeout_ms = DEFAULT_TIMEOUT_MS;
	deadline_init(&j.deadline, j.s.timeout_ms);
	j.ep = (struct endpoints){
	        .set_name = j.id.set_name,
	        .service = j.s.service ? j.s.service : j.id.set_name,
	        .namespace = j.s.namespace,
	        .cluster_domain = j.s.cluster_domain,
	        .client_tls = j.s.cacert || j.s.cert,
	        .peer_tls = false,
	        .client_port = j.s.client_port,
	        .peer_port = j.s.peer_port,
	};
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
out:
	etcd_member_list_free(&j.members);
	http_client_free(j.http);
	free((char *)j.answered_at);
	free(j.my_peer_url);
	free(j.my_client_url);
	free(j.etcd_path);
	free(j.initial_cluster);
	settings_free(&j.s);
	return r;
}
