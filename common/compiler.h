/* SPDX-License-Identifier: MIT */
/* Compiler attributes used across nestvm. */
#ifndef NESTVM_COMPILER_H
#define NESTVM_COMPILER_H

/*
 * NO_COVERAGE marks a small branch-free scan over guest memory (a table compare, a present-bit
 * mask) that fuzzing gains nothing from instrumenting. Under clang's -fsanitize=fuzzer-no-link
 * every compare in a function calls into the fuzzer, including the two UBSan adds for each
 * address computed in a loop: a 64-entry table compare made ~500 such calls. ASan and UBSan
 * still check these functions; only the coverage callbacks go. Not inlined, so they stay out
 * of instrumented callers. No effect on gcc builds.
 */
#if defined(__clang__)
#define NO_COVERAGE __attribute__((no_sanitize("coverage"), noinline))
#else
#define NO_COVERAGE
#endif

#endif
