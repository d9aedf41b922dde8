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

/* A tender address written as `thunk+N` or `thunk-N`: N bytes from the
 * tender's puts thunk, whose address the hypercall table holds. The tender
 * is position-independent and loaded at a random address, so the tests
 * give its addresses this way (offsets from nm) and the guest finds the
 * run's own. 0 if `text` has another form, 1 if it is malformed. */
static inline int attack_tender_address(const char *text, uint64_t *value)
{
    static const char prefix[] = "thunk";
    for (int i = 0; i < 5; i++)
        if (text[i] != prefix[i]) return 0;
    uint64_t offset;
    if ((text[5] != '+' && text[5] != '-') || nabla_parse_u64(text + 6, &offset) != 0) return 1;
    uint64_t base = (uint64_t)(uintptr_t)nabla_hypercall_table()->puts;
    *value = text[5] == '+' ? base + offset : base - offset;
    return 2;
}

/* The number in `text` (decimal, 0x hex, or a tender address thunk±N), or
 * exits with status 2. */
static inline uint64_t attack_number(const char *text)
{
    uint64_t value;
    int tender = attack_tender_address(text, &value);
    if (tender == 2) return value;
    if (tender == 1 || nabla_parse_u64(text, &value) != 0) {
        printf("attack: '%s' is not a number\n", text);
        exit(2);
    }
    return value;
}

#endif /* NABLA_ATTACK_H */
