/* main for a Criterion test program with tests that may skip (cr_skip_test): Criterion's own
   main exits 0 when every test passed or skipped, which meson reports as a pass.  This one
   exits 77, meson's SKIP, when none failed and at least one skipped, so that a check that did
   not run is never counted as passed; failures exit 1 as before.  The log names the skipped
   tests and why. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>

static size_t skipped;

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    skipped = stats->tests_skipped;
}

int main(int argc, char *argv[])
{
    struct criterion_test_set *tests = criterion_initialize();
    int result = 0;
    if (criterion_handle_args(argc, argv, true))
        result = !criterion_run_all_tests(tests);
    criterion_finalize(tests);
    if (result == 0 && skipped > 0) {
        fprintf(stderr, "%zu test(s) skipped: reported to meson as SKIP (exit 77)\n", skipped);
        return 77;
    }
    return result;
}
