/*
 * etcd-clean: the initContainer of the etcd StatefulSet, and a tool for incidents.
 *
 * It runs before etcd-join, with etcd not started yet, and reads the data dir offline: its
 * structure, the member ID and cluster ID in its WAL, whether an etcd holds it, and beside it
 * the cluster marker, the tombstone etcd-leave left and the quarantine. By default it moves
 * aside (never deletes) data that must not be started: the data of a member etcd-leave
 * removed, partial data, and data of another cluster than the marker's; then the data dir is
 * empty or valid and etcd-join can decide. By hand it also shows the state (--status), moves
 * the data aside (--quarantine), deletes it (--wipe, with interlocks), and lists and restores
 * quarantined data (--list, --restore). A data dir held by a running etcd is never touched.
 */
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
#include "log.h"
#include "quarantine.h"
#include "settings.h"
#include "snapshot.h"
#include "state.h"
#include "wal.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define DEFAULT_TIMEOUT_MS (60 * 1000)
/* --wipe asks the cluster whether this member is still in it: a live cluster answers a
 * member list within milliseconds, so a few seconds of retries are plenty. */
#define PROBE_TIMEOUT_MS   3000
#define CALL_TIMEOUT_MS    800
#define CONNECT_TIMEOUT_MS 500
#define HELPER_NAME        ".etcd-hooks"

enum mode {
	MODE_CHECK, /* the default: the initContainer's job */
	MODE_STATUS,
	MODE_QUARANTINE,
	MODE_WIPE,
	MODE_LIST,
	MODE_RESTORE,
};

static const char *const mode_flags[] = {
        [MODE_CHECK] = "(default)", [MODE_STATUS] = "--status", [MODE_QUARANTINE] = "--quarantine",
        [MODE_WIPE] = "--wipe",     [MODE_LIST] = "--list",     [MODE_RESTORE] = "--restore",
};

/* Above the shared settings' keys (256 and up). */
enum clean_option {
	OPT_STATUS = 512,
	OPT_QUARANTINE,
	OPT_WIPE,
	OPT_LIST,
	OPT_RESTORE,
	OPT_JSON,
	OPT_FORCE,
	OPT_KEEP,
};

/* The modes of a run by hand (kubectl exec into the etcd container, say): its errors must
 * not take the place of that container's termination message. */
static const char *const by_hand[] = {"status", "quarantine", "wipe", "list", "restore", NULL};

static const struct option own_options[] = {
        {"status", no_argument, NULL, OPT_STATUS},
        {"quarantine", no_argument, NULL, OPT_QUARANTINE},
        {"wipe", no_argument, NULL, OPT_WIPE},
        {"list", no_argument, NULL, OPT_LIST},
        {"restore", required_argument, NULL, OPT_RESTORE},
        {"json", no_argument, NULL, OPT_JSON},
        {"force", no_argument, NULL, OPT_FORCE},
        {"keep", required_argument, NULL, OPT_KEEP},
};

/* What the tombstone, the marker and the WAL said: 0 and the values, -ENOENT (none), or
 * another negative errno with the reason. */
struct clean {
	struct settings s;
	enum mode mode;
	bool mode_given;
	char *restore_id;
	bool json, force;
	char usage_msg[160];
	struct error keep_err;
	struct deadline deadline;
	char *data_dir; /* as given, without trailing slashes */
	char *helper;

	/* what was seen */
	struct local_state ls;
	size_t n_quarantine;
	/* The helper folder or its quarantine folder when it is not a real directory (a
	 * symlink): "" when both are fine or absent. */
	char helper_bad[PATH_MAX];
};

static const enum setting_key uses[] = {CLI_USES_CLUSTER, SETTING_QUARANTINE_KEEP, SETTING_TIMEOUT,
                                        SETTING_DRY_RUN,  SETTING_DEBUG,           SETTING_KEY_END};

/* in the order of own_options */
static const struct cli_help own_help[] = {
        {"status", NULL, "show the data dir, its IDs and helper state", NULL},
        {"quarantine", NULL, "move the data dir aside (tag \"manual\")", NULL},
        {"wipe", NULL,
         "delete the data dir; only when its own cluster says the member was removed (or --force)",
         NULL},
        {"list", NULL, "list the quarantined data dirs and the snapshots", NULL},
        {"restore", "ID", "move a quarantined data dir back (the data dir empty)", NULL},
        {"json", NULL, "JSON output (--status, --list)", NULL},
        {"force", NULL, "--wipe without asking the cluster (never while the data dir is in use)",
         NULL},
        {"keep", "N", "the same as --quarantine-keep", NULL},
};

_Static_assert(sizeof(own_help) / sizeof(own_help[0]) ==
                       sizeof(own_options) / sizeof(own_options[0]),
               "every option of the program has its --help line");

static int set_mode(struct clean *c, enum mode m, const char **ret_msg)
{
	if (c->mode_given && c->mode != m) {
		snprintf(c->usage_msg, sizeof(c->usage_msg),
		         "%s and %s cannot go together: give one mode", mode_flags[c->mode],
		         mode_flags[m]);
		*ret_msg = c->usage_msg;
		return -EINVAL;
	}
	c->mode = m;
	c->mode_given = true;
	return 0;
}

static int on_option(int opt, const char *arg, void *ctx, const char **ret_msg)
{
	struct clean *c = ctx;

	switch (opt) {
	case OPT_STATUS:
		return set_mode(c, MODE_STATUS, ret_msg);
	case OPT_QUARANTINE:
		return set_mode(c, MODE_QUARANTINE, ret_msg);
	case OPT_WIPE:
		return set_mode(c, MODE_WIPE, ret_msg);
	case OPT_LIST:
		return set_mode(c, MODE_LIST, ret_msg);
	case OPT_RESTORE:
		if (set_mode(c, MODE_RESTORE, ret_msg) < 0)
			return -EINVAL;
		free(c->restore_id);
		c->restore_id = strdup(arg);
		return c->restore_id ? 0 : -ENOMEM;
	case OPT_JSON:
		c->json = true;
		return 0;
	case OPT_FORCE:
		c->force = true;
		return 0;
	case OPT_KEEP:
		/* the older name of --quarantine-keep */
		if (settings_set(&c->s, SETTING_QUARANTINE_KEEP, arg, &c->keep_err) < 0) {
			snprintf(c->usage_msg, sizeof(c->usage_msg),
			         "--keep: '%.40s' is not a number of quarantine entries (1 to %d)",
			         arg, SETTINGS_MAX_QUARANTINE_KEEP);
			*ret_msg = c->usage_msg;
			return -EINVAL;
		}
		return 0;
	}
	*ret_msg = "unknown option";
	return -EINVAL;
}

/* The checks of the data dir path beyond settings_validate() (absolute, not "/"): no "." or
 * ".." component (".../etcd/.." would make a wipe delete the volume's parent), and not the
 * helper folder itself. */
static int check_data_dir(const char *path, struct error *err)
{
	const char *p = path, *base = strrchr(path, '/');

	while (*p) {
		size_t n;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return error_set(
			        err, -EINVAL,
			        "data dir '%s' (ETCD_DATA_DIR, --data-dir) must not have '.' or '..' in it",
			        path);
		p += n;
	}
	if (base && strcmp(base + 1, HELPER_NAME) == 0)
		return error_set(err, -EINVAL,
		                 "data dir '%s' is the name of the helper folder beside it", path);
	return 0;
}

static const char *id_dec(uint64_t id, char buf[ETCD_ID_STR_MAX])
{
	return etcd_id_format(id, buf);
}

/* The report's form, "10276657743932975437 (8e9e05c52164694d)", into buf: the decimal
 * as the files and the gateway hold it, the hex as the messages and etcdctl show it. */
static const char *id_both(uint64_t id, char *buf, size_t size)
{
	char d[ETCD_ID_STR_MAX], h[ETCD_ID_STR_MAX];

	snprintf(buf, size, "%s (%s)", id_dec(id, d), etcd_id_hex(id, h));
	return buf;
}

static const char *human_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%" PRIu64 " B", bytes);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
	return buf;
}

static bool foreign(const struct clean *c)
{
	return c->ls.marker_seen.r == 0 && c->ls.wal_seen.r == 0 &&
	       c->ls.marker_cluster != c->ls.wal.cluster_id;
}

/* The helper folder and its quarantine folder must be real directories: the quarantine
 * would follow a symlink there, and its retention would delete in the link's target. */
static void check_helper(struct clean *c)
{
	const char *const names[] = {"", "/quarantine"};
	struct stat st;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s%s", c->helper, names[i]);
		if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
			snprintf(c->helper_bad, sizeof(c->helper_bad), "%s", path);
			log_msg(LOG_WARNING, "'%s' is %s, not a directory: not used", path,
			        S_ISLNK(st.st_mode) ? "a symlink" : "a file");
			return;
		}
	}
}

/* Refuse what would go through a helper folder that is not a real directory. */
static int refuse_helper(const struct clean *c, const char *what)
{
	if (!c->helper_bad[0])
		return 0;
	log_msg(LOG_FATAL,
	        "refusing to %s: '%s' is not a directory (a symlink is never followed); make the helper folder and its quarantine real directories",
	        what, c->helper_bad);
	return EXIT_REFUSED;
}

/* Read everything the modes decide on; nothing is changed. Returns 0 or an exit code. */
static int gather(struct clean *c)
{
	struct error err;
	char **list = NULL;

	error_clear(&err);
	if (state_read(c->data_dir, &c->ls, &err) < 0) {
		log_msg(LOG_FATAL, "%s", err.msg);
		return EXIT_FAILED;
	}
	/* A WAL that could not be read says nothing about valid data: the default mode
	 * decides nothing on it (the modes by hand show or refuse it). Data in use is
	 * refused as such; partial data is partial anyway. */
	if (c->ls.wal_unreadable && c->mode == MODE_CHECK) {
		log_msg(LOG_FATAL,
		        "cannot read the WAL's metadata: %s; deciding nothing, nothing moved",
		        c->ls.wal_seen.error);
		return EXIT_FAILED;
	}
	error_clear(&err);
	check_helper(c);
	if (!c->helper_bad[0] && quarantine_list(c->data_dir, &list, &err) == 0) {
		while (list[c->n_quarantine])
			free(list[c->n_quarantine++]);
		free(list);
	}
	log_msg(c->mode == MODE_STATUS || c->mode == MODE_LIST ? LOG_DEBUG : LOG_INFO,
	        "data_dir='%s' state=%s (%s)%s", c->data_dir, datadir_state_name(c->ls.data.state),
	        c->ls.data.reason, c->ls.is_link ? " and it is a symlink" : "");
	if (c->ls.wal_seen.r == 0) {
		char m[48], k[48];

		log_msg(LOG_DEBUG, "the WAL says member id=%s cluster_id=%s",
		        etcd_id_hex(c->ls.wal.member_id, m), etcd_id_hex(c->ls.wal.cluster_id, k));
	}
	return 0;
}

/* ---- the report (default mode) and --status ---- */

static void print_ids(FILE *f, const char *label, int r, const char *error, uint64_t member,
                      uint64_t cluster)
{
	char m[48], k[48];

	if (r == 0)
		fprintf(f, "%-15s member %s, cluster %s\n", label, id_both(member, m, sizeof(m)),
		        id_both(cluster, k, sizeof(k)));
	else if (r == -ENOENT)
		fprintf(f, "%-15s none\n", label);
	else
		fprintf(f, "%-15s unreadable: %s\n", label, error);
}

/* The data dir, its state and (with ids) the IDs in its WAL. */
static void print_state(const struct clean *c, FILE *f, bool ids)
{
	fprintf(f, "%-15s %s\n", "data dir:", c->data_dir);
	if (c->ls.is_link)
		fprintf(f, "%-15s yes, to %s%s\n", "symlink:", c->ls.link_target,
		        c->ls.link_dangling ? " (missing)" : "");
	fprintf(f, "%-15s %s: %s\n", "state:", datadir_state_name(c->ls.data.state),
	        c->ls.data.reason);
	if (ids && c->ls.data.n_wal > 0)
		print_ids(f, "WAL:", c->ls.wal_seen.r, c->ls.wal_seen.error, c->ls.wal.member_id,
		          c->ls.wal.cluster_id);
}

static void print_tombstone(const struct clean *c, FILE *f)
{
	char m[48], k[48];

	if (c->ls.tomb_seen.r == 0)
		fprintf(f, "%-15s %s: member %s, cluster %s%s\n",
		        "tombstone:", c->ls.tomb.removed ? "removed" : "removing",
		        id_both(c->ls.tomb.member_id, m, sizeof(m)),
		        id_both(c->ls.tomb.cluster_id, k, sizeof(k)),
		        c->ls.wal_seen.r == 0 && c->ls.tomb.member_id == c->ls.wal.member_id
		                ? " (this data's member)"
		                : "");
	else
		print_ids(f, "tombstone:", c->ls.tomb_seen.r, c->ls.tomb_seen.error, 0, 0);
}

static void print_status(const struct clean *c)
{
	char m[48], k[48];

	print_state(c, stdout, false);
	printf("%-15s %s\n",
	       "in use:", c->ls.data.state == DATADIR_IN_USE ? "yes, by a running etcd" : "no");
	printf("%-15s %zu\n", "WAL files:", c->ls.data.n_wal);
	printf("%-15s %s\n", "backend db:", c->ls.data.has_db ? "yes" : "no");
	if (c->ls.wal_seen.r == 0) {
		printf("%-15s %s\n", "member ID:", id_both(c->ls.wal.member_id, m, sizeof(m)));
		printf("%-15s %s\n", "cluster ID:", id_both(c->ls.wal.cluster_id, k, sizeof(k)));
	} else if (c->ls.wal_seen.r == -ENOENT) {
		printf("%-15s -\n%-15s -\n", "member ID:", "cluster ID:");
	} else {
		printf("%-15s unreadable: %s\n%-15s -\n", "member ID:", c->ls.wal_seen.error,
		       "cluster ID:");
	}
	if (c->ls.marker_seen.r == 0)
		printf("%-15s cluster %s, member %s%s\n",
		       "cluster marker:", id_both(c->ls.marker_cluster, k, sizeof(k)),
		       id_both(c->ls.marker_member, m, sizeof(m)),
		       foreign(c) ? " (another cluster than the data's)" : "");
	else
		print_ids(stdout, "cluster marker:", c->ls.marker_seen.r, c->ls.marker_seen.error,
		          0, 0);
	print_tombstone(c, stdout);
	printf("%-15s %zu entr%s\n", "quarantine:", c->n_quarantine,
	       c->n_quarantine == 1 ? "y" : "ies");
	printf("%-15s %s%s\n", "helper folder:", c->helper,
	       c->helper_bad[0] ? " (not a real directory: not used)" : "");
}

/* {"dec": "...", "hex": "..."} members named prefix and prefix_hex, into o. */
static void json_id(json_t *o, const char *key, uint64_t id)
{
	char d[ETCD_ID_STR_MAX], h[17], hkey[64];

	snprintf(hkey, sizeof(hkey), "%s_hex", key);
	json_object_set_new(o, key, json_string(id_dec(id, d)));
	json_object_set_new(o, hkey, json_string(etcd_id_hex(id, h)));
}

/* An object with the two IDs, null when there is none, or {"error": ...}. */
static json_t *json_ids(const struct state_seen *s, const char *k1, uint64_t v1, const char *k2,
                        uint64_t v2)
{
	json_t *o;

	if (s->r == -ENOENT)
		return json_null();
	o = json_object();
	if (s->r < 0) {
		json_object_set_new(o, "error", json_string(s->error));
		return o;
	}
	json_id(o, k1, v1);
	json_id(o, k2, v2);
	return o;
}

static int print_status_json(const struct clean *c)
{
	json_t *o = json_object(), *t;
	char *text;

	json_object_set_new(o, "data_dir", json_string(c->data_dir));
	json_object_set_new(o, "symlink",
	                    c->ls.is_link ? json_string(c->ls.link_target) : json_null());
	json_object_set_new(o, "state", json_string(datadir_state_name(c->ls.data.state)));
	json_object_set_new(o, "reason", json_string(c->ls.data.reason));
	json_object_set_new(o, "in_use", json_boolean(c->ls.data.state == DATADIR_IN_USE));
	json_object_set_new(o, "wal_files", json_integer((json_int_t)c->ls.data.n_wal));
	json_object_set_new(o, "db", json_boolean(c->ls.data.has_db));
	if (c->ls.wal_seen.r == 0) {
		json_id(o, "member_id", c->ls.wal.member_id);
		json_id(o, "cluster_id", c->ls.wal.cluster_id);
	} else {
		json_object_set_new(o, "member_id", json_null());
		json_object_set_new(o, "cluster_id", json_null());
	}
	json_object_set_new(o, "wal_error",
	                    c->ls.wal_seen.r < 0 && c->ls.wal_seen.r != -ENOENT
	                            ? json_string(c->ls.wal_seen.error)
	                            : json_null());
	t = json_ids(&c->ls.marker_seen, "cluster_id", c->ls.marker_cluster, "member_id",
	             c->ls.marker_member);
	if (c->ls.marker_seen.r == 0)
		json_object_set_new(t, "matches_data",
		                    c->ls.wal_seen.r == 0 ? json_boolean(!foreign(c))
		                                          : json_null());
	json_object_set_new(o, "marker", t);
	t = json_ids(&c->ls.tomb_seen, "member_id", c->ls.tomb.member_id, "cluster_id",
	             c->ls.tomb.cluster_id);
	if (c->ls.tomb_seen.r == 0) {
		json_object_set_new(t, "state",
		                    json_string(c->ls.tomb.removed ? "removed" : "removing"));
		json_object_set_new(t, "matches_data",
		                    json_boolean(c->ls.wal_seen.r == 0 &&
		                                 c->ls.tomb.member_id == c->ls.wal.member_id));
	}
	json_object_set_new(o, "tombstone", t);
	json_object_set_new(o, "quarantine_entries", json_integer((json_int_t)c->n_quarantine));
	json_object_set_new(o, "helper_dir", json_string(c->helper));
	json_object_set_new(o, "helper_not_a_directory",
	                    c->helper_bad[0] ? json_string(c->helper_bad) : json_null());
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text) {
		log_msg(LOG_FATAL, "out of memory");
		return EXIT_FAILED;
	}
	printf("%s\n", text);
	free(text);
	return EXIT_DONE;
}

/* ---- changes ---- */

/* After the data of a removed member left the data dir, its tombstone has done its job. */
static void clear_tombstone(const struct clean *c, uint64_t member_id)
{
	struct error err;
	char m[48];

	if (c->ls.tomb_seen.r != 0 || !c->ls.tomb.removed || c->ls.tomb.member_id != member_id ||
	    c->helper_bad[0])
		return;
	error_clear(&err);
	if (state_tombstone_clear(c->data_dir, &err) < 0)
		log_msg(LOG_WARNING, "cannot clear the tombstone: %s", err.msg);
	else
		log_msg(LOG_INFO, "cleared the tombstone of member %s", etcd_id_hex(member_id, m));
}

/* Move the data dir aside. Returns 0 or an exit code. */
static int quarantine(const struct clean *c, enum quarantine_tag tag, const char *reason)
{
	char *moved = NULL;
	struct error err;

	if (c->s.dry_run) {
		char would[8192];

		snprintf(would, sizeof(would), "move '%s' aside to '%s/quarantine/<time>-%s/'",
		         c->data_dir, c->helper, quarantine_tag_name(tag));
		cli_dry_run(NULL, reason, "would", would, NULL);
		return EXIT_DONE;
	}
	error_clear(&err);
	if (quarantine_move(c->data_dir, tag, reason, c->s.quarantine_keep, cli_log_pruned,
	                    (void *)&c->s.quarantine_keep, &moved, &err) < 0) {
		log_msg(LOG_FATAL, "cannot move the data dir aside: %s", err.msg);
		return EXIT_FAILED;
	}
	log_msg(LOG_WARNING, "moved the data dir '%s' aside to '%s' (kept, not deleted): %s",
	        c->data_dir, moved, reason);
	printf("%-15s %s\n", "moved to:", moved);
	free(moved);
	if (c->ls.wal_seen.r == 0)
		clear_tombstone(c, c->ls.wal.member_id);
	return EXIT_DONE;
}

/* The refusals shared by the modes that change the data dir. Returns 0 or EXIT_REFUSED. */
static int refuse_unsafe(const struct clean *c, const char *what)
{
	if (c->ls.data.state == DATADIR_IN_USE) {
		log_msg(LOG_FATAL,
		        "refusing to %s '%s': a running etcd holds it (%s); stop that etcd first",
		        what, c->data_dir, c->ls.data.reason);
		return EXIT_REFUSED;
	}
	if (c->ls.is_link) {
		log_msg(LOG_FATAL,
		        "refusing to %s '%s': it is a symlink to '%s'; symlinks are never followed (act on the target, or remove the link, by hand)",
		        what, c->data_dir, c->ls.link_target);
		return EXIT_REFUSED;
	}
	return 0;
}

/* The default mode keeps the data dir: usable, or a dangling symlink (refused). */
static int keep_data(const struct clean *c, enum clean_action action)
{
	if (action == CLEAN_REFUSE_DANGLING) {
		printf("%-15s none\n", "action:");
		log_msg(LOG_FATAL,
		        "the data dir '%s' is a symlink to '%s', which does not exist: etcd cannot use it, and symlinks are never followed",
		        c->data_dir, c->ls.link_target);
		return EXIT_REFUSED;
	}
	if (c->ls.is_link)
		log_msg(LOG_WARNING, "the data dir '%s' is a symlink to '%s'", c->data_dir,
		        c->ls.link_target);
	printf("%-15s none: %s\n", "action:",
	       c->ls.data.state == DATADIR_EMPTY ? "the data dir is empty"
	                                         : "the data dir holds valid member data");
	printf("%-15s usable\n", "result:");
	log_msg(LOG_INFO, "the data dir is usable: %s", datadir_state_name(c->ls.data.state));
	if (c->s.dry_run)
		cli_dry_run(NULL, NULL, "would", "move nothing: the data dir is usable", NULL);
	return EXIT_DONE;
}

/* The default mode: what must not be started is moved aside. */
static int run_check(struct clean *c)
{
	char reason[512], m[48], k[48];
	enum quarantine_tag tag = QUARANTINE_PARTIAL;
	enum clean_action action;
	bool move = false;
	int r;

	print_state(c, stdout, true);
	print_tombstone(c, stdout);
	if (c->ls.marker_seen.r == 0)
		printf("%-15s cluster %s\n",
		       "cluster marker:", id_both(c->ls.marker_cluster, k, sizeof(k)));
	else
		print_ids(stdout, "cluster marker:", c->ls.marker_seen.r, c->ls.marker_seen.error,
		          0, 0);
	action = clean_decide(&(struct clean_input){.data = c->ls.data.state,
	                                            .tombstoned = state_tombstoned(&c->ls),
	                                            .is_link = c->ls.is_link,
	                                            .link_dangling = c->ls.link_dangling});
	if (action == CLEAN_REFUSE_IN_USE) {
		printf("%-15s none: a running etcd holds the data dir\n", "action:");
		return refuse_unsafe(c, "check");
	}
	if (action == CLEAN_MOVE_PARTIAL ||
	    (action == CLEAN_REFUSE_SYMLINK && c->ls.data.state == DATADIR_PARTIAL)) {
		move = true;
		snprintf(reason, sizeof(reason), "partial data: %s", c->ls.data.reason);
	} else if (action == CLEAN_MOVE_LEFT || action == CLEAN_REFUSE_SYMLINK) {
		move = true;
		tag = QUARANTINE_LEFT;
		snprintf(reason, sizeof(reason),
		         "member %s was removed from cluster %s (the tombstone etcd-leave wrote)",
		         etcd_id_hex(c->ls.wal.member_id, m),
		         etcd_id_hex(c->ls.tomb.cluster_id, k));
	} else if (c->ls.data.state == DATADIR_VALID && foreign(c)) {
		char w[48];

		/* Valid data is moved aside only on the word of its own cluster, which etcd-join
		 * asks; the marker alone cannot say which of the two is stale. */
		log_msg(LOG_WARNING,
		        "the data belongs to cluster %s, the cluster marker says %s: not moved (only its own cluster can say this member was removed; etcd-join asks it, or move it aside by hand with --quarantine)",
		        etcd_id_hex(c->ls.wal.cluster_id, w), etcd_id_hex(c->ls.marker_cluster, k));
	}
	if (c->ls.tomb_seen.r < 0 && c->ls.tomb_seen.r != -ENOENT)
		log_msg(LOG_WARNING, "%s; not acting on it", c->ls.tomb_seen.error);
	if (c->ls.marker_seen.r < 0 && c->ls.marker_seen.r != -ENOENT)
		log_msg(LOG_WARNING, "%s; not acting on it", c->ls.marker_seen.error);

	if (!move)
		return keep_data(c, action);
	printf("%-15s move aside (%s): %s\n", "action:", quarantine_tag_name(tag), reason);
	log_msg(LOG_INFO, "moving the data dir aside: %s", reason);
	r = refuse_unsafe(c, "move aside");
	if (!r)
		r = refuse_helper(c, "move the data dir aside");
	if (r)
		return r;
	r = quarantine(c, tag, reason);
	if (r == EXIT_DONE && !c->s.dry_run)
		printf("%-15s usable (empty)\n", "result:");
	return r;
}

static int run_quarantine(struct clean *c)
{
	char reason[400];
	int r = refuse_unsafe(c, "move aside");

	if (!r)
		r = refuse_helper(c, "move the data dir aside");
	if (r)
		return r;
	if (c->ls.data.state == DATADIR_EMPTY) {
		log_msg(LOG_INFO, "nothing to move aside: %s", c->ls.data.reason);
		if (c->s.dry_run)
			cli_dry_run(NULL, c->ls.data.reason, "would", "move nothing", NULL);
		return EXIT_DONE;
	}
	snprintf(reason, sizeof(reason),
	         "moved aside by hand (etcd-clean --quarantine); it was %s: %s",
	         datadir_state_name(c->ls.data.state), c->ls.data.reason);
	return quarantine(c, QUARANTINE_MANUAL, reason);
}

/* ---- --wipe ---- */

/* May --wipe delete this data without --force? Only on positive evidence that it is not the
 * data of a member of its cluster: the tombstone etcd-leave wrote once that cluster removed
 * the member, or the data's own cluster (same cluster ID, a leader, a raft log not behind
 * the data's) answering without the member. Everything else (no cluster answers, names that
 * do not resolve, an answer that cannot be read, another cluster, data without a readable
 * member ID) is "cannot tell": refused. Returns 0 (allowed) or the exit code, logged. */
static const char force_hint[] = "; give --force to wipe it anyway";

/* The cluster that answers, and its leader's view of the member list (into *ret_p, *ret_st,
 * *ret_l; *ret_d: the bound of the calls to the leader). Returns 0, or EXIT_REFUSED (or
 * EXIT_FAILED), logged. */
static int wipe_ask_cluster(struct clean *c, struct http_client *http, const struct endpoints *ep,
                            const struct identity *id, struct deadline *ret_d,
                            struct cluster_probe *ret_p, struct etcd_status *ret_st,
                            struct etcd_member_list *ret_l)
{
	struct cluster_probe_opts o = {.ep = ep,
	                               .ordinal = id->ordinal,
	                               .initial_size = c->s.initial_cluster_size,
	                               .extra = c->s.endpoints,
	                               .call_timeout_ms = CALL_TIMEOUT_MS};
	char m[48];
	struct error err;

	error_clear(&err);
	if (cluster_probe(http, &o, ret_p) < 0) {
		log_msg(LOG_FATAL, "out of memory");
		return EXIT_FAILED;
	}
	switch (ret_p->answer) {
	case CLUSTER_NONE:
		log_msg(LOG_FATAL,
		        "refusing to wipe '%s': no cluster answers (asked %u client URL(s)%s%s), so nothing says member %s was removed%s",
		        c->data_dir, ret_p->asked, ret_p->why[0] ? "; last: " : "", ret_p->why,
		        etcd_id_hex(c->ls.wal.member_id, m), force_hint);
		return EXIT_REFUSED;
	case CLUSTER_UNREADABLE:
	case CLUSTER_CONFLICT:
		log_msg(LOG_FATAL, "refusing to wipe '%s': %s%s", c->data_dir, ret_p->why,
		        force_hint);
		return EXIT_REFUSED;
	case CLUSTER_ANSWERS:
		break;
	}
	/* one bound, from here, for the leader's view and its peer port's word */
	deadline_init_within(ret_d, PROBE_TIMEOUT_MS, &c->deadline);
	if (cluster_leader_view(http, &ret_p->members, ret_p->answered_at, ret_d, ret_st, ret_l,
	                        &err) < 0) {
		log_msg(LOG_FATAL,
		        "refusing to wipe '%s': the cluster at '%s' has no leader that answers (%s)%s",
		        c->data_dir, ret_p->answered_at, err.msg, force_hint);
		return EXIT_REFUSED;
	}
	return 0;
}

/* Does the leader's list hold this member, by the WAL's member ID or, started, by its peer
 * URL? Said when it does. */
static bool wipe_listed(const struct clean *c, const struct etcd_member_list *l,
                        const char *my_peer_url, const char *answered_at)
{
	char m[48];

	for (size_t i = 0; i < l->n_members; i++) {
		const struct etcd_member *mb = &l->members[i];

		if (mb->id != c->ls.wal.member_id &&
		    !(etcd_member_has_peer_url(mb, my_peer_url) && etcd_member_started(mb)))
			continue;
		log_msg(LOG_FATAL,
		        "this member %s (matched by %s) is a %s member of the cluster that answers at '%s': refusing to wipe its data; remove the member first (etcd-leave, or etcdctl member remove), or give --force",
		        etcd_id_hex(mb->id, m),
		        mb->id == c->ls.wal.member_id ? "the WAL's member ID" : "its peer URL",
		        etcd_member_started(mb) ? "started" : "not yet started", answered_at);
		return true;
	}
	return false;
}

/* The leader does not list the member: may it say the member was removed (join_vouch_of():
 * its own cluster, a log not behind the data's, its peer port's word)? Returns 0 (yes) or
 * EXIT_REFUSED, logged. */
static int wipe_vouch(struct clean *c, struct http_client *http, const struct etcd_member_list *l,
                      const struct etcd_status *st, const struct deadline *d,
                      const char *answered_at, const char *my_peer_url)
{
	enum join_peer_word peer = JOIN_PEER_NO_ANSWER;
	struct wal_state ws = {0};
	enum etcd_peer_says says;
	char m[48], k[48];
	struct error err;
	enum join_vouch v;

	error_clear(&err);
	if (wal_read_state(c->data_dir, &ws, &err) < 0) {
		log_msg(LOG_WARNING, "cannot read how far the data's raft log went: %s", err.msg);
		ws.commit = UINT64_MAX;
	}
	error_clear(&err);
	if (cluster_leader_says(http, l, st->member_id, c->ls.wal.cluster_id, c->ls.wal.member_id,
	                        d, &says, &err) == 0)
		peer = (enum join_peer_word)says;
	else
		log_msg(LOG_WARNING, "no peer port of the cluster answers about member %s: %s",
		        etcd_id_hex(c->ls.wal.member_id, m), err.msg);
	v = join_vouch_of(true, st->cluster_id, st->raft_index, false, peer, c->ls.wal.cluster_id,
	                  ws.commit);
	etcd_id_hex(st->cluster_id, k);
	etcd_id_hex(c->ls.wal.member_id, m);
	switch (v) {
	case JOIN_VOUCH_YES:
		log_msg(LOG_INFO,
		        "the leader of cluster %s (at '%s', raft index %" PRIu64
		        ") does not list member %s, nor a started member with peer URL '%s', and its peer port says it removed that member: it was removed",
		        k, answered_at, st->raft_index, m, my_peer_url);
		return 0;
	case JOIN_VOUCH_OTHER_CLUSTER: {
		char w[48];

		log_msg(LOG_FATAL,
		        "refusing to wipe '%s': the cluster that answers is %s, the data belongs to cluster %s: only its own cluster can say the member was removed%s",
		        c->data_dir, k, etcd_id_hex(c->ls.wal.cluster_id, w), force_hint);
		break;
	}
	case JOIN_VOUCH_NEVER_HAD:
	case JOIN_VOUCH_CANNOT_TELL:
		log_msg(LOG_FATAL,
		        "refusing to wipe '%s': the leader of cluster %s does not list member %s, but its peer port %s: only a cluster that removed this very member ID can say its data is not needed%s",
		        c->data_dir, k, m,
		        v == JOIN_VOUCH_NEVER_HAD
		                ? "says it never had it (a cluster bootstrapped again with the same IDs?)"
		                : "does not say it removed it",
		        force_hint);
		break;
	case JOIN_VOUCH_BEHIND:
		log_msg(LOG_FATAL,
		        "refusing to wipe '%s': the cluster that answers (raft index %" PRIu64
		        ") is behind the data (committed index %" PRIu64
		        "): bootstrapped again beside it? (split brain suspected)%s",
		        c->data_dir, st->raft_index, ws.commit, force_hint);
		break;
	default:
		log_msg(LOG_FATAL,
		        "refusing to wipe '%s': its cluster does not say member %s was removed%s",
		        c->data_dir, m, force_hint);
		break;
	}
	return EXIT_REFUSED;
}

static int wipe_evidence(struct clean *c)
{
	struct http_options ho = {
	        .connect_timeout_ms = CONNECT_TIMEOUT_MS,
	        .call_timeout_ms = CALL_TIMEOUT_MS,
	        .cacert = c->s.cacert,
	        .cert = c->s.cert,
	        .key = c->s.key,
	};
	struct etcd_member_list l = {0};
	struct etcd_status st = {0};
	struct http_client *http = NULL;
	struct cluster_probe p = {0};
	char m[48], k[48], *my_peer_url = NULL;
	struct endpoints ep;
	struct identity id;
	struct deadline d;
	struct error err;
	int r;

	error_clear(&err);
	if (state_tombstoned(&c->ls) && c->ls.tomb.cluster_id == c->ls.wal.cluster_id) {
		log_msg(LOG_INFO,
		        "the tombstone says cluster %s removed member %s: wiping its data",
		        etcd_id_hex(c->ls.tomb.cluster_id, k), etcd_id_hex(c->ls.wal.member_id, m));
		return 0;
	}
	if (c->ls.wal_seen.r < 0) {
		log_msg(LOG_FATAL,
		        "refusing to wipe '%s': it has no readable member ID (%s), so no cluster can say it is not a member's data%s",
		        c->data_dir, c->ls.wal_seen.r == -ENOENT ? "no WAL" : c->ls.wal_seen.error,
		        force_hint);
		return EXIT_REFUSED;
	}
	if (identity_resolve(c->s.name, c->s.set_name, &id, &err) < 0) {
		log_msg(LOG_FATAL, "%s (--wipe needs this member's name to find it in the cluster)",
		        err.msg);
		return EXIT_USAGE;
	}
	endpoints_init(&ep, &c->s, id.set_name);
	my_peer_url = endpoints_peer_url(&ep, id.ordinal);
	if (!my_peer_url || http_global_init(&err) < 0 || http_client_new(&ho, &http, &err) < 0 ||
	    (c->s.user && http_client_set_login(http, c->s.user, c->s.password) < 0)) {
		log_msg(LOG_FATAL, "%s", err.msg[0] ? err.msg : "out of memory");
		r = EXIT_FAILED;
	} else {
		r = wipe_ask_cluster(c, http, &ep, &id, &d, &p, &st, &l);
		if (r == 0 && wipe_listed(c, &l, my_peer_url, p.answered_at))
			r = EXIT_REFUSED;
		if (r == 0)
			r = wipe_vouch(c, http, &l, &st, &d, p.answered_at, my_peer_url);
	}
	if (r == EXIT_REFUSED && deadline_passed(&c->deadline))
		r = EXIT_DEADLINE;
	etcd_member_list_free(&l);
	cluster_probe_free(&p);
	http_client_free(http);
	free(my_peer_url);
	return r;
}

struct wipe_count {
	bool dry_run;
	size_t files, dirs, links;
	uint64_t bytes;
};

static void log_deleted(const char *path, const struct stat *st, void *ctx)
{
	struct wipe_count *w = ctx;
	const char *kind = "file";

	if (S_ISDIR(st->st_mode)) {
		kind = "directory";
		w->dirs++;
	} else if (S_ISLNK(st->st_mode)) {
		kind = "symlink";
		w->links++;
	} else {
		w->files++;
		w->bytes += (uint64_t)st->st_size;
	}
	if (w->dry_run)
		printf("would delete %s '%s'\n", kind, path);
	else
		log_msg(LOG_INFO, "deleted %s '%s'", kind, path);
}

static const char *links_note(size_t links)
{
	return links ? " (the links, not their targets)" : "";
}

static int run_wipe(struct clean *c)
{
	struct wipe_count w = {.dry_run = c->s.dry_run};
	struct error err;
	char size[32];
	int r = refuse_unsafe(c, "wipe");

	if (r)
		return r;
	if (c->ls.data.state == DATADIR_EMPTY) {
		log_msg(LOG_INFO, "nothing to wipe: %s", c->ls.data.reason);
		if (c->s.dry_run)
			cli_dry_run(NULL, c->ls.data.reason, "would", "delete nothing", NULL);
		return EXIT_DONE;
	}
	if (c->force) {
		log_msg(LOG_WARNING,
		        "--force: not asking the cluster whether this member is still in it");
	} else {
		r = wipe_evidence(c);
		if (r)
			return r;
	}
	error_clear(&err);
	r = fsutil_tree_walk(c->data_dir, c->s.dry_run ? 0 : FSUTIL_TREE_REMOVE, log_deleted, &w,
	                     &err);
	human_size(w.bytes, size, sizeof(size));
	if (c->s.dry_run) {
		char would[4608];

		snprintf(
		        would, sizeof(would),
		        "delete the data dir '%s': %zu files (%s), %zu directories, %zu symlinks%s",
		        c->data_dir, w.files, size, w.dirs, w.links, links_note(w.links));
		cli_dry_run(NULL, NULL, "would", would, NULL);
		if (r < 0)
			log_msg(LOG_FATAL, "cannot walk the data dir: %s", err.msg);
		return r < 0 ? EXIT_FAILED : EXIT_DONE;
	}
	if (r < 0) {
		log_msg(LOG_FATAL,
		        "wiping the data dir '%s' failed: %s (deleted so far: %zu files, %zu directories, %zu symlinks)",
		        c->data_dir, err.msg, w.files, w.dirs, w.links);
		return EXIT_FAILED;
	}
	log_msg(LOG_WARNING,
	        "wiped the data dir '%s': deleted %zu files (%s), %zu directories, %zu symlinks%s",
	        c->data_dir, w.files, size, w.dirs, w.links, links_note(w.links));
	if (c->ls.wal_seen.r == 0)
		clear_tombstone(c, c->ls.wal.member_id);
	return EXIT_DONE;
}

/* ---- --list and --restore ---- */

static const char *format_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0 || !gmtime_r(&tt, &tm))
		snprintf(buf, size, "-");
	else
		strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* The snapshots taken before membership changes (snapshot.h): printed after the
 * quarantine, or as a JSON array in *ret (c->json). */
static int list_snapshots(struct clean *c, json_t **ret)
{
	char **names = NULL, *dir = snapshot_dir(c->data_dir), size[32], path[4096];
	struct error err;

	*ret = c->json ? json_array() : NULL;
	error_clear(&err);
	if (!dir || snapshot_list(c->data_dir, &names, &err) < 0) {
		log_msg(LOG_WARNING, "cannot list the snapshots: %s",
		        dir ? err.msg : "out of memory");
		free(dir);
		return -1;
	}
	if (!c->json && !names[0])
		printf("\nno snapshots in '%s'\n", dir);
	else if (!c->json)
		printf("\n%-64s %10s\n", "SNAPSHOT", "SIZE");
	for (size_t i = 0; names[i]; i++) {
		struct stat st;
		uint64_t bytes;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		bytes = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
		if (c->json) {
			json_t *o = json_object();

			json_object_set_new(o, "file", json_string(path));
			json_object_set_new(o, "bytes", json_integer((json_int_t)bytes));
			json_array_append_new(*ret, o);
		} else {
			printf("%-64s %10s\n", names[i], human_size(bytes, size, sizeof(size)));
		}
		free(names[i]);
	}
	free(names);
	free(dir);
	return 0;
}

static int run_list(struct clean *c)
{
	char **list = NULL, when[32], size[32];
	json_t *entries = c->json ? json_array() : NULL, *snapshots = NULL;
	struct error err;
	int r = refuse_helper(c, "list the quarantine");

	if (r) {
		json_decref(entries);
		return r;
	}
	error_clear(&err);
	if (quarantine_list(c->data_dir, &list, &err) < 0) {
		log_msg(LOG_FATAL, "%s", err.msg);
		json_decref(entries);
		return EXIT_FAILED;
	}
	if (!c->json) {
		if (!list[0])
			printf("no quarantine entries in '%s/quarantine'\n", c->helper);
		else
			printf("%-44s %-20s %10s  %s\n", "ID", "TIME", "SIZE", "REASON");
	}
	for (size_t i = 0; list[i]; i++) {
		struct quarantine_entry e;

		error_clear(&err);
		if (quarantine_entry_read(c->data_dir, list[i], &e, &err) < 0) {
			log_msg(LOG_WARNING, "%s", err.msg);
			r = EXIT_FAILED;
			continue;
		}
		format_time(e.time, when, sizeof(when));
		if (c->json) {
			json_t *o = json_object();

			json_object_set_new(o, "id", json_string(list[i]));
			json_object_set_new(o, "time",
			                    e.time < 0 ? json_null() : json_string(when));
			json_object_set_new(o, "bytes", json_integer((json_int_t)e.bytes));
			json_object_set_new(o, "reason", json_string(e.reason));
			json_object_set_new(o, "data_dir", json_string(e.data_dir));
			json_array_append_new(entries, o);
		} else {
			printf("%-44s %-20s %10s  %s\n", list[i], when,
			       human_size(e.bytes, size, sizeof(size)),
			       e.reason[0] ? e.reason : "(no reason recorded)");
		}
	}
	if (list_snapshots(c, &snapshots) < 0)
		r = EXIT_FAILED;
	if (c->json) {
		json_t *o = json_object();
		char *text, *q = NULL;

		if (asprintf(&q, "%s/quarantine", c->helper) < 0)
			q = NULL;
		json_object_set_new(o, "quarantine", q ? json_string(q) : json_null());
		json_object_set_new(o, "entries", entries);
		json_object_set_new(o, "snapshots", snapshots ? snapshots : json_array());
		text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (text)
			printf("%s\n", text);
		else
			r = EXIT_FAILED;
		free(text);
		free(q);
		json_decref(o);
	}
	for (size_t i = 0; list[i]; i++)
		free(list[i]);
	free(list);
	return r;
}

/* An error of the quarantine functions as an exit code: a bad or unknown ID is a usage
 * error; a symlink or a data dir in the way is a refusal. */
static int restore_exit(int r)
{
	switch (r) {
	case -EINVAL:
	case -ENOENT:
		return EXIT_USAGE;
	case -ELOOP:
	case -ENOTEMPTY:
		return EXIT_REFUSED;
	default:
		return EXIT_FAILED;
	}
}

static int run_restore(struct clean *c)
{
	struct quarantine_entry e;
	struct datadir_info after;
	struct wal_metadata wal;
	char *from = NULL, m[48], k[48];
	struct error err;
	bool left = false;
	int r;

	r = refuse_unsafe(c, "restore into");
	if (!r)
		r = refuse_helper(c, "restore from the quarantine");
	if (r)
		return r;
	error_clear(&err);
	r = quarantine_entry_read(c->data_dir, c->restore_id, &e, &err);
	if (r == -ENOENT) {
		log_msg(LOG_FATAL, "no quarantine entry '%s': %s (see etcd-clean --list)",
		        c->restore_id, err.msg);
		return EXIT_USAGE;
	} else if (r < 0) {
		log_msg(LOG_FATAL, "%s%s", err.msg, r == -EINVAL ? " (see etcd-clean --list)" : "");
		return restore_exit(r);
	}
	if (c->ls.data.state != DATADIR_EMPTY) {
		log_msg(LOG_FATAL,
		        "refusing to restore into '%s': it is not empty (%s: %s); move it aside first (etcd-clean --quarantine)",
		        c->data_dir, datadir_state_name(c->ls.data.state), c->ls.data.reason);
		return EXIT_REFUSED;
	}
	if (c->s.dry_run) {
		char would[4608];

		snprintf(would, sizeof(would), "move the data of '%s' back to '%s'", c->restore_id,
		         c->data_dir);
		cli_dry_run(NULL, e.reason[0] ? e.reason : "no reason recorded", "would", would,
		            NULL);
		return EXIT_DONE;
	}
	error_clear(&err);
	r = quarantine_restore(c->data_dir, c->restore_id, &from, &left, &err);
	if (r < 0) {
		log_msg(LOG_FATAL, "cannot restore '%s': %s", c->restore_id, err.msg);
		return restore_exit(r);
	}
	log_msg(LOG_WARNING, "restored '%s' to '%s'", from, c->data_dir);
	if (left)
		log_msg(LOG_WARNING, "the entry '%s/quarantine/%s' holds more files: left in place",
		        c->helper, c->restore_id);
	free(from);

	/* Say so when the default mode (the initContainer) would move it aside again. */
	error_clear(&err);
	if (datadir_inspect(c->data_dir, &after, NULL) < 0)
		return EXIT_DONE;
	if (after.state == DATADIR_VALID) {
		r = wal_read_metadata(c->data_dir, &wal, &err);
		if (r < 0 && !datadir_wal_unreadable(&after, r, err.msg)) {
			log_msg(LOG_WARNING, "cannot read the restored WAL's metadata: %s",
			        err.msg);
			return EXIT_DONE;
		}
	}
	if (after.state == DATADIR_VALID) {
		if (c->ls.tomb_seen.r == 0 && c->ls.tomb.removed &&
		    c->ls.tomb.member_id == wal.member_id)
			log_msg(LOG_WARNING,
			        "the tombstone says member %s was removed: etcd-clean's default mode would move this data aside again",
			        etcd_id_hex(wal.member_id, m));
		if (c->ls.marker_seen.r == 0 && c->ls.marker_cluster != wal.cluster_id)
			log_msg(LOG_WARNING,
			        "the data belongs to cluster %s, the cluster marker says %s: etcd-clean's default mode would move it aside again",
			        etcd_id_hex(wal.cluster_id, m),
			        etcd_id_hex(c->ls.marker_cluster, k));
	} else if (after.state != DATADIR_VALID) {
		log_msg(LOG_WARNING, "the restored data dir is %s (%s)",
		        datadir_state_name(after.state), after.reason);
	}
	return EXIT_DONE;
}

static const struct cli clean_cli = {
        .program = "etcd-clean",
        .synopsis =
                "[options] [--status [--json] | --quarantine | --wipe [--force]\n                  | --list [--json] | --restore ID]",
        .summary =
                "Inspect the etcd data dir offline and move stale data aside (initContainer);\nby hand, show, move aside, wipe, list or restore it. A data dir held by a\nrunning etcd is never touched. Without a mode (one at a time), the\ninitContainer's check: move aside removed or partial data, exit 0 when the\ndata dir is usable. --wipe finds and asks the cluster as etcd-join does.",
        .own_help = own_help,
        .uses = uses,
        .timeout_help = "the run's deadline (60s)",
        .footer =
                "Exit: 0 done (the data dir is usable), 1 failed, 2 usage or configuration,\n3 refused for safety (in use, a member of its cluster, nothing says it was\nremoved, a symlink, not empty), 4 deadline passed. See etcd-clean(8).\n",
        .own = own_options,
        .n_own = sizeof(own_options) / sizeof(own_options[0]),
        .on_option = on_option,
        .by_hand = by_hand,
};

/* The mode asked for, once everything it decides on was read. */
static int run_mode(struct clean *c)
{
	switch (c->mode) {
	case MODE_CHECK:
		return run_check(c);
	case MODE_STATUS:
		if (c->json)
			return print_status_json(c);
		print_status(c);
		return EXIT_DONE;
	case MODE_QUARANTINE:
		return run_quarantine(c);
	case MODE_WIPE:
		return run_wipe(c);
	case MODE_LIST:
		return run_list(c);
	case MODE_RESTORE:
		return run_restore(c);
	}
	return EXIT_FAILED;
}

int main(int argc, char **argv)
{
	struct cli cli = clean_cli;
	struct clean c = {0};
	struct error err;
	int first, r;

	/* Its own container (an initContainer): the termination log is its to write. */
	log_init("etcd-clean", "/dev/termination-log", false);
	error_clear(&err);
	settings_init(&c.s);
	cli.ctx = &c;
	r = cli_parse(&cli, &c.s, argc, argv, &first);
	if (r >= 0)
		goto out;
	if (c.json && c.mode != MODE_STATUS && c.mode != MODE_LIST) {
		r = cli_usage_error("etcd-clean", "--json goes with --status or --list");
		goto out;
	}
	if (c.force && c.mode != MODE_WIPE) {
		r = cli_usage_error("etcd-clean", "--force goes with --wipe only");
		goto out;
	}
	/* Only the initContainer's mode, for real, writes the termination log. */
	log_init("etcd-clean", c.mode == MODE_CHECK && !c.s.dry_run ? "/dev/termination-log" : NULL,
	         c.s.debug);
	/* --status and --list only read; every other mode may write beside the data dir. */
	if (settings_validate(&c.s, 0, &err) < 0 ||
	    etcdargs_check_unsupported_env(environ, &err) < 0 ||
	    check_data_dir(c.s.data_dir, &err) < 0 ||
	    (c.mode != MODE_STATUS && c.mode != MODE_LIST &&
	     datadir_check_volume(c.s.data_dir, NULL, &err) < 0)) {
		log_msg(LOG_FATAL, "%s", err.msg);
		r = EXIT_USAGE;
		goto out;
	}
	if (!c.s.timeout_ms)
		c.s.timeout_ms = DEFAULT_TIMEOUT_MS;
	deadline_init(&c.deadline, c.s.timeout_ms);
	c.data_dir = strdup(c.s.data_dir);
	if (c.data_dir) {
		fsutil_trim_slashes(c.data_dir);
		c.helper = state_helper_dir(c.data_dir);
	}
	if (!c.data_dir || !c.helper) {
		log_msg(LOG_FATAL, "out of memory");
		r = EXIT_FAILED;
		goto out;
	}
	r = gather(&c);
	if (r == 0)
		r = run_mode(&c);
out:
	free(c.restore_id);
	free(c.data_dir);
	free(c.helper);
	settings_free(&c.s);
	return r;
}
