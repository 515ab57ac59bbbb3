/* The command line shared by the programs: getopt_long over the program's own options plus
 * the shared settings, --help/--version, and the usage-error grammar
 * ("prog: error: ...\nTry 'prog --help'."). Environment first, then flags. */
#pragma once

#include "clock.h"
#include "http.h"
#include "identity.h"
#include "settings.h"

#include <getopt.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

/* The shared settings of every program that finds and asks the cluster, in --help's
 * order; a program's uses[] starts with them. */
#define CLI_USES_CLUSTER                                                                           \
	SETTING_NAME, SETTING_SET_NAME, SETTING_SERVICE, SETTING_NAMESPACE,                        \
	        SETTING_CLUSTER_DOMAIN, SETTING_INITIAL_CLUSTER_SIZE, SETTING_DATA_DIR,            \
	        SETTING_CLIENT_PORT, SETTING_PEER_PORT, SETTING_ENDPOINTS, SETTING_USER,           \
	        SETTING_PASSWORD_FILE, SETTING_CACERT, SETTING_CERT, SETTING_KEY, SETTING_API,     \
	        SETTING_SA_DIR

/* The --help line of one of the program's own options. */
struct cli_help {
	const char *name; /* the option, without "--"; the same as in own[] */
	const char *arg;  /* the value's name, NULL for a switch */
	const char *help;
	const char *env; /* the variable that sets it too, or NULL */
};

struct cli {
	const char *program;
	/* --help, generated: "Usage: <program> <synopsis>", the summary, the program's own
	 * options (own_help, in that order), the shared settings of uses (SETTING_KEY_END
	 * ends the list), its deadline (timeout_help), --help and --version, the shared
	 * settings it accepts and does not use, then the footer. */
	const char *synopsis;
	const char *summary;
	const struct cli_help *own_help; /* n_own entries, matched to own[] by name */
	const enum setting_key *uses;
	const char *timeout_help; /* "the run's deadline (300s)" */
	const char *footer;
	const struct option *own; /* the program's own options, may be NULL */
	size_t n_own;
	/* Called for each of the program's own options; returns 0 or -EINVAL with a message
	 * in *ret_msg (static or owned by ctx). */
	int (*on_option)(int c, const char *arg, void *ctx, const char **ret_msg);
	void *ctx;
	bool allow_extra; /* arguments after "--" are allowed (etcd-join) */
	/* Flags (without "--", NULL-terminated, may be NULL) that mark a run by hand: with one
	 * of them, or --dry-run, before "--", no error goes to the termination log. */
	const char *const *by_hand;
};

/* Print the generated --help of c to f. */
void cli_usage(const struct cli *c, FILE *f);

/* Load the environment into s, then parse argv. Returns -1 to go on (with *ret_optind the
 * index of the first argument after "--"), or the exit code to leave with: 0 after --help or
 * --version, 2 on a usage error (already printed). */
int cli_parse(const struct cli *c, struct settings *s, int argc, char **argv, int *ret_optind);

/* Did cli_parse() see --dry-run, or one of the struct cli's by_hand flags, before "--"?
 * Such a run is someone's at a terminal, not the pod's. */
bool cli_by_hand(void);

/* Print "prog: error: <msg>" and "Try 'prog --help'." to stderr; returns 2. */
int cli_usage_error(const char *program, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Validate the settings once and resolve this member's identity. Returns 0, or logs the
 * reason (LOG_FATAL) and returns the exit code 2. */
int cli_check(struct settings *s, struct identity *ret_id);

/* The one dry-run answer of every program, on stdout:
 *   decision: <decision>      (when not NULL)
 *   reason: <reason>          (when not NULL)
 *   <key>: <value>            (for each pair of the NULL-terminated list)
 *   dry run: nothing changed
 */
void cli_dry_run(const char *decision, const char *reason, ...) __attribute__((sentinel));

/* A quarantine_prune_fn that logs every quarantine entry the retention deleted, with what it
 * held; ctx points to the retention (unsigned, the entries kept). */
void cli_log_pruned(const char *entry, const char *held, void *ctx);

/* A snapshot of the cluster before a membership change (snapshot.h), from the member at url
 * onto data_dir's volume, logged: within half of what is left of run beyond reserve_ms (the
 * time the change itself needs), SNAPSHOT_TIMEOUT_MS at most, so that it never holds the
 * change up past its deadline; member_room: as snapshot_before_change() takes it.
 * One that cannot be taken is logged and skipped. what: "the removal", "the replacement". */
void cli_snapshot_first(struct http_client *http, const char *url, const char *data_dir,
                        uint64_t cluster_id, const struct deadline *run, uint64_t reserve_ms,
                        bool member_room, const char *what);
