/*
 * nabla_attack.h: what the attack guests (guests/attack-*) share: a raw
 * system call that bypasses the hypercalls, so that the filter alone
 * decides, and number parsing for their command lines.
 */
#ifndef NABLA_ATTACK_H
#define NABLA_ATTACK_H

#include <nabla.h>

/* The system call `nr` with six arguments, made with the syscall
 * instruction; returns what the kernel returns (-errno on failure). */
static inline long attack_syscall(uint64_t nr, const uint64_t a[6])
{
    long ret;
    register uint64_t r10 __asm__("r10") = a[3];
    register uint64_t r8 __asm__("r8") = a[4];
    register uint64_t r9 __asm__("r9") = a[5];
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a[0]), "S"(a[1]), "d"(a[2]), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

/* The number in `text` (decimal or 0x hex), or exits with status 2. */
static inline uint64_t attack_number(const char *text)
{
    uint64_t value;
    if (nabla_parse_u64(text, &value) != 0) {
        printf("attack: '%s' is not a number\n", text);
        exit(2);
    }
    return value;
}

#endif /* NABLA_ATTACK_H */
