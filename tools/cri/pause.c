/* pause.c: the pod sandbox's program in the test and benchmark pause image
 * (tools/cri). runc runs it, holding the pod's namespaces until TERM or
 * INT; nabla-runc never runs it (its sandbox is its own built-in pause).
 * Built static: the image is FROM scratch. */
#include <signal.h>
#include <unistd.h>

static void done(int signal) { (void)signal; _exit(0); }

int main(void) {
    signal(SIGTERM, done);
    signal(SIGINT, done);
    for (;;) pause();
}
