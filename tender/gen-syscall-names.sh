#!/bin/sh
# Regenerates tender/syscall_names.c, the table the forbidden-syscall
# diagnostic uses to name a number after the filter is loaded (when nothing
# may allocate, so libseccomp's resolver cannot be called), written by
# tender/offset-table.awk.
# Usage: tender/gen-syscall-names.sh > tender/syscall_names.c
set -eu
hdr=${1:-/usr/include/x86_64-linux-gnu/asm/unistd_64.h}
{
    sed -n 's/^#define __NR_\([a-z0-9_]*\)[[:space:]]\{1,\}\([0-9]\{1,\}\)$/\2 \1/p' "$hdr"
    # Calls newer than Debian 12's headers that guests may try (kernel 6.11+).
    grep -q '__NR_uretprobe' "$hdr" || echo '335 uretprobe'
    grep -q '__NR_uprobe[^_]' "$hdr" || echo '336 uprobe'
} | sort -n | awk -f "$(dirname "$0")/offset-table.awk" -v generator=tender/gen-syscall-names.sh \
    -v source="<asm/unistd_64.h>" -v table=names -v what="system call N's name" \
    -v lookup=nabla_syscall_name -v type=long -v argument=nr
