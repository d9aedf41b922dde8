/*
 * The hypercall entry points: one thunk per table entry.
 *
 * The guest calls a hypercall on its own stack, which it may have pointed
 * anywhere: misaligned, or just above a buffer it is about to ask the
 * tender to fill. So each thunk runs its handler on a stack the tender
 * owns, outside guest memory. It reads the return address the guest's call
 * pushed, saves it and the guest's stack pointer on the tender stack, calls
 * nabla_hypercall_NAME_handler (Hypercalls.swift) with the arguments
 * untouched (rdi, rsi, rdx, rcx), then switches back and puts the saved
 * return address back in its slot before returning. A blkread or netread
 * into the guest's stack, even over that slot, changes only guest memory:
 * never a frame of the handler, and never where the hypercall returns. The
 * direction flag is cleared, as the System V ABI promises every callee and
 * a guest need not.
 *
 * One stack serves every hypercall: the guest is one thread, and no
 * handler calls back into the guest or makes a hypercall.
 */
#define NABLA_HYPERCALL_STACK_SIZE 0x10000

    .macro  THUNK name
    .globl  nabla_hypercall_\name
    .type   nabla_hypercall_\name, @function
nabla_hypercall_\name:
    mov     (%rsp), %rax                /* the return address */
    mov     %rsp, %r11                  /* the guest's stack pointer */
    lea     nabla_hypercall_stack_top(%rip), %rsp
    push    %rax
    push    %r11                        /* 16-byte aligned at the call */
    cld
    call    nabla_hypercall_\name\()_handler
    pop     %r11
    pop     %rcx
    mov     %r11, %rsp
    mov     %rcx, (%rsp)                /* whatever the handler stored there */
    ret
    .size   nabla_hypercall_\name, .-nabla_hypercall_\name
    .endm

    .text
    THUNK   walltime
    THUNK   puts
    THUNK   poll
    THUNK   blkread
    THUNK   blkwrite
    THUNK   netread
    THUNK   netwrite
    THUNK   stdinread
    THUNK   stderrwrite

    .bss
    .balign 16
nabla_hypercall_stack:
    .skip   NABLA_HYPERCALL_STACK_SIZE
nabla_hypercall_stack_top:

    .section .note.GNU-stack, "", @progbits
