/*
 * etcd-clean: Inspect the etcd data dir and move stale data aside (initContainer and incidents).
 *
 * Its real work comes in a later version; until then it reads and validates its
 * configuration, answers --help and --version, and any action exits 1 with
 * "not implemented yet" (see etcd-clean(8)).
 */
#include "cli.h"

int main(int argc, char **argv)
{
	return cli_unfinished_main("etcd-clean",
	                           "Inspect the etcd data dir and move stale data aside "
	                           "(initContainer and incidents).",
	                           argc, argv);
}
