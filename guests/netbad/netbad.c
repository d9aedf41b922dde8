/*
 * netbad: calls netread, netwrite and poll with bad arguments on a real NIC
 * and checks the tender's error codes, one line per case (as hypercall-bad).
 * Run it with a NIC named `net` (on an idle TAP) and a disk named `disk`:
 *   nabla-run --disk d.img --net tap0 netbad.nabla
 */
#include <nabla_check.h>

static uint8_t frame[NABLA_NET_FRAME_MAX + 64];

static int text_target(void) { return 1; }

int main(void)
{
    const struct nabla_boot_info *info = nabla_boot_info();
    const struct nabla_hypercalls *hc = nabla_hypercall_table();
    int net = nabla_device_find("net", NABLA_DEVICE_NET);
    int disk = nabla_device_find("disk", NABLA_DEVICE_BLOCK);
    if (net < 0 || disk < 0) {
        printf("netbad: needs a NIC named net and a disk named disk\n");
        return 2;
    }
    expect("mtu", info->devices[net].u.net.mtu, NABLA_NET_MTU);

    /* netread: the buffer must hold the largest frame, and be writable. */
    expect("read-small-buffer", hc->netread(net, frame, NABLA_NET_FRAME_MAX - 1), NABLA_EINVAL);
    expect("read-outside", hc->netread(net, (void *)0x1000, sizeof frame), NABLA_EFAULT);
    expect("read-into-text", hc->netread(net, (void *)(uintptr_t)&text_target, sizeof frame), NABLA_EFAULT);
    expect("read-past-mem-end", hc->netread(net, (void *)(uintptr_t)(info->mem_end - 512), sizeof frame),
           NABLA_EFAULT);
    /* Drain what the host sent (IPv6 router solicitations, say): then the
     * queue is empty and netread returns NABLA_EAGAIN without blocking. */
    int64_t last = 0;
    for (int i = 0; i < 1000 && (last = hc->netread(net, frame, sizeof frame)) > 0; i++)
        ;
    expect("read-empty-queue", last, NABLA_EAGAIN);

    /* netwrite: 14 to 1514 bytes from readable guest memory. */
    expect("write-empty", hc->netwrite(net, frame, 0), NABLA_EINVAL);
    expect("write-shorter-than-header", hc->netwrite(net, frame, NABLA_ETHER_HEADER - 1), NABLA_EINVAL);
    expect("write-longer-than-mtu", hc->netwrite(net, frame, NABLA_NET_FRAME_MAX + 1), NABLA_EINVAL);
    expect("write-outside", hc->netwrite(net, (const void *)0x1000, 64), NABLA_EFAULT);
    expect("write-from-guard-page", hc->netwrite(net, (const void *)(uintptr_t)(info->heap_end - 32), 64),
           NABLA_EFAULT);

    /* Handles of the other kind. */
    expect("netread-on-disk", hc->netread(disk, frame, sizeof frame), NABLA_ENODEV);
    expect("netwrite-on-disk", hc->netwrite(disk, frame, 64), NABLA_ENODEV);
    expect("blkread-on-nic", hc->blkread(net, 0, frame, 512), NABLA_ENODEV);

    /* poll: ready must be writable guest memory; NULL is allowed. */
    expect("poll-ready-in-text", hc->poll(0, (uint64_t *)(uintptr_t)&text_target), NABLA_EFAULT);
    int64_t polled = hc->poll(1000000, 0);
    expect("poll-null-ready", polled < 0 ? polled : 0, 0);

    return nabla_check_summary();
}
