#!/bin/sh
# fetch-lwip.sh DIR VERSION: puts the source of Debian's `lwip` package,
# exactly VERSION, with Debian's patches applied, in DIR/src, for
# guests/Makefile (tools/fetch-debian-source.sh does the fetching).
exec sh "$(dirname "$0")/../../tools/fetch-debian-source.sh" lwip "$2" "$1" src/core/tcp.c
