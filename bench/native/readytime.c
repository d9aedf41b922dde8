/*
 * readytime: runs a command with its stdout on a pipe, waits until a line of
 * it contains TEXT, prints the microseconds from just before exec to then,
 * and kills the command. For start-up times of servers that announce they
 * are ready.
 *
 *   readytime TEXT COMMAND [ARGS...]
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: readytime TEXT COMMAND [ARGS...]\n");
        return 64;
    }
    int fds[2];
    if (pipe(fds) != 0) {
        perror("readytime: pipe");
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        perror("readytime: fork");
        return 1;
    }
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[2], argv + 2);
        perror("readytime: exec");
        _exit(127);
    }
    close(fds[1]);
    char buf[65536];
    size_t have = 0;
    int found = 0;
    while (!found && have < sizeof buf - 1) {
        ssize_t n = read(fds[0], buf + have, sizeof buf - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = '\0';
        found = strstr(buf, argv[1]) != NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (!found) {
        fprintf(stderr, "readytime: '%s' never appeared; output: %s\n", argv[1], buf);
        return 1;
    }
    printf("%lld\n", (long long)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000);
    return 0;
}
