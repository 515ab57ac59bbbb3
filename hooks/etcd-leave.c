/*
 * etcd-leave: Remove this etcd member from its cluster on scale-down, guarded by quorum (preStop).
 *
 * Its real work comes in a later version; until then it reads and validates its
 * configuration, answers --help and --version, and any action exits 1 with
 * "not implemented yet" (see etcd-leave(8)).
 */
#include "cli.h"

int main(int argc, char **argv)
{
	return cli_unfinished_main("etcd-leave",
	                           "Remove this etcd member from its cluster on scale-down, "
	                           "guarded by quorum (preStop).",
	                           argc, argv);
}
