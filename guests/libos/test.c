/*
 * test.c: the guest side of nabla_test.h. Each test runs under its own
 * exit context (exit.S), so that REQUIRE and NABLA_SKIP can leave it from
 * any depth and the next test still runs.
 */
#include "libos.h"
#include "nabla_test.h"

static struct nabla_test *first, **last = &first;

/* The running test's state. */
static struct nabla_exit_context test_context;
static int test_failed;
static const char *skip_reason;

enum { TEST_PASSED, TEST_FAILED, TEST_SKIPPED };

void nabla_test_register(struct nabla_test *test)
{
    test->next = NULL;
    *last = test;
    last = &test->next;
}

void nabla_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("# %s:%d: ", file, line);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
    test_failed = 1;
}

void nabla_test_end(void)
{
    nabla__exit_to(&test_context, test_failed ? TEST_FAILED : TEST_PASSED);
}

void nabla_test_skip(const char *reason)
{
    skip_reason = reason ? reason : "";
    nabla__exit_to(&test_context, TEST_SKIPPED);
}

void nabla_test__check_eq(const char *file, int line, const char *a, const char *b,
                          long long va, long long vb, int is_unsigned)
{
    if (is_unsigned)
        nabla_test_fail(file, line, "CHECK_EQ(%s, %s) failed: %llu != %llu", a, b,
                        (unsigned long long)va, (unsigned long long)vb);
    else
        nabla_test_fail(file, line, "CHECK_EQ(%s, %s) failed: %lld != %lld", a, b, va, vb);
}

void nabla_test__check_str(const char *file, int line, const char *a, const char *b,
                           const char *va, const char *vb)
{
    nabla_test_fail(file, line, "CHECK_STREQ(%s, %s) failed: \"%s\" != \"%s\"", a, b,
                    va ? va : "(null)", vb ? vb : "(null)");
}

/* nabla__call_main's signature: the test is passed through argv. */
static int run_one(int argc, char **argv)
{
    (void)argc;
    struct nabla_test *test = (struct nabla_test *)(void *)argv;
    test->run();
    return test_failed ? TEST_FAILED : TEST_PASSED;
}

static int selected(const struct nabla_test *test, int argc, char **argv)
{
    if (argc <= 1)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], test->name) == 0)
            return 1;
    return 0;
}

int nabla_test_main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const struct nabla_test *test = first;
        while (test && strcmp(test->name, argv[i]) != 0)
            test = test->next;
        if (!test) {
            printf("no test named '%s'\n", argv[i]);
            return 64;
        }
    }
    int planned = 0;
    for (const struct nabla_test *test = first; test; test = test->next)
        planned += selected(test, argc, argv);

    printf("TAP version 13\n1..%d\n", planned);
    int number = 0, failed = 0, skipped = 0;
    for (struct nabla_test *test = first; test; test = test->next) {
        if (!selected(test, argc, argv))
            continue;
        number++;
        test_failed = 0;
        skip_reason = NULL;
        int result = nabla__call_main(&test_context, run_one, 0, (char **)(void *)test);
        if (result == TEST_SKIPPED) {
            printf("ok %d - %s # SKIP %s\n", number, test->name, skip_reason);
            skipped++;
        } else if (result == TEST_FAILED) {
            printf("not ok %d - %s\n", number, test->name);
            failed++;
        } else {
            printf("ok %d - %s\n", number, test->name);
        }
    }
    nabla_flush();
    if (failed)
        return 1;
    if (planned > 0 && skipped == planned)
        return NABLA_TEST_SKIP_STATUS;
    return 0;
}
