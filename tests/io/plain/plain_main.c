/* main() for the Criterion stand-in (plain/criterion/criterion.h): runs every registered test
   in registration order and prints its name. */
#include <stdio.h>

#include "criterion/criterion.h"

enum { MAX_TESTS = 64 };
static struct {
    const char *name;
    plain_test_fn fn;
} tests[MAX_TESTS];
static int n_tests;

void plain_register(const char *name, plain_test_fn fn)
{
    if (n_tests < MAX_TESTS)
        tests[n_tests++] = (__typeof__(tests[0])){name, fn};
}

int main(void)
{
    for (int i = 0; i < n_tests; i++) {
        tests[i].fn();
        printf("ok %s\n", tests[i].name);
    }
    return n_tests > 0 ? 0 : 1;
}
