#!/bin/sh
# Regenerates tender/error_texts.c: glibc's strerror text for each errno,
# which nabla-run and nabla-run-cli both print (Errno.description), so that
# the tender linked against musl names errors as glibc and every other
# Linux tool here does. Written by tender/offset-table.awk.
# Usage: tender/gen-error-texts.sh > tender/error_texts.c   (on glibc)
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/texts.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    for (int code = 0; code <= 133; code++) {
        const char *text = strerror(code);
        if (strncmp(text, "Unknown error", 13) != 0) printf("%d %s\n", code, text);
    }
    return 0;
}
C
${CC:-gcc} -o "$work/texts" "$work/texts.c"
"$work/texts" | awk -f "$(dirname "$0")/offset-table.awk" -v generator=tender/gen-error-texts.sh \
    -v source="glibc's strerror" -v table=texts -v what="error N's text" \
    -v lookup=nabla_error_text -v type=int -v argument=code
