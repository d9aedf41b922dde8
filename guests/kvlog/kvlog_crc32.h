/*
 * kvlog_crc32.h: the checksum of kvlog records, CRC-32 as zlib computes it
 * (reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF).
 * One definition for the guest (kvlog.c) and its native counterpart
 * (bench/native/kvlog.c); the tests check records with the same function in
 * Swift (Tests/NablaTests/Support/Disk.swift, kvlogCRC32).
 */
#ifndef KVLOG_CRC32_H
#define KVLOG_CRC32_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t kvlog_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & -(c & 1u));
    }
    return ~c;
}

#endif
