/* Settings shared by the four programs: built-in defaults < environment < command-line
 * flags, collected into one struct settings and validated once. Every flag has an
 * environment variable and every variable a flag (design.md "Configuration"). */
#pragma once

#include "error.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

enum setting_key {
	SETTING_SET_NAME = 256, /* above any short option character */
	SETTING_SERVICE,
	SETTING_NAMESPACE,
	SETTING_CLUSTER_DOMAIN,
	SETTING_INITIAL_CLUSTER_SIZE,
	SETTING_NAME,
	SETTING_DATA_DIR,
	SETTING_CLIENT_PORT,
	SETTING_PEER_PORT,
	SETTING_API,
	SETTING_USER,
	SETTING_PASSWORD_FILE,
	SETTING_CACERT,
	SETTING_CERT,
	SETTING_KEY,
	SETTING_ENDPOINTS,
	SETTING_TIMEOUT,
	SETTING_ETCD,
	SETTING_DRY_RUN,
	SETTING_DEBUG,
	SETTING_SA_DIR,
	SETTING_BOOTSTRAP_WAIT,
	SETTING_QUARANTINE_KEEP,
	SETTING_KEY_END,
};

#define SETTINGS_DEFAULT_DATA_DIR    "/var/run/etcd/default.etcd"
#define SETTINGS_DEFAULT_NAMESPACE   "default"
#define SETTINGS_DEFAULT_CLIENT_PORT 2379
#define SETTINGS_DEFAULT_PEER_PORT   2380
#define SETTINGS_MAX_CLUSTER_SIZE    1000
#define SETTINGS_MAX_TIMEOUT_MS      (24ULL * 3600 * 1000)
#define SETTINGS_DEFAULT_SA_DIR      "/var/run/secrets/kubernetes.io/serviceaccount"
/* How long an empty initial member waits for silent peers before it bootstraps anyway. */
#define SETTINGS_DEFAULT_BOOTSTRAP_WAIT_MS (120 * 1000)
#define SETTINGS_DEFAULT_QUARANTINE_KEEP   3
#define SETTINGS_MAX_QUARANTINE_KEEP       1000
/* A password file larger than this is refused, never cut. */
#define SETTINGS_MAX_PASSWORD 1024

struct settings {
	char *set_name; /* NULL: taken from the member name's prefix */
	char *service;  /* NULL: set_name */
	char *namespace;
	char *cluster_domain;          /* NULL: names are pod.service.namespace */
	unsigned initial_cluster_size; /* 0: not set */
	char *name;                    /* --name, POD_NAME or HOSTNAME; NULL: gethostname() */
	char *data_dir;
	unsigned client_port;
	unsigned peer_port;
	unsigned api; /* 3 (JSON gateway); 2 is read, then refused by settings_validate() */
	char *user;
	char *password; /* never printed; wiped by settings_free() */
	char *password_file;
	char *cacert, *cert, *key;
	char *endpoints;     /* comma-separated extra client URLs, NULL: none */
	uint64_t timeout_ms; /* 0: the program's own default */
	char *etcd;          /* NULL: etcd on PATH */
	bool dry_run;
	bool debug;
	char *sa_dir;               /* the service account's files, for the Kubernetes API */
	uint64_t bootstrap_wait_ms; /* etcd-join: the wait for silent peers before a bootstrap */
	unsigned quarantine_keep;   /* quarantine entries kept (retention) */
	/* where each setting came from, for the log: "default", "env NAME" or "flag" */
	const char *origin[SETTING_KEY_END - SETTING_SET_NAME];
};

/* The long options of the shared settings, to be merged into a program's table. The
 * `val` of each entry is its enum setting_key. Ends with a zeroed entry. */
extern const struct option settings_options[];

/* Fill s with the built-in defaults. */
void settings_init(struct settings *s);

/* Read every setting's environment variable. Returns 0, or -EINVAL with err naming the
 * variable and what is wrong with its value. Environment values override defaults. */
int settings_load_env(struct settings *s, struct error *err);

/* The program's own deadline variable, ETCD_HOOKS_<PROGRAM>_TIMEOUT ("etcd-leave":
 * ETCD_HOOKS_LEAVE_TIMEOUT), read after settings_load_env(): it wins over the shared
 * ETCD_HOOKS_TIMEOUT, which a container's hooks inherit; a flag wins over both. Returns 0
 * or -EINVAL with err naming the variable. */
int settings_load_program_env(struct settings *s, const char *program, struct error *err);

/* etcd-leave's policy: when a member leaves its cluster (etcd-leave(8)). */
enum leave_policy {
	LEAVE_POLICY_AUTO,
	LEAVE_POLICY_SCALE_DOWN,
	LEAVE_POLICY_ABOVE_INITIAL,
	LEAVE_POLICY_ALWAYS,
	LEAVE_POLICY_NEVER,
};

/* "auto", "scale-down"...; the name of a policy. */
const char *settings_leave_policy_name(enum leave_policy p);

/* Parse a policy name. Returns 0, or -EINVAL with err naming where (a flag, a variable)
 * and the policies there are. */
int settings_leave_policy_parse(const char *value, const char *where, enum leave_policy *ret,
                                struct error *err);

/* ETCD_HOOKS_LEAVE_POLICY into *ret when it is set (unset: *ret unchanged). Returns 0 or
 * -EINVAL (empty, or not a policy). */
int settings_load_leave_policy(enum leave_policy *ret, struct error *err);

/* Check every program's deadline variable (ETCD_HOOKS_PROMOTE_TIMEOUT...) and etcd-leave's
 * policy without using them: etcd-join, the container's command, fails on the hooks' bad
 * values too, so that the container's own error is the one users see (and not a preStop
 * that fails at the first scale-down). Returns 0 or -EINVAL. */
int settings_check_program_envs(struct error *err);

/* Where the setting came from: "default", "flag", "service account" (the namespace) or
 * the name of the variable. */
const char *settings_origin(const struct settings *s, enum setting_key key);

/* The flag of a setting, without "--" ("data-dir"). */
const char *settings_flag_name(enum setting_key key);

/* What --help says of a setting: the value's name (NULL for a switch), one line of help,
 * and the variables read (NULL when none). */
void settings_describe(enum setting_key key, const char **ret_arg, const char **ret_help,
                       const char **ret_env0, const char **ret_env1);

/* The program's own deadline variable ("etcd-leave": ETCD_HOOKS_LEAVE_TIMEOUT), or NULL. */
const char *settings_program_timeout_variable(const char *program);

/* Set one setting from a command-line flag (value NULL for flags without argument).
 * Returns 0 or -EINVAL with a specific message. */
int settings_set(struct settings *s, enum setting_key key, const char *value, struct error *err);

enum settings_need {
	SETTINGS_NEED_INITIAL_SIZE = 1 << 0,
};

/* Validate once, after env and flags: names are DNS labels, ports differ, paths are
 * absolute, TLS files come in pairs, the password file is read. `need` lists settings
 * that this program requires. Returns 0 or -EINVAL with the first problem in err. */
int settings_validate(struct settings *s, unsigned need, struct error *err);

/* True for an environment entry ("NAME=value") of the programs' credentials, which never
 * reach etcd's environment: every ETCDCTL_* variable (the user, the password, the client
 * TLS of these programs), ROOT_PASSWORD and ROOT_PASSWORD_FILE. The one list, next to
 * where they are read. */
bool settings_secret_variable(const char *entry);

/* Free the owned strings (and wipe the password); s may then be re-initialised. */
void settings_free(struct settings *s);
