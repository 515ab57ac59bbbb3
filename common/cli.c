#include "cli.h"

#include "exitcode.h"
#include "identity.h"
#include "log.h"
#include "snapshot.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_usage_error(const char *program, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* fatal: a bad flag in the manifest's command is the container's reason too */
	log_msg(LOG_FATAL, "%s", msg);
	fprintf(stderr, "Try '%s --help'.\n", program);
	return EXIT_USAGE;
}

/* Is arg "--name" or "--name=..."? */
static bool same_name(const char *arg, const char *name)
{
	size_t n = strlen(name);

	return strncmp(arg, "--", 2) == 0 && strncmp(arg + 2, name, n) == 0 &&
	       (arg[2 + n] == '\0' || arg[2 + n] == '=');
}

static bool by_hand;

enum { HELP_COLUMN = 30, HELP_WIDTH = 80 };

/* "  --name NAME               what it does [POD_NAME, HOSTNAME]", wrapped at HELP_WIDTH
 * with the text in its column. */
static void help_line(FILE *f, const char *name, const char *arg, const char *help,
                      const char *env0, const char *env1)
{
	char left[96], text[512];
	const char *p = text;
	int n = snprintf(left, sizeof(left), "  %s%s%s", name, arg ? " " : "", arg ? arg : "");

	snprintf(text, sizeof(text), "%s%s%s%s%s%s", help, env0 ? " [" : "", env0 ? env0 : "",
	         env1 ? ", " : "", env1 ? env1 : "", env0 ? "]" : "");
	fputs(left, f);
	if (n >= HELP_COLUMN - 1)
		fprintf(f, "\n%*s", HELP_COLUMN, "");
	else
		fprintf(f, "%*s", HELP_COLUMN - n, "");
	while (*p) {
		size_t room = HELP_WIDTH - HELP_COLUMN, len = strlen(p), cut = len;

		if (len > room) {
			cut = room;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = strcspn(p, " ");
		}
		fprintf(f, "%.*s\n", (int)cut, p);
		p += cut;
		while (*p == ' ')
			p++;
		if (*p)
			fprintf(f, "%*s", HELP_COLUMN, "");
	}
}

static bool uses_setting(const struct cli *c, enum setting_key key)
{
	for (const enum setting_key *k = c->uses; k && *k != SETTING_KEY_END; k++)
		if (*k == key)
			return true;
	return false;
}

void cli_usage(const struct cli *c, FILE *f)
{
	char flag[64];
	bool first = true;

	fprintf(f, "Usage: %s %s\n%s\n", c->program, c->synopsis ? c->synopsis : "[options]",
	        c->summary ? c->summary : "");
	if (c->n_own)
		fprintf(f, "\nOptions of %s:\n", c->program);
	for (size_t i = 0; i < c->n_own; i++) {
		const struct cli_help *h = NULL;

		/* by name: an entry out of order never describes another option */
		for (size_t k = 0; c->own_help && k < c->n_own && !h; k++)
			if (strcmp(c->own_help[k].name, c->own[i].name) == 0)
				h = &c->own_help[k];

		snprintf(flag, sizeof(flag), "--%s", c->own[i].name);
		help_line(f, flag, h ? h->arg : NULL, h ? h->help : "(undocumented)",
		          h ? h->env : NULL, NULL);
	}
	fprintf(f, "\nShared settings (etcd-hooks(7)), each also set by its variable:\n");
	for (const enum setting_key *k = c->uses; k && *k != SETTING_KEY_END; k++) {
		const char *arg, *help, *env0, *env1;

		settings_describe(*k, &arg, &help, &env0, &env1);
		snprintf(flag, sizeof(flag), "--%s", settings_flag_name(*k));
		if (*k == SETTING_TIMEOUT)
			help_line(f, flag, arg, c->timeout_help ? c->timeout_help : help,
			          settings_program_timeout_variable(c->program), env0);
		else
			help_line(f, flag, arg, help, env0, env1);
	}
	help_line(f, "-h, --help", NULL, "this help", NULL, NULL);
	help_line(f, "-V, --version", NULL, "the version", NULL, NULL);
	for (enum setting_key k = SETTING_SET_NAME; k < SETTING_KEY_END; k++) {
		if (uses_setting(c, k))
			continue;
		fprintf(f, "%s--%s", first ? "Accepted and not used: " : ", ",
		        settings_flag_name(k));
		first = false;
	}
	if (!first)
		fprintf(f, ".\n");
	if (c->footer)
		fprintf(f, "\n%s", c->footer);
}

/* The usage error for arg, which getopt_long did not take: an unknown option, a prefix of
 * one (never taken), a value given to an option that takes none, or a missing value. Never
 * repeats what follows an '='. */
static int bad_option(const char *program, const struct option *opts, const char *arg, bool missing)
{
	int n = (int)strcspn(arg, "=");
	const struct option *exact = NULL, *prefix = NULL;

	if (strncmp(arg, "--", 2) != 0)
		return cli_usage_error(program, "unknown option '%.2s'", arg);
	for (const struct option *o = opts; o->name; o++) {
		if (strlen(o->name) == (size_t)(n - 2) && strncmp(o->name, arg + 2, n - 2) == 0)
			exact = o;
		else if (!prefix && n > 2 && strncmp(o->name, arg + 2, n - 2) == 0)
			prefix = o;
	}
	if (exact && missing)
		return cli_usage_error(program, "option '--%s' needs a value", exact->name);
	if (exact && exact->has_arg == no_argument && arg[n] == '=')
		return cli_usage_error(program, "option '--%s' takes no value", exact->name);
	if (prefix)
		return cli_usage_error(
		        program,
		        "unknown option '%.*s' (options are never abbreviated: did you mean '--%s'?)",
		        n, arg, prefix->name);
	return cli_usage_error(program, "unknown option '%.*s'", n, arg);
}

bool cli_by_hand(void)
{
	return by_hand;
}

/* Is this someone's run by hand: --dry-run, or one of c's by_hand flags, before "--"? Then
 * no error goes to the termination log, not even one met before that flag is parsed. */
static void scan_by_hand(const struct cli *c, int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			by_hand = true;
		for (const char *const *f = c->by_hand; f && *f; f++)
			if (same_name(argv[i], *f))
				by_hand = true;
	}
	if (by_hand)
		log_no_termination();
}

/* getopt_long's table: --help, --version, the program's own options, the settings. */
static struct option *option_table(const struct cli *c)
{
	size_t n_settings = SETTING_KEY_END - SETTING_SET_NAME, n = 0;
	struct option *opts = calloc(2 + c->n_own + n_settings + 1, sizeof(*opts));

	if (!opts)
		return NULL;
	opts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	opts[n++] = (struct option){"version", no_argument, NULL, 'V'};
	for (size_t i = 0; i < c->n_own; i++)
		opts[n++] = c->own[i];
	for (const struct option *o = settings_options; o->name; o++)
		opts[n++] = *o;
	return opts;
}

/* One option that getopt_long returned (opt, its index in opts) from arg, with next the
 * argument after it. Returns -1 to go on, or the exit code. */
static int one_option(const struct cli *c, struct settings *s, const struct option *opts, int opt,
                      int longindex, const char *arg, const char *next)
{
	struct error err;
	const char *msg = NULL;

	error_clear(&err);
	/* getopt_long takes any unique prefix ("--wi" for --wipe): never a guess on a command
	 * that may delete or move data. */
	if (longindex >= 0 && !same_name(arg, opts[longindex].name))
		return cli_usage_error(
		        c->program,
		        "unknown option '%.*s' (options are never abbreviated: did you mean '--%s'?)",
		        (int)strcspn(arg, "="), arg, opts[longindex].name);
	if (opt == 'h') {
		cli_usage(c, stdout);
		return EXIT_DONE;
	}
	if (opt == 'V') {
		printf("%s %s\n", c->program, ETCD_HOOKS_VERSION);
		return EXIT_DONE;
	}
	if (opt == '?' || opt == ':')
		return bad_option(c->program, opts, arg, opt == ':');
	/* "--name --status": the next option is not the value ("--status" would then not run,
	 * and the default mode would). Only a value taken from the next argument: one given
	 * after '=' is the user's, and never repeated. */
	if (longindex >= 0 && opts[longindex].has_arg == required_argument && optarg &&
	    optarg == next && strncmp(optarg, "--", 2) == 0)
		return cli_usage_error(c->program,
		                       "option '--%s' needs a value; '%.*s' is an option",
		                       opts[longindex].name, (int)strcspn(optarg, "="), optarg);
	if (opt >= SETTING_SET_NAME && opt < SETTING_KEY_END)
		return settings_set(s, (enum setting_key)opt, optarg, &err) < 0
		               ? cli_usage_error(c->program, "%s", err.msg)
		               : -1;
	if (!c->on_option || c->on_option(opt, optarg, c->ctx, &msg) < 0)
		return cli_usage_error(c->program, "%s", msg ? msg : "unknown option");
	return -1;
}

int cli_parse(const struct cli *c, struct settings *s, int argc, char **argv, int *ret_optind)
{
	struct option *opts;
	struct error err;
	int r = -1, opt;

	error_clear(&err);
	scan_by_hand(c, argc, argv);
	if (settings_load_env(s, &err) < 0 || settings_load_program_env(s, c->program, &err) < 0) {
		log_msg(LOG_FATAL, "%s", err.msg);
		return EXIT_USAGE;
	}
	opts = option_table(c);
	if (!opts) {
		log_msg(LOG_FATAL, "out of memory");
		return EXIT_FAILED;
	}
	/* getopt's own messages name the path the program was run by and lack "error:": say it
	 * in our grammar instead. No permutation ('+'): the option is argv[at]. */
	opterr = 0;
	optind = 1;
	while (r < 0) {
		int at = optind, longindex = -1;

		opt = getopt_long(argc, argv, "+:hV", opts, &longindex);
		if (opt == -1)
			break;
		r = one_option(c, s, opts, opt, longindex, at < argc ? argv[at] : "",
		               at + 1 < argc ? argv[at + 1] : NULL);
	}
	if (r < 0 && optind < argc) {
		bool after_dashes = strcmp(argv[optind - 1], "--") == 0;

		/* not repeated: it may be a password given where it does not belong, and the
		 * message goes to the termination log */
		if (!after_dashes || !c->allow_extra)
			r = cli_usage_error(
			        c->program,
			        "unexpected argument number %d, which is not an option%s", optind,
			        c->allow_extra ? " (etcd flags go after '--')" : "");
	}
	free(opts);
	*ret_optind = optind;
	return r;
}

int cli_check(struct settings *s, struct identity *ret_id)
{
	struct error err;

	error_clear(&err);
	if (settings_validate(s, 0, &err) < 0 ||
	    identity_resolve(s->name, s->set_name, ret_id, &err) < 0) {
		log_msg(LOG_FATAL, "%s", err.msg);
		return EXIT_USAGE;
	}
	return 0;
}

void cli_dry_run(const char *decision, const char *reason, ...)
{
	const char *key;
	va_list ap;

	if (decision)
		printf("decision: %s\n", decision);
	if (reason)
		printf("reason: %s\n", reason);
	va_start(ap, reason);
	while ((key = va_arg(ap, const char *))) {
		const char *value = va_arg(ap, const char *);

		printf("%s: %s\n", key, value ? value : "-");
	}
	va_end(ap);
	printf("dry run: nothing changed\n");
	fflush(stdout);
}

void cli_log_pruned(const char *entry, const char *held, void *ctx)
{
	log_msg(LOG_WARNING,
	        "deleted the quarantine entry '%s' (it held %s): the retention keeps %u", entry,
	        held, *(const unsigned *)ctx);
}

void cli_snapshot_first(struct http_client *http, const char *url, const char *data_dir,
                        uint64_t cluster_id, const struct deadline *run, uint64_t reserve_ms,
                        bool member_room, const char *what)
{
	uint64_t left = deadline_left_ms(run), t0 = clock_now_ms(), revision = 0;
	uint64_t budget = left > reserve_ms ? (left - reserve_ms) / 2 : 0;
	struct snapshot_taken t;
	struct error err;

	error_clear(&err);
	if (budget > SNAPSHOT_TIMEOUT_MS)
		budget = SNAPSHOT_TIMEOUT_MS;
	if (budget < SNAPSHOT_MIN_MS) {
		log_msg(LOG_WARNING, "no snapshot before %s: too little time left", what);
		return;
	}
	if (snapshot_from(http, url, data_dir, cluster_id, budget, member_room, &t, &revision,
	                  &err) < 0)
		log_msg(LOG_WARNING, "no snapshot before %s (skipped): %s", what, err.msg);
	else if (t.skipped[0])
		log_msg(LOG_INFO, "no new snapshot before %s: %s", what, t.skipped);
	else
		log_msg(LOG_INFO,
		        "snapshot before %s: '%s' (%" PRIu64 " bytes, revision %" PRIu64
		        ", its hash checked) took=%.3fs",
		        what, t.name, t.bytes, revision, (double)(clock_now_ms() - t0) / 1000.0);
}
