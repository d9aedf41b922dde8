/*
 * startup: median wall-clock time of starting and finishing each of two
 * commands, run alternately so that machine noise hits both alike.
 *
 *   startup RUNS WARMUP -- COMMAND_A ARGS... -- COMMAND_B ARGS...
 *
 * Prints one line per command (median, p10, p90 in microseconds) and the
 * ratio of A's median to B's. Each command's stdout goes to /dev/null; a
 * command that exits non-zero stops the benchmark.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double run_once(char **argv) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    double start = now_us();
    if (posix_spawn(&pid, argv[0], &actions, 0, argv, environ) != 0) {
        perror(argv[0]);
        exit(2);
    }
    int status;
    waitpid(pid, &status, 0);
    double elapsed = now_us() - start;
    posix_spawn_file_actions_destroy(&actions);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "startup: %s failed (status 0x%x)\n", argv[0], status);
        exit(2);
    }
    return elapsed;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 6 || strcmp(argv[3], "--") != 0) {
        fprintf(stderr, "usage: startup RUNS WARMUP -- A ARGS... -- B ARGS...\n");
        return 2;
    }
    int runs = atoi(argv[1]), warmup = atoi(argv[2]);
    char **a = &argv[4], **b = 0;
    for (int i = 4; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) { argv[i] = 0; b = &argv[i + 1]; break; }
    if (!b || !*b || runs < 1) {
        fprintf(stderr, "usage: startup RUNS WARMUP -- A ARGS... -- B ARGS...\n");
        return 2;
    }
    double *ta = calloc(runs, sizeof *ta), *tb = calloc(runs, sizeof *tb);
    for (int i = 0; i < warmup; i++) { run_once(a); run_once(b); }
    for (int i = 0; i < runs; i++) { ta[i] = run_once(a); tb[i] = run_once(b); }
    qsort(ta, runs, sizeof *ta, compare);
    qsort(tb, runs, sizeof *tb, compare);
    printf("%-10s median %7.1f us  p10 %7.1f  p90 %7.1f  (%s)\n", "nabla", ta[runs / 2], ta[runs / 10], ta[runs * 9 / 10], a[0]);
    printf("%-10s median %7.1f us  p10 %7.1f  p90 %7.1f  (%s)\n", "native", tb[runs / 2], tb[runs / 10], tb[runs * 9 / 10], b[0]);
    printf("ratio      %.2fx\n", ta[runs / 2] / tb[runs / 2]);
    return 0;
}
