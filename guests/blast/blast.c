/*
 * blast: sends a stream of bytes to one TCP client and returns: the example
 * of nabla_net_flush, which lets the last segments and the FIN leave before
 * main returns.
 *
 *   nabla-run --net tap0 blast.nabla --ipv4=10.0.0.2/24 [--port=N] [--bytes=N] [--no-flush]
 *
 * Listens on --port (default 9000), accepts one connection, sends --bytes
 * (default 1 MiB) of the pattern byte i = i % 251, closes, flushes (unless
 * --no-flush) and prints "blast: sent N bytes, flush F" (F: 0 all
 * acknowledged, 1 timed out). Exit status 0, 1 if a call failed, 2 for a
 * bad argument.
 */
#include <nabla_net.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int number(const char *text, unsigned long long limit, unsigned long long *out)
{
    char *end;
    unsigned long long value = strtoull(text, &end, 10);
    if (*text == '\0' || *end != '\0' || value > limit)
        return -1;
    *out = value;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long long port = 9000, bytes = 1 << 20;
    int flush = 1;
    if (nabla_net_args(&argc, argv) != 0)
        return 2;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--port=", 7) == 0 && number(argv[i] + 7, 65535, &port) == 0)
            continue;
        if (strncmp(argv[i], "--bytes=", 8) == 0 && number(argv[i] + 8, 1ull << 40, &bytes) == 0)
            continue;
        if (strcmp(argv[i], "--no-flush") == 0) {
            flush = 0;
            continue;
        }
        printf("blast: bad argument '%s'\n", argv[i]);
        return 2;
    }
    if (nabla_net_start() != 0)
        return 2;

    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (listener < 0 || bind(listener, (struct sockaddr *)&me, sizeof me) != 0 || listen(listener, 1) != 0) {
        printf("blast: cannot listen on port %llu: errno %d\n", port, errno);
        return 1;
    }
    printf("blast: ready\n");
    int client = accept(listener, NULL, NULL);
    if (client < 0) {
        printf("blast: accept: errno %d\n", errno);
        return 1;
    }
    static unsigned char chunk[251 * 64];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (unsigned char)(i % 251);
    unsigned long long sent = 0;
    while (sent < bytes) {
        size_t offset = (size_t)(sent % 251);
        size_t want = sizeof chunk - offset;
        if (want > bytes - sent)
            want = (size_t)(bytes - sent);
        ssize_t n = send(client, chunk + offset, want, 0);
        if (n < 0) {
            printf("blast: send: errno %d\n", errno);
            return 1;
        }
        sent += (unsigned long long)n;
    }
    close(client);
    close(listener);
    int flushed = flush ? nabla_net_flush(5000) : -1;
    printf("blast: sent %llu bytes, flush %d\n", sent, flushed);
    return flushed < 0 && flush ? 1 : 0;
}
