/* The etcd command line etcd-join execs, built so that no setting reaches etcd twice:
 * etcd (3.5 and later fatally) refuses a flag whose ETCD_* variable is also set. */
#pragma once

#include "error.h"

#include <stddef.h>

struct etcdargs_input {
	const char *etcd; /* the binary, argv[0] */
	const char *name;
	const char *data_dir;
	const char *listen_peer_url;
	const char *listen_client_url;
	const char *advertise_peer_url;
	const char *advertise_client_url;
	const char *initial_cluster; /* NULL on a restart: etcd ignores it then */
	const char *initial_state;   /* "new", "existing", or NULL on a restart */
	const char *token;           /* with "new" only */
	char *const *extra;          /* flags after "--", passed as they are */
	size_t n_extra;
	char *const *envp; /* the environment etcd will get */
};

struct etcdargs {
	char **argv; /* NULL-terminated, owned */
	size_t argc;
	char **unset;   /* ETCD_* variables to remove before exec, NULL-terminated, owned */
	char **yielded; /* our flags left out because the user set them, NULL-terminated */
};

/* Build argv. A flag etcd-join owns (name, data dir, initial cluster, its state, the
 * advertised peer URL) given after "--" is an error (-EINVAL, err names it), and so is its
 * ETCD_* variable when etcd-join passes that flag this time (ETCD_DATA_DIR excepted: it is
 * an input). On a restart the initial-cluster variables are left alone: etcd ignores them. A flag
 * the user may choose (listen URLs, advertised client URL, cluster token) given either way wins
 * over ours. Every flag in the result has its ETCD_* variable listed in `unset`. */
int etcdargs_build(const struct etcdargs_input *in, struct etcdargs *ret, struct error *err);
void etcdargs_free(struct etcdargs *a);

/* Check the flags after "--" before anything is done: a flag etcd-join owns (--name,
 * --data-dir, --initial-cluster, --initial-cluster-state, --initial-advertise-peer-urls)
 * is -EINVAL with err naming it. */
int etcdargs_check_extra(char *const *extra, size_t n_extra, struct error *err);

/* The value the user gives etcd's --flag: after "--" ("--flag=v" or "--flag v"; the last
 * one), else its ETCD_* variable in envp; NULL when neither. */
const char *etcdargs_user_value(char *const *extra, size_t n_extra, char *const *envp,
                                const char *flag);

/* Check etcd's environment before anything is done: a variable of a flag etcd-join
 * decides (ETCD_NAME, ETCD_INITIAL_CLUSTER, ETCD_INITIAL_CLUSTER_STATE,
 * ETCD_INITIAL_ADVERTISE_PEER_URLS) is -EINVAL with err naming it, whatever this start
 * would decide: found only when etcd is exec'd, it would strand a member just added. */
int etcdargs_check_env(char *const *envp, struct error *err);

/* Only the variables of the flags etcd-hooks does not support (ETCD_WAL_DIR,
 * ETCD_CONFIG_FILE): -EINVAL with err naming the first. For etcd-clean, which would
 * otherwise take a data dir whose WAL is elsewhere for a partial one. */
int etcdargs_check_unsupported_env(char *const *envp, struct error *err);

/* "ETCD_" + upper-case flag name with '-' as '_' (etcd's own rule), into buf. */
void etcdargs_env_name(const char *flag, char *buf, size_t size);
