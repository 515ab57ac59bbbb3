#include "settings.h"

#include "fsutil.h"
#include "parse.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum setting_kind {
	KIND_STRING,
	KIND_COUNT,
	KIND_PORT,
	KIND_API,
	KIND_DURATION,
	KIND_BOOL,
	KIND_KEEP,
};

struct setting_def {
	enum setting_key key;
	enum setting_kind kind;
	const char *env[2]; /* variables read, in order of preference */
	const char *arg;    /* the value's name in --help, NULL for a switch */
	const char *help;   /* one line of --help */
};

#define IDX(k) ((k)-SETTING_SET_NAME)
/* The origin of a namespace read from the service account's file. */
#define NAMESPACE_FROM_SA "service account"

static const struct setting_def defs[] = {
        {SETTING_SET_NAME,
         KIND_STRING,
         {"SET_NAME"},
         "NAME",
         "the StatefulSet (default: the pod name without its ordinal)"},
        {SETTING_SERVICE,
         KIND_STRING,
         {"SERVICE_NAME"},
         "NAME",
         "the headless Service (default: the StatefulSet's name)"},
        {SETTING_NAMESPACE,
         KIND_STRING,
         {"CLUSTER_NAMESPACE"},
         "NS",
         "the namespace (default: the service account's, else default)"},
        {SETTING_CLUSTER_DOMAIN,
         KIND_STRING,
         {"CLUSTER_DOMAIN"},
         "DOMAIN",
         "names are pod.svc.ns.svc.DOMAIN (default: pod.svc.ns)"},
        {SETTING_INITIAL_CLUSTER_SIZE,
         KIND_COUNT,
         {"INITIAL_CLUSTER_SIZE"},
         "N",
         "the members that bootstrap the cluster"},
        {SETTING_NAME,
         KIND_STRING,
         {"POD_NAME", "HOSTNAME"},
         "NAME",
         "this member's and pod's name, <set>-<ordinal>"},
        {SETTING_DATA_DIR,
         KIND_STRING,
         {"ETCD_DATA_DIR"},
         "DIR",
         "etcd's data dir (default " SETTINGS_DEFAULT_DATA_DIR ")"},
        {SETTING_CLIENT_PORT, KIND_PORT, {"CLIENT_PORT"}, "PORT", "etcd's client port (2379)"},
        {SETTING_PEER_PORT, KIND_PORT, {"PEER_PORT"}, "PORT", "etcd's peer port (2380)"},
        {SETTING_API, KIND_API, {"ETCDAPI_VERSION"}, "3", "etcd's API: 3 only"},
        {SETTING_USER,
         KIND_STRING,
         {"ETCDCTL_USER"},
         "USER",
         "log in as USER; the password from ETCDCTL_PASSWORD, ROOT_PASSWORD or --password-file"},
        {SETTING_PASSWORD_FILE,
         KIND_STRING,
         {"ROOT_PASSWORD_FILE"},
         "FILE",
         "the password's file (its first line)"},
        {SETTING_CACERT, KIND_STRING, {"ETCDCTL_CACERT"}, "FILE", "the CA of etcd's certificates"},
        {SETTING_CERT, KIND_STRING, {"ETCDCTL_CERT"}, "FILE", "a client certificate"},
        {SETTING_KEY, KIND_STRING, {"ETCDCTL_KEY"}, "FILE", "its key"},
        {SETTING_ENDPOINTS,
         KIND_STRING,
         {"ETCDCTL_ENDPOINTS"},
         "URLS",
         "more client URLs to ask, comma-separated"},
        {SETTING_TIMEOUT, KIND_DURATION, {"ETCD_HOOKS_TIMEOUT"}, "DURATION", "the run's deadline"},
        {SETTING_ETCD, KIND_STRING, {NULL}, "PATH", "the etcd binary (default: etcd on PATH)"},
        {SETTING_DRY_RUN, KIND_BOOL, {NULL}, NULL, "say what would be done; change nothing"},
        {SETTING_DEBUG, KIND_BOOL, {"ETCD_HOOKS_DEBUG"}, NULL, "more log lines"},
        {SETTING_SA_DIR,
         KIND_STRING,
         {"ETCD_HOOKS_SERVICEACCOUNT_DIR"},
         "DIR",
         "token, ca.crt and namespace for the Kubernetes API (default " SETTINGS_DEFAULT_SA_DIR
         ")"},
        {SETTING_BOOTSTRAP_WAIT,
         KIND_DURATION,
         {"ETCD_HOOKS_BOOTSTRAP_WAIT"},
         "DURATION",
         "how long an empty initial member waits for silent peers (120s)"},
        {SETTING_QUARANTINE_KEEP,
         KIND_KEEP,
         {"ETCD_HOOKS_QUARANTINE_KEEP"},
         "N",
         "quarantine entries kept (3)"},
};

const struct option settings_options[] = {
        {"set-name", required_argument, NULL, SETTING_SET_NAME},
        {"service", required_argument, NULL, SETTING_SERVICE},
        {"namespace", required_argument, NULL, SETTING_NAMESPACE},
        {"cluster-domain", required_argument, NULL, SETTING_CLUSTER_DOMAIN},
        {"initial-cluster-size", required_argument, NULL, SETTING_INITIAL_CLUSTER_SIZE},
        {"name", required_argument, NULL, SETTING_NAME},
        {"data-dir", required_argument, NULL, SETTING_DATA_DIR},
        {"client-port", required_argument, NULL, SETTING_CLIENT_PORT},
        {"peer-port", required_argument, NULL, SETTING_PEER_PORT},
        {"api", required_argument, NULL, SETTING_API},
        {"user", required_argument, NULL, SETTING_USER},
        {"password-file", required_argument, NULL, SETTING_PASSWORD_FILE},
        {"cacert", required_argument, NULL, SETTING_CACERT},
        {"cert", required_argument, NULL, SETTING_CERT},
        {"key", required_argument, NULL, SETTING_KEY},
        {"endpoints", required_argument, NULL, SETTING_ENDPOINTS},
        {"timeout", required_argument, NULL, SETTING_TIMEOUT},
        {"etcd", required_argument, NULL, SETTING_ETCD},
        {"dry-run", no_argument, NULL, SETTING_DRY_RUN},
        {"debug", no_argument, NULL, SETTING_DEBUG},
        {"serviceaccount-dir", required_argument, NULL, SETTING_SA_DIR},
        {"bootstrap-wait", required_argument, NULL, SETTING_BOOTSTRAP_WAIT},
        {"quarantine-keep", required_argument, NULL, SETTING_QUARANTINE_KEEP},
        {0},
};

static const char *flag_name(enum setting_key key)
{
	for (const struct option *o = settings_options; o->name; o++)
		if (o->val == (int)key)
			return o->name;
	return "?";
}

static char **string_field(struct settings *s, enum setting_key key)
{
	switch (key) {
	case SETTING_SET_NAME:
		return &s->set_name;
	case SETTING_SERVICE:
		return &s->service;
	case SETTING_NAMESPACE:
		return &s->namespace;
	case SETTING_CLUSTER_DOMAIN:
		return &s->cluster_domain;
	case SETTING_NAME:
		return &s->name;
	case SETTING_DATA_DIR:
		return &s->data_dir;
	case SETTING_USER:
		return &s->user;
	case SETTING_PASSWORD_FILE:
		return &s->password_file;
	case SETTING_CACERT:
		return &s->cacert;
	case SETTING_CERT:
		return &s->cert;
	case SETTING_KEY:
		return &s->key;
	case SETTING_ENDPOINTS:
		return &s->endpoints;
	case SETTING_ETCD:
		return &s->etcd;
	case SETTING_SA_DIR:
		return &s->sa_dir;
	default:
		return NULL;
	}
}

void settings_init(struct settings *s)
{
	memset(s, 0, sizeof(*s));
	s->namespace = strdup(SETTINGS_DEFAULT_NAMESPACE);
	s->data_dir = strdup(SETTINGS_DEFAULT_DATA_DIR);
	s->client_port = SETTINGS_DEFAULT_CLIENT_PORT;
	s->peer_port = SETTINGS_DEFAULT_PEER_PORT;
	s->api = 3;
	s->sa_dir = strdup(SETTINGS_DEFAULT_SA_DIR);
	s->bootstrap_wait_ms = SETTINGS_DEFAULT_BOOTSTRAP_WAIT_MS;
	s->quarantine_keep = SETTINGS_DEFAULT_QUARANTINE_KEEP;
	for (size_t i = 0; i < sizeof(s->origin) / sizeof(s->origin[0]); i++)
		s->origin[i] = "default";
}

static void wipe_free(char *p)
{
	if (!p)
		return;
	explicit_bzero(p, strlen(p));
	free(p);
}

void settings_free(struct settings *s)
{
	for (enum setting_key k = SETTING_SET_NAME; k < SETTING_KEY_END; k++) {
		char **f = string_field(s, k);

		if (f) {
			free(*f);
			*f = NULL;
		}
	}
	wipe_free(s->password);
	s->password = NULL;
}

/* An empty value, from a flag or a variable: an error, never "unset". A script's
 * --data-dir "$DIR" or ETCD_DATA_DIR="$DIR" with DIR unset must not become the default
 * data dir of a wipe. */
static int empty_value(const char *where, struct error *err)
{
	return error_set(err, -EINVAL, "%s is empty: give it a value or leave it out", where);
}

/* Store one value (NULL for a switch); `where` names its source for messages ("--flag" or
 * "environment variable X"). An empty value is an error. */
static int set_value(struct settings *s, const struct setting_def *d, const char *value,
                     const char *where, struct error *err)
{
	uint64_t v;
	char **field;
	int r;

	if (value && !*value)
		return empty_value(where, err);
	switch (d->kind) {
	case KIND_STRING:
		field = string_field(s, d->key);
		free(*field);
		*field = strdup(value);
		if (!*field)
			return error_set(err, -ENOMEM, "out of memory");
		return 0;
	case KIND_COUNT:
		r = parse_uint(value, SETTINGS_MAX_CLUSTER_SIZE, &v);
		if (r < 0 || v == 0)
			return error_set(
			        err, -EINVAL,
			        "%s: '%s' is not a member count (a whole number from 1 to %d)",
			        where, value, SETTINGS_MAX_CLUSTER_SIZE);
		s->initial_cluster_size = (unsigned)v;
		return 0;
	case KIND_PORT:
		r = parse_uint(value, 65535, &v);
		if (r < 0 || v == 0)
			return error_set(err, -EINVAL,
			                 "%s: '%s' is not a port (a whole number from 1 to 65535)",
			                 where, value);
		if (d->key == SETTING_CLIENT_PORT)
			s->client_port = (unsigned)v;
		else
			s->peer_port = (unsigned)v;
		return 0;
	case KIND_API:
		if (strcmp(value, "2") != 0 && strcmp(value, "3") != 0)
			return error_set(err, -EINVAL, "%s: '%s' is not an API version (3)", where,
			                 value);
		s->api = (unsigned)(value[0] - '0');
		return 0;
	case KIND_DURATION:
		r = parse_duration_ms(value, SETTINGS_MAX_TIMEOUT_MS, &v);
		if (r < 0 || v == 0)
			return error_set(
			        err, -EINVAL,
			        "%s: '%s' is not a duration (whole seconds such as '20' or '20s', or milliseconds such as '1500ms'; at most 24 hours)",
			        where, value);
		if (d->key == SETTING_TIMEOUT)
			s->timeout_ms = v;
		else
			s->bootstrap_wait_ms = v;
		return 0;
	case KIND_KEEP:
		r = parse_uint(value, SETTINGS_MAX_QUARANTINE_KEEP, &v);
		if (r < 0 || v == 0)
			return error_set(err, -EINVAL,
			                 "%s: '%s' is not a number of quarantine entries (1 to %d)",
			                 where, value, SETTINGS_MAX_QUARANTINE_KEEP);
		s->quarantine_keep = (unsigned)v;
		return 0;
	case KIND_BOOL:
		if (!value || strcmp(value, "1") == 0 || strcmp(value, "true") == 0) {
			v = 1;
		} else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0) {
			v = 0;
		} else {
			return error_set(err, -EINVAL, "%s: '%s' is not a boolean (true or false)",
			                 where, value);
		}
		if (d->key == SETTING_DRY_RUN)
			s->dry_run = v;
		else
			s->debug = v;
		return 0;
	}
	return error_set(err, -EINVAL, "%s: unknown setting", where);
}

static const struct setting_def *find_def(enum setting_key key)
{
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		if (defs[i].key == key)
			return &defs[i];
	return NULL;
}

/* Each program's own deadline variable. */
static const struct {
	const char *program, *variable;
} program_timeouts[] = {
        {"etcd-join", "ETCD_HOOKS_JOIN_TIMEOUT"},
        {"etcd-promote", "ETCD_HOOKS_PROMOTE_TIMEOUT"},
        {"etcd-leave", "ETCD_HOOKS_LEAVE_TIMEOUT"},
        {"etcd-clean", "ETCD_HOOKS_CLEAN_TIMEOUT"},
};

/* Set s's timeout from the variable, when it is set. Returns 0 or -EINVAL. */
static int load_timeout_variable(struct settings *s, const char *variable, struct error *err)
{
	const char *value = getenv(variable);
	char where[128];
	int r;

	if (!value)
		return 0;
	snprintf(where, sizeof(where), "environment variable %s", variable);
	r = set_value(s, find_def(SETTING_TIMEOUT), value, where, err);
	if (r == 0)
		s->origin[IDX(SETTING_TIMEOUT)] = variable;
	return r;
}

const char *settings_flag_name(enum setting_key key)
{
	return flag_name(key);
}

void settings_describe(enum setting_key key, const char **ret_arg, const char **ret_help,
                       const char **ret_env0, const char **ret_env1)
{
	const struct setting_def *d = find_def(key);

	*ret_arg = d ? d->arg : NULL;
	*ret_help = d ? d->help : "";
	*ret_env0 = d ? d->env[0] : NULL;
	*ret_env1 = d && d->env[0] ? d->env[1] : NULL;
}

const char *settings_program_timeout_variable(const char *program)
{
	for (size_t i = 0; i < sizeof(program_timeouts) / sizeof(program_timeouts[0]); i++)
		if (strcmp(program, program_timeouts[i].program) == 0)
			return program_timeouts[i].variable;
	return NULL;
}

int settings_load_program_env(struct settings *s, const char *program, struct error *err)
{
	for (size_t i = 0; i < sizeof(program_timeouts) / sizeof(program_timeouts[0]); i++)
		if (strcmp(program, program_timeouts[i].program) == 0)
			return load_timeout_variable(s, program_timeouts[i].variable, err);
	return 0;
}

static const char *const leave_policy_names[] = {
        [LEAVE_POLICY_AUTO] = "auto",
        [LEAVE_POLICY_SCALE_DOWN] = "scale-down",
        [LEAVE_POLICY_ABOVE_INITIAL] = "above-initial",
        [LEAVE_POLICY_ALWAYS] = "always",
        [LEAVE_POLICY_NEVER] = "never",
};

const char *settings_leave_policy_name(enum leave_policy p)
{
	return (size_t)p < sizeof(leave_policy_names) / sizeof(leave_policy_names[0])
	               ? leave_policy_names[p]
	               : "?";
}

int settings_leave_policy_parse(const char *value, const char *where, enum leave_policy *ret,
                                struct error *err)
{
	for (size_t i = 0; i < sizeof(leave_policy_names) / sizeof(leave_policy_names[0]); i++) {
		if (strcmp(value, leave_policy_names[i]) == 0) {
			*ret = (enum leave_policy)i;
			return 0;
		}
	}
	if (!*value)
		return empty_value(where, err);
	return error_set(err, -EINVAL,
	                 "%s must be scale-down, above-initial, always, never or auto, not '%s'",
	                 where, value);
}

int settings_load_leave_policy(enum leave_policy *ret, struct error *err)
{
	const char *value = getenv("ETCD_HOOKS_LEAVE_POLICY");

	if (!value)
		return 0;
	return settings_leave_policy_parse(value, "environment variable ETCD_HOOKS_LEAVE_POLICY",
	                                   ret, err);
}

int settings_check_program_envs(struct error *err)
{
	enum leave_policy policy;

	if (settings_load_leave_policy(&policy, err) < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(program_timeouts) / sizeof(program_timeouts[0]); i++) {
		struct settings scratch;
		int r;

		settings_init(&scratch);
		r = load_timeout_variable(&scratch, program_timeouts[i].variable, err);
		settings_free(&scratch);
		if (r < 0)
			return r;
	}
	return 0;
}

const char *settings_origin(const struct settings *s, enum setting_key key)
{
	return key >= SETTING_SET_NAME && key < SETTING_KEY_END ? s->origin[IDX(key)] : "?";
}

bool settings_secret_variable(const char *entry)
{
	static const char *const names[] = {"ROOT_PASSWORD", "ROOT_PASSWORD_FILE"};
	size_t n = strcspn(entry, "=");

	if (strncmp(entry, "ETCDCTL_", 8) == 0)
		return true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (n == strlen(names[i]) && strncmp(entry, names[i], n) == 0)
			return true;
	return false;
}

int settings_load_env(struct settings *s, struct error *err)
{
	char where[128];
	const char *pw;
	int r;

	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		for (size_t e = 0; e < 2 && defs[i].env[e]; e++) {
			const char *value = getenv(defs[i].env[e]);

			/* HOSTNAME is the runtime's or the shell's, not a setting anyone wrote */
			if (!value || (!*value && strcmp(defs[i].env[e], "HOSTNAME") == 0))
				continue;
			snprintf(where, sizeof(where), "environment variable %s", defs[i].env[e]);
			r = set_value(s, &defs[i], value, where, err);
			if (r < 0)
				return r;
			s->origin[IDX(defs[i].key)] = defs[i].env[e];
			break;
		}
	}

	/* Passwords come only from the environment or a file, never from a flag. */
	pw = getenv("ETCDCTL_PASSWORD");
	if (!pw || !*pw) {
		pw = getenv("ROOT_PASSWORD");
		if (pw && *pw && !s->user) {
			s->user = strdup("root");
			s->origin[IDX(SETTING_USER)] = "ROOT_PASSWORD";
		}
	}
	if (pw && *pw) {
		s->password = strdup(pw);
		if (!s->password)
			return error_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

int settings_set(struct settings *s, enum setting_key key, const char *value, struct error *err)
{
	const struct setting_def *d = find_def(key);
	char where[128];
	int r;

	if (!d)
		return error_set(err, -EINVAL, "unknown option");
	snprintf(where, sizeof(where), "--%s", flag_name(key));
	r = set_value(s, d, value, where, err);
	if (r == 0)
		s->origin[IDX(key)] = "flag";
	return r;
}

/* Read the first line of a password file. Refuse an empty one, one whose first line is
 * longer than SETTINGS_MAX_PASSWORD (never cut it), and one that others may write (they
 * could replace the password). A Secret's file, read-only and 0644, is fine. */
static int read_password_file(const char *path, char **ret, struct error *err)
{
	char buf[SETTINGS_MAX_PASSWORD + 2];
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return error_set(err, -errno, "cannot open password file '%s': %s", path,
		                 strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return error_set(err, -EINVAL, "password file '%s' is not a regular file", path);
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		close(fd);
		return error_set(
		        err, -EINVAL,
		        "password file '%s' is writable by others (mode %04o): make it 0600 or 0400, or mount the Secret read-only",
		        path, (unsigned)(st.st_mode & 07777));
	}
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = error_set(err, -EIO, "cannot read password file '%s'", path);
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (r == 0) {
		size_t line = strcspn(buf, "\r\n");

		if (line > SETTINGS_MAX_PASSWORD)
			r = error_set(err, -EINVAL,
			              "password file '%s': the password is longer than %d bytes",
			              path, SETTINGS_MAX_PASSWORD);
		buf[line] = '\0';
	}
	if (r == 0 && !buf[0])
		r = error_set(err, -EINVAL, "password file '%s' is empty", path);
	if (r == 0 && !(*ret = strdup(buf)))
		r = error_set(err, -ENOMEM, "out of memory");
	explicit_bzero(buf, sizeof(buf));
	return r;
}

static int check_readable(const char *what, const char *path, struct error *err)
{
	if (path && access(path, R_OK) < 0)
		return error_set(err, -EINVAL, "%s '%s' is not readable: %s", what, path,
		                 strerror(errno));
	return 0;
}

static int check_endpoints(const char *list, struct error *err)
{
	char *copy, *save = NULL;
	int r = 0;

	if (!list)
		return 0;
	copy = strdup(list);
	if (!copy)
		return error_set(err, -ENOMEM, "out of memory");
	for (char *url = strtok_r(copy, ",", &save); url; url = strtok_r(NULL, ",", &save)) {
		const char *rest, *colon;

		if (strncmp(url, "http://", 7) == 0)
			rest = url + 7;
		else if (strncmp(url, "https://", 8) == 0)
			rest = url + 8;
		else {
			r = error_set(err, -EINVAL,
			              "--endpoints: '%s' is not an http:// or https:// URL", url);
			break;
		}
		colon = strrchr(rest, ':');
		if (!*rest || strchr(rest, '/') || (colon && colon[1] == '\0')) {
			r = error_set(err, -EINVAL,
			              "--endpoints: '%s' must be scheme://host[:port] with no path",
			              url);
			break;
		}
	}
	free(copy);
	return r;
}

/* The names the pods are found by: the StatefulSet, the Service, the namespace (from the
 * service account when not set), the cluster domain. */
static int validate_names(struct settings *s, struct error *err)
{
	if (s->set_name && !dns_label_valid(s->set_name))
		return error_set(
		        err, -EINVAL,
		        "StatefulSet name '%s' (SET_NAME, --set-name) is not a DNS label: lower-case letters, digits and '-', at most 63",
		        s->set_name);
	if (s->service && !dns_label_valid(s->service))
		return error_set(err, -EINVAL,
		                 "Service name '%s' (SERVICE_NAME, --service) is not a DNS label",
		                 s->service);
	/* Not set: the namespace the pod runs in, from its service account; "default" only
	 * where there is no such file (no service account mounted), never on a read error: a
	 * wrong namespace names other pods. */
	if (strcmp(s->origin[IDX(SETTING_NAMESPACE)], "default") == 0) {
		char *ns;
		int r = fsutil_first_line(s->sa_dir, "namespace", &ns);

		if (r == 0) {
			free(s->namespace);
			s->namespace = ns;
			s->origin[IDX(SETTING_NAMESPACE)] = NAMESPACE_FROM_SA;
		} else if (r != -ENOENT) {
			return error_set(
			        err, r,
			        "cannot read the namespace from the service account's file '%s/namespace': %s; set CLUSTER_NAMESPACE",
			        s->sa_dir, r == -ENODATA ? "it is empty" : strerror(-r));
		}
	}
	if (!dns_label_valid(s->namespace) &&
	    strcmp(s->origin[IDX(SETTING_NAMESPACE)], NAMESPACE_FROM_SA) == 0)
		return error_set(
		        err, -EINVAL,
		        "namespace '%s' (the service account's file '%s/namespace') is not a DNS label; set CLUSTER_NAMESPACE",
		        s->namespace, s->sa_dir);
	if (!dns_label_valid(s->namespace))
		return error_set(
		        err, -EINVAL,
		        "namespace '%s' (CLUSTER_NAMESPACE, --namespace) is not a DNS label",
		        s->namespace);
	if (s->cluster_domain && !dns_subdomain_valid(s->cluster_domain))
		return error_set(
		        err, -EINVAL,
		        "cluster domain '%s' (CLUSTER_DOMAIN, --cluster-domain) is not a DNS name",
		        s->cluster_domain);
	return 0;
}

/* The credentials: user:password split, the password file read. */
static int validate_credentials(struct settings *s, struct error *err)
{
	int r;

	if (s->user && strchr(s->user, ':') && strcmp(s->origin[IDX(SETTING_USER)], "flag") == 0)
		return error_set(
		        err, -EINVAL,
		        "--user 'NAME:PASSWORD' puts the password on the command line, where every process can read it: give the password in a file (--password-file, ROOT_PASSWORD_FILE) or in ETCDCTL_PASSWORD");
	if (s->user && strchr(s->user, ':')) {
		/* etcdctl accepts user:password (here from ETCDCTL_USER); keep the password out of
		 * the user name. */
		char *colon = strchr(s->user, ':');

		if (!s->password) {
			s->password = strdup(colon + 1);
			if (!s->password)
				return error_set(err, -ENOMEM, "out of memory");
		}
		explicit_bzero(colon, strlen(colon));
	}
	if (s->password_file) {
		char *pw = NULL;

		r = read_password_file(s->password_file, &pw, err);
		if (r < 0)
			return r;
		wipe_free(s->password);
		s->password = pw;
		if (!s->user) {
			s->user = strdup("root");
			if (!s->user)
				return error_set(err, -ENOMEM, "out of memory");
		}
	}
	if (s->password && (!s->user || !s->user[0]))
		return error_set(err, -EINVAL, "a password was given without a user name");
	return 0;
}

int settings_validate(struct settings *s, unsigned need, struct error *err)
{
	int r = validate_names(s, err);

	if (r < 0)
		return r;
	if (s->api != 3)
		return error_set(
		        err, -EINVAL,
		        "ETCDAPI_VERSION=%u (--api) is not supported: etcd-hooks speaks etcd's v3 API only; use 3 or leave it unset",
		        s->api);
	if (s->client_port == s->peer_port)
		return error_set(err, -EINVAL, "client port and peer port are both %u",
		                 s->client_port);
	if (!s->data_dir[0] || s->data_dir[0] != '/')
		return error_set(
		        err, -EINVAL,
		        "data dir '%s' (ETCD_DATA_DIR, --data-dir) must be an absolute path",
		        s->data_dir);
	if (strspn(s->data_dir, "/") == strlen(s->data_dir))
		return error_set(err, -EINVAL, "data dir '%s' must not be the root directory",
		                 s->data_dir);
	if ((need & SETTINGS_NEED_INITIAL_SIZE) && s->initial_cluster_size == 0)
		return error_set(
		        err, -EINVAL,
		        "INITIAL_CLUSTER_SIZE (--initial-cluster-size) is required: the number of members that bootstrap the cluster");
	if (!!s->cert != !!s->key)
		return error_set(
		        err, -EINVAL,
		        "a client certificate needs its key: give both --cert and --key (ETCDCTL_CERT, ETCDCTL_KEY)");
	r = check_readable("CA file", s->cacert, err);
	if (r == 0)
		r = check_readable("certificate", s->cert, err);
	if (r == 0)
		r = check_readable("key", s->key, err);
	if (r < 0)
		return r;
	r = check_endpoints(s->endpoints, err);
	if (r < 0)
		return r;
	return validate_credentials(s, err);
}
