/* A leak check now, in a build with AddressSanitizer's LeakSanitizer (-Db_sanitize=address):
 * for a process that never returns from main, because it execs (etcd-join) or sleeps until
 * the container ends (etcd-promote's background watch), where the check at exit never runs.
 * A leak is reported and ends the process, as at exit. Nothing in other builds. */
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define LEAKCHECK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LEAKCHECK_ASAN 1
#endif
#endif

#ifdef LEAKCHECK_ASAN
#include <sanitizer/lsan_interface.h>
#define leak_check_now() __lsan_do_leak_check()
#else
#define leak_check_now() ((void)0)
#endif
