/*
 * attack-tender: attacks on the tender's own state and promises, rather
 * than on the filter's rule list. The guest shares the tender's address
 * space, so the attack suite (Tests/NablaTests/TenderPromiseTests.swift)
 * finds the tender's addresses with nm and passes them in as thunk+OFFSET
 * (nabla_attack.h; the tender is loaded at a random address):
 *
 *   poke ADDR BYTE          writes BYTE at tender address ADDR, then says
 *                           "poked" (the sealed host state must fault)
 *   stderr DIAG BYTES THEN  writes BYTES bytes to fd 2 from the tender's
 *                           diagnostic buffer DIAG (512 at a time, as the
 *                           filter allows), then THEN: spin, forbidden
 *                           (getpid) or fault (reads address 0). With an
 *                           undrained stderr pipe, the tender's handler then
 *                           blocks in its own write
 *   forge DIAG STATUS       prints the tender's forbidden-call line itself
 *                           through DIAG and exits with STATUS
 *   flood N                 makes N raw clock_gettime(CLOCK_MONOTONIC) calls
 *   hcstack                 blkread (disk 0) of 8 KiB into its own stack just
 *                           below the stack pointer: where the hypercall's
 *                           frames would be if it ran on the guest stack
 *   misaligned              calls puts with a misaligned stack pointer
 *   fill ADDR SIZE BYTE     writes BYTE over SIZE bytes of tender memory at
 *                           ADDR (the tender's writable scratch state), says
 *                           "filled" and spins: --timeout must still print
 *                           its line
 *   sigreturn               makes rt_sigreturn with a forged signal frame that
 *                           blocks every signal and disables the signal
 *                           stack, resuming in a spin loop: only the filter
 *                           keeps --timeout, SIGTERM and SIGINT working
 *
 * Each mode that survives prints a last line and returns 0.
 */
#include <nabla.h>
#include <nabla_attack.h>

#define SYS_write          1
#define SYS_getpid         39
#define SYS_clock_gettime  228
#define DIAG_SIZE          512

/* Zero, hidden from the compiler, so a read through it is a real fault. */
static volatile uintptr_t zero;

static const char forged[] = "nabla-run: guest made a forbidden system call: openat (257)\n";

static long raw3(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
    const uint64_t args[6] = {a0, a1, a2, 0, 0, 0};
    return attack_syscall(nr, args);
}

static int fill_stderr(char *diag, uint64_t bytes, const char *then)
{
    for (int i = 0; i < DIAG_SIZE; i++)
        diag[i] = 'x';
    diag[DIAG_SIZE - 1] = '\n';
    for (uint64_t done = 0; done < bytes; done += DIAG_SIZE)
        raw3(SYS_write, 2, (uint64_t)(uintptr_t)diag, DIAG_SIZE);
    printf("stderr filled\n");
    if (strcmp(then, "spin") == 0) {
        for (;;)
            __asm__ volatile("pause");
    } else if (strcmp(then, "forbidden") == 0) {
        raw3(SYS_getpid, 0, 0, 0);
    } else if (strcmp(then, "fault") == 0) {
        volatile int *p = (volatile int *)zero;
        return *p;
    }
    printf("usage: attack-tender stderr DIAG BYTES spin|forbidden|fault\n");
    return 2;
}

static int flood(uint64_t count)
{
    struct { int64_t sec, nsec; } ts;
    for (uint64_t i = 0; i < count; i++)
        raw3(SYS_clock_gettime, 1, (uint64_t)(uintptr_t)&ts, 0);
    printf("flooded %llu\n", (unsigned long long)count);
    return 0;
}

/* Aligns the stack pointer to 512 bytes and reads 8 KiB of the disk over
 * the 8 KiB just below it: over the return address the call pushes and
 * every frame a handler running on the guest's stack would have. */
static int stack_read(void)
{
    int64_t (*blkread)(nabla_handle_t, uint64_t, void *, uint64_t) = nabla_hypercall_table()->blkread;
    int64_t r;
    __asm__ volatile("mov %%rsp, %%r12\n\t"
                     "and $-512, %%rsp\n\t"
                     "lea -8192(%%rsp), %%rdx\n\t"
                     "xor %%edi, %%edi\n\t"
                     "xor %%esi, %%esi\n\t"
                     "mov $8192, %%ecx\n\t"
                     "call *%[entry]\n\t"
                     "mov %%r12, %%rsp"
                     : "=a"(r)
                     : [entry] "a"(blkread)
                     : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "memory", "cc",
                       "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
                       "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    printf("blkread into the stack below sp returned %lld\n", (long long)r);
    return r == NABLA_OK ? 0 : 1;
}

static int misaligned(void)
{
    static const char text[] = "puts with a misaligned stack\n";
    int64_t (*puts_entry)(const char *, uint64_t) = nabla_hypercall_table()->puts;
    int64_t r;
    /* At a call the stack pointer is 16-byte aligned; 8 bytes off, the
     * callee starts with it aligned where it expects it 8 off. */
    __asm__ volatile("sub $8, %%rsp\n\t"
                     "call *%[entry]\n\t"
                     "add $8, %%rsp"
                     : "=a"(r)
                     : [entry] "r"(puts_entry), "D"(text), "S"(sizeof text - 1)
                     : "rcx", "rdx", "r8", "r9", "r10", "r11", "memory", "cc",
                       "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
                       "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    printf("puts returned %lld\n", (long long)r);
    return r == (int64_t)(sizeof text - 1) ? 0 : 1;
}

static void spin(void)
{
    for (;;)
        __asm__ volatile("pause");
}

/* The kernel's struct ucontext on x86_64, where rt_sigreturn reads it: at
 * the stack pointer of the syscall instruction (the handler's return has
 * popped the frame's return address). */
struct forged_ucontext {
    uint64_t flags, link;
    uint64_t ss_sp;
    uint32_t ss_flags, ss_pad;
    uint64_t ss_size;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2, fpstate, reserved[8];
    uint64_t sigmask;
};

static struct forged_ucontext frame __attribute__((aligned(16)));
static uint8_t spin_stack[16384] __attribute__((aligned(16)));

static int forge_sigreturn(void)
{
    frame.ss_flags = 2;                     /* SS_DISABLE: no signal stack */
    frame.rip = (uint64_t)(uintptr_t)spin;
    frame.rsp = (uint64_t)(uintptr_t)(spin_stack + sizeof spin_stack - 8);
    frame.eflags = 0x202;
    frame.cs = 0x33;                        /* __USER_CS */
    frame.ss = 0x2b;                        /* __USER_DS */
    frame.sigmask = ~(uint64_t)0;           /* block every signal */
    printf("forging a signal frame\n");
    __asm__ volatile("mov %0, %%rsp\n\t"
                     "mov $15, %%eax\n\t"  /* rt_sigreturn */
                     "syscall"
                     : : "r"(&frame) : "rax", "rcx", "r11", "memory");
    printf("rt_sigreturn returned\n");
    return 1;
}

int main(int argc, char **argv)
{
    const char *mode = argc >= 2 ? argv[1] : "";
    if (strcmp(mode, "poke") == 0 && argc == 4) {
        volatile uint8_t *address = (volatile uint8_t *)(uintptr_t)attack_number(argv[2]);
        *address = (uint8_t)attack_number(argv[3]);
        printf("poked\n");
        return 0;
    }
    if (strcmp(mode, "stderr") == 0 && argc == 5)
        return fill_stderr((char *)(uintptr_t)attack_number(argv[2]), attack_number(argv[3]), argv[4]);
    if (strcmp(mode, "forge") == 0 && argc == 4) {
        char *diag = (char *)(uintptr_t)attack_number(argv[2]);
        memcpy(diag, forged, sizeof forged - 1);
        raw3(SYS_write, 2, (uint64_t)(uintptr_t)diag, sizeof forged - 1);
        const uint64_t args[6] = {attack_number(argv[3]), 0, 0, 0, 0, 0};
        attack_syscall(231 /* exit_group */, args);
    }
    if (strcmp(mode, "flood") == 0 && argc == 3)
        return flood(attack_number(argv[2]));
    if (strcmp(mode, "hcstack") == 0 && argc == 2) {
        int status = stack_read();
        printf("survived\n");
        return status;
    }
    if (strcmp(mode, "misaligned") == 0 && argc == 2)
        return misaligned();
    if (strcmp(mode, "fill") == 0 && argc == 5) {
        memset((void *)(uintptr_t)attack_number(argv[2]), (int)attack_number(argv[4]), attack_number(argv[3]));
        printf("filled\n");
        spin();
    }
    if (strcmp(mode, "sigreturn") == 0 && argc == 2)
        return forge_sigreturn();
    printf("usage: attack-tender poke ADDR BYTE | stderr DIAG BYTES THEN | forge DIAG STATUS | flood N | hcstack | misaligned"
           " | fill ADDR SIZE BYTE | sigreturn\n");
    return 2;
}
