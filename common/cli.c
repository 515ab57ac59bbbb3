#include "cli.h"

#include "exitcode.h"
#include "identity.h"
#include "log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_usage_error(const char *program, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: error: ", program);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", program);
	return EXIT_USAGE;
}

int cli_parse(const struct cli *c, struct settings *s, int argc, char **argv, int *ret_optind)
{
	static const struct option help[] = {
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, 'V'},
	};
	size_t n_settings = SETTING_KEY_END - SETTING_SET_NAME, n = 0;
	struct option *opts;
	struct error err;
	int r = -1, opt;

	error_clear(&err);
	if (settings_load_env(s, &err) < 0) {
		log_msg(LOG_FATAL, "%s", err.msg);
		return EXIT_USAGE;
	}
	opts = calloc(2 + c->n_own + n_settings + 1, sizeof(*opts));
	if (!opts) {
		log_msg(LOG_FATAL, "out of memory");
		return EXIT_FAILED;
	}
	opts[n++] = help[0];
	opts[n++] = help[1];
	for (size_t i = 0; i < c->n_own; i++)
		opts[n++] = c->own[i];
	for (const struct option *o = settings_options; o->name; o++)
		opts[n++] = *o;

	/* getopt's own messages name the path the program was run by and lack "error:": say it
	 * in our grammar instead. */
	opterr = 0;
	optind = 1;
	while (r < 0 && (opt = getopt_long(argc, argv, "+:hV", opts, NULL)) != -1) {
		const char *msg = NULL;

		if (opt == 'h') {
			c->usage(stdout);
			r = EXIT_DONE;
		} else if (opt == 'V') {
			printf("%s %s\n", c->program, ETCD_HOOKS_VERSION);
			r = EXIT_DONE;
		} else if (opt == '?') {
			r = optopt ? cli_usage_error(c->program, "unknown option '-%c'", optopt)
			           : cli_usage_error(c->program, "unknown option '%s'",
			                             argv[optind - 1]);
		} else if (opt == ':') {
			r = cli_usage_error(c->program, "option '%s' needs a value",
			                    argv[optind - 1]);
		} else if (opt >= SETTING_SET_NAME && opt < SETTING_KEY_END) {
			if (settings_set(s, (enum setting_key)opt, optarg, &err) < 0)
				r = cli_usage_error(c->program, "%s", err.msg);
		} else if (!c->on_option || c->on_option(opt, optarg, c->ctx, &msg) < 0) {
			r = cli_usage_error(c->program, "%s", msg ? msg : "unknown option");
		}
	}
	if (r < 0 && optind < argc) {
		bool after_dashes = strcmp(argv[optind - 1], "--") == 0;

		if (!after_dashes || !c->allow_extra)
			r = cli_usage_error(c->program, "unexpected argument '%s'%s", argv[optind],
			                    c->allow_extra ? " (etcd flags go after '--')" : "");
	}
	free(opts);
	*ret_optind = optind;
	return r;
}

static const char *unfinished_program, *unfinished_summary;

static void unfinished_usage(FILE *f)
{
	fprintf(f,
	        "Usage: %s [options]\n"
	        "%s\n"
	        "Not implemented yet: this version only checks its configuration.\n"
	        "\n"
	        "Options: the shared settings of etcd-hooks(7) (--name, --set-name, --namespace,\n"
	        "--data-dir, --endpoints, --timeout, ...), each also read from its environment\n"
	        "variable; -h, --help; -V, --version.\n"
	        "\n"
	        "Exit: 0 done, 1 failed, 2 usage or configuration, 3 refused for safety,\n"
	        "4 deadline passed. See %s(8).\n",
	        unfinished_program, unfinished_summary, unfinished_program);
}

int cli_unfinished_main(const char *program, const char *summary, int argc, char **argv)
{
	struct settings s;
	struct identity id;
	struct error err;
	int first, r;

	unfinished_program = program;
	unfinished_summary = summary;
	log_init(program, "/dev/termination-log", false);
	settings_init(&s);
	error_clear(&err);
	r = cli_parse(&(struct cli){.program = program, .usage = unfinished_usage}, &s, argc, argv,
	              &first);
	if (r < 0 && (settings_validate(&s, 0, &err) < 0 ||
	              identity_resolve(s.name, s.set_name, &id, &err) < 0)) {
		log_msg(LOG_FATAL, "%s", err.msg);
		r = EXIT_USAGE;
	}
	if (r < 0) {
		log_msg(LOG_FATAL,
		        "not implemented yet: this version of %s only checks its "
		        "configuration",
		        program);
		r = EXIT_FAILED;
	}
	settings_free(&s);
	return r;
}
