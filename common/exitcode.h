/* The one exit-code table of etcd-hooks, shared by every program and man page. */
#pragma once

enum exit_code {
	EXIT_DONE = 0,       /* done */
	EXIT_FAILED = 1,     /* failed: cluster or I/O error */
	EXIT_USAGE = 2,      /* usage or configuration error */
	EXIT_REFUSED = 3,    /* refused for safety: quorum, data in use, second cluster */
	EXIT_DEADLINE = 4,   /* the overall deadline passed */
	EXIT_EXEC = 126,     /* etcd-join: etcd was found but could not be executed */
	EXIT_NOT_FOUND = 127 /* etcd-join: etcd was not found */
};
