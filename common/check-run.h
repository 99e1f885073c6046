/* SPDX-License-Identifier: MIT */
/* Unit tests only: runs a Check suite and turns its result into the process exit status. */
#ifndef NESTVM_CHECK_RUN_H
#define NESTVM_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int check_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
