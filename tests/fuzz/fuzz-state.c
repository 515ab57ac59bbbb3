/* Our own state files in the helper folder, as a volume may hold them after a crash, a
 * full disk or a hand edit: the cluster marker, the tombstone, etcd-join's join state and
 * last decision (read by etcd-promote), and a quarantine entry's reason file. Each input is
 * written as every one of those files, then read back with the programs' readers. */
#include "fuzz.h"

#include "quarantine.h"
#include "state.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define ENTRY "20261201T000000Z-removed"

static char data_dir[256], helper[256], entry[320];

static void cleanup(void)
{
	static const char *const names[] = {"cluster", "tombstone", STATE_JOIN_STATE,
	                                    STATE_LAST_DECISION};
	char path[512];

	snprintf(path, sizeof(path), "%s/reason", entry);
	unlink(path);
	rmdir(entry);
	snprintf(path, sizeof(path), "%s/quarantine", helper);
	rmdir(path);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", helper, names[i]);
		unlink(path);
	}
	rmdir(helper);
	snprintf(path, sizeof(path), "%.*s", (int)(strrchr(helper, '/') - helper), helper);
	rmdir(path);
}

static void setup(void)
{
	char base[] = "/tmp/etcd-hooks-fuzz-state-XXXXXX";

	if (!mkdtemp(base))
		abort();
	snprintf(data_dir, sizeof(data_dir), "%s/default.etcd", base);
	snprintf(helper, sizeof(helper), "%s/.etcd-hooks", base);
	if (mkdir(helper, 0700) < 0)
		abort();
	snprintf(entry, sizeof(entry), "%s/quarantine", helper);
	if (mkdir(entry, 0700) < 0)
		abort();
	snprintf(entry, sizeof(entry), "%s/quarantine/" ENTRY, helper);
	if (mkdir(entry, 0700) < 0)
		abort();
	atexit(cleanup);
}

static void put(const char *dir, const char *name, const uint8_t *data, size_t size)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {"state",  "pid",        "start_time", "exit_code",
	                                   "action", "cluster_id", "member_id"};
	struct quarantine_entry e;
	struct state_tombstone t;
	uint64_t cid, mid;
	struct error err;
	char buf[512];

	if (!data_dir[0])
		setup();
	put(helper, "cluster", data, size);
	put(helper, "tombstone", data, size);
	put(helper, STATE_JOIN_STATE, data, size);
	put(helper, STATE_LAST_DECISION, data, size);
	put(entry, "reason", data, size);
	error_clear(&err);
	(void)state_marker_read(data_dir, &cid, &mid, &err);
	error_clear(&err);
	(void)state_tombstone_read(data_dir, &t, &err);
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		(void)state_value(data_dir, STATE_JOIN_STATE, keys[k], buf, sizeof(buf));
		(void)state_value(data_dir, STATE_LAST_DECISION, keys[k], buf, sizeof(buf));
	}
	error_clear(&err);
	(void)quarantine_entry_read(data_dir, ENTRY, &e, &err);
	return 0;
}
