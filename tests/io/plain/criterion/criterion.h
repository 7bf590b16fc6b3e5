/* A stand-in for the few Criterion macros that test_infer.c and io_common.c use, so that they
   also build as a plain program: Criterion's runner does not start under ThreadSanitizer
   (Snaipe/Criterion#274), and tools/tsan.sh runs the threaded inference tests this way.  Each
   Test() registers itself at load time; main runs them in order and a failed assertion exits 1. */
#ifndef NB_TESTS_PLAIN_CRITERION_H
#define NB_TESTS_PLAIN_CRITERION_H

#include <stdio.h>
#include <stdlib.h>

typedef void (*plain_test_fn)(void);
void plain_register(const char *name, plain_test_fn fn);

#define Test(suite, name)                                                               \
    static void suite##_##name(void);                                                   \
    __attribute__((constructor)) static void plain_reg_##suite##_##name(void)          \
    {                                                                                   \
        plain_register(#suite "/" #name, suite##_##name);                               \
    }                                                                                   \
    static void suite##_##name(void)

#define plain_check(cond, text)                                                         \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, text); \
            exit(1);                                                                    \
        }                                                                               \
    } while (0)
/* the message arguments Criterion would print are dropped: file and line say enough */
#define cr_assert_eq(a, b, ...) plain_check((a) == (b), #a " == " #b)
#define cr_assert_not_null(p, ...) plain_check((p) != NULL, #p " != NULL")
#define cr_assert(c, ...) plain_check((c), #c)

#endif
