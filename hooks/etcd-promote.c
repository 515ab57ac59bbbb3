/*
 * etcd-promote: Promote this etcd member from learner to voter once it is in sync (postStart).
 *
 * Its real work comes in a later version; until then it reads and validates its
 * configuration, answers --help and --version, and any action exits 1 with
 * "not implemented yet" (see etcd-promote(8)).
 */
#include "cli.h"

int main(int argc, char **argv)
{
	return cli_unfinished_main(
	        "etcd-promote",
	        "Promote this etcd member from learner to voter once it is in sync (postStart).",
	        argc, argv);
}
