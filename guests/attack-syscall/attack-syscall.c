/*
 * attack-syscall: `attack-syscall NR [A0 .. A5]` makes the raw system call
 * NR with up to six arguments, bypassing the hypercalls. An argument is a
 * number (decimal or 0x hex), `buf` (the address of a 4 KiB guest buffer
 * holding "attack\n", then zeros) or `len` (7, the length of that text).
 *
 * It prints `calling NR` first and `returned R` (R signed) if the call
 * returns. The attack suite (Tests/NablaTests/AttackTests.swift) uses it to
 * sweep every system call number and to call each allowed rule with its
 * pinned arguments, and with each pin altered. It asks for NIC offloads, so
 * that the suite can check the tap pins with them and, with
 * --no-net-offload, without.
 */
#include <nabla.h>
#include <nabla_attack.h>

NABLA_FEATURES_NOTE_DEFINE(NABLA_FEATURE_NET_OFFLOAD);

static char buffer[4096] __attribute__((aligned(4096))) = "attack\n";

/* Parses one argument; 0 on success. */
static int parse_argument(const char *text, uint64_t *value)
{
    if (strcmp(text, "buf") == 0) {
        *value = (uint64_t)(uintptr_t)buffer;
        return 0;
    }
    if (strcmp(text, "len") == 0) {
        *value = 7;
        return 0;
    }
    int tender = attack_tender_address(text, value);
    if (tender != 0) return tender == 2 ? 0 : -1;
    return nabla_parse_u64(text, value);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 8) {
        printf("usage: attack-syscall NR [A0 .. A5] (A: number, buf or len)\n");
        return 2;
    }
    uint64_t nr;
    if (nabla_parse_u64(argv[1], &nr) != 0) {
        printf("attack-syscall: '%s' is not a number\n", argv[1]);
        return 2;
    }
    uint64_t args[6] = {0, 0, 0, 0, 0, 0};
    for (int i = 2; i < argc; i++) {
        if (parse_argument(argv[i], &args[i - 2]) != 0) {
            printf("attack-syscall: argument '%s' is not a number, buf or len\n", argv[i]);
            return 2;
        }
    }
    printf("calling %llu\n", (unsigned long long)nr);
    long r = attack_syscall(nr, args);
    printf("returned %ld\n", r);
    return 0;
}
