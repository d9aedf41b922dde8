/*
 * device.c: finding attached devices, and the block and network wrappers.
 *
 * The wrappers add no checks of their own beyond refusing a negative
 * handle: the tender checks every argument and returns the NABLA_E* code
 * documented in nabla.h, so a guest sees the same result whether it calls
 * the wrapper or the hypercall.
 */
#include "libos.h"

static uint32_t device_count(void)
{
    uint32_t n = nabla__info->device_count;
    return n < NABLA_MAX_DEVICES ? n : NABLA_MAX_DEVICES;
}

const struct nabla_device *nabla_device(int handle)
{
    if (handle < 0 || (uint32_t)handle >= device_count())
        return NULL;
    return &nabla__info->devices[handle];
}

int nabla_device_find(const char *name, uint32_t kind)
{
    if (name == NULL)
        return -1;
    for (uint32_t i = 0; i < device_count(); i++) {
        const struct nabla_device *d = &nabla__info->devices[i];
        /* The name field is NUL terminated, but do not trust it: compare
         * at most its size, and require the NUL within it. */
        if (strnlen(d->name, NABLA_DEVICE_NAME_MAX) == NABLA_DEVICE_NAME_MAX)
            continue;
        if (strcmp(d->name, name) == 0 && (kind == 0 || d->kind == kind))
            return (int)i;
    }
    return -1;
}

int64_t nabla_blk_read(int handle, uint64_t offset, void *buf, size_t len)
{
    if (handle < 0)
        return NABLA_ENODEV;
    return nabla__hc()->blkread((nabla_handle_t)handle, offset, buf, len);
}

int64_t nabla_blk_write(int handle, uint64_t offset, const void *buf, size_t len)
{
    if (handle < 0)
        return NABLA_ENODEV;
    return nabla__hc()->blkwrite((nabla_handle_t)handle, offset, buf, len);
}

int64_t nabla_net_read(int handle, void *buf, size_t size)
{
    if (handle < 0)
        return NABLA_ENODEV;
    return nabla__hc()->netread((nabla_handle_t)handle, buf, size);
}

int64_t nabla_net_write(int handle, const void *buf, size_t len)
{
    if (handle < 0)
        return NABLA_ENODEV;
    return nabla__hc()->netwrite((nabla_handle_t)handle, buf, len);
}
