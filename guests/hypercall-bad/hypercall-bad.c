/*
 * hypercall-bad: calls each hypercall with bad arguments, directly through
 * the table (the libOS wrappers would refuse some of them first), and
 * checks the tender's error codes. One line per case; returns 0 only if
 * every case got its expected code. Run it with no device attached.
 */
#include <nabla_check.h>

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct nabla_boot_info *info = nabla_boot_info();
    const struct nabla_hypercalls *hc = nabla_hypercall_table();
    char buf[512];

    if (info->device_count != 0)
        printf("warning: %u devices attached; the ENODEV cases assume none\n",
               info->device_count);

    expect("walltime-bad-clock", hc->walltime(99), NABLA_EINVAL);

    /* Outside guest memory (the tender's low pages). */
    expect("puts-outside", hc->puts((const char *)0x1000, 8), NABLA_EFAULT);
    /* A length that wraps the address space. */
    expect("puts-huge-len", hc->puts(buf, 0xFFFFFFFFFFFFFFFFull), NABLA_EFAULT);
    /* Starts inside guest memory, ends past mem_end. The buffer begins 16
     * bytes before the end (the top of the stack) and claims 32. */
    expect("puts-past-end", hc->puts((const char *)(uintptr_t)(info->mem_end - 16), 32),
           NABLA_EFAULT);

    /* Standard input and error: the same buffer checks, before anything is
     * read (stdin stays unread) or written. stdinread checks
     * min(len, NABLA_STDIN_CHUNK) bytes: the past-end buffer is 16 bytes
     * short of 32. */
    expect("stdinread-outside", hc->stdinread((void *)0x1000, 8), NABLA_EFAULT);
    expect("stdinread-past-end", hc->stdinread((void *)(uintptr_t)(info->mem_end - 16), 32), NABLA_EFAULT);
    expect("stdinread-readonly", hc->stdinread((void *)(uintptr_t)info, 8), NABLA_EFAULT);
    expect("stderrwrite-outside", hc->stderrwrite((const char *)0x1000, 8), NABLA_EFAULT);
    expect("stderrwrite-huge-len", hc->stderrwrite(buf, 0xFFFFFFFFFFFFFFFFull), NABLA_EFAULT);
    expect("stderrwrite-past-end", hc->stderrwrite((const char *)(uintptr_t)(info->mem_end - 16), 32),
           NABLA_EFAULT);

    expect("poll-ready-outside", hc->poll(0, (uint64_t *)0x1000), NABLA_EFAULT);

    expect("blkread-handle-0", hc->blkread(0, 0, buf, 512), NABLA_ENODEV);
    expect("blkwrite-handle-0", hc->blkwrite(0, 0, buf, 512), NABLA_ENODEV);
    expect("netread-handle-0", hc->netread(0, buf, sizeof buf), NABLA_ENODEV);
    expect("netwrite-handle-0", hc->netwrite(0, buf, 64), NABLA_ENODEV);

    expect("blkread-handle-999", hc->blkread(999, 0, buf, 512), NABLA_ENODEV);
    expect("blkwrite-handle-999", hc->blkwrite(999, 0, buf, 512), NABLA_ENODEV);
    expect("netread-handle-999", hc->netread(999, buf, sizeof buf), NABLA_ENODEV);
    expect("netwrite-handle-999", hc->netwrite(999, buf, 64), NABLA_ENODEV);

    return nabla_check_summary();
}
