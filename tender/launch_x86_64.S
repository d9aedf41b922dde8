/*
 * nabla_enter_guest: load the seccomp filter, then run the guest.
 *
 * Written in assembly so that nothing runs between loading the filter and
 * calling the guest: no allocator, no stack protector, no Swift runtime.
 *
 *   long nabla_enter_guest(const struct sock_fprog *filter,  rdi
 *                          uint64_t entry,                   rsi
 *                          uint64_t info,                    rdx
 *                          uint64_t stack_top);              rcx
 */
#define SYS_seccomp                 317
#define SYS_exit_group              231
#define SECCOMP_SET_MODE_FILTER     1
#define SECCOMP_FILTER_FLAG_TSYNC   1

    .text
    .globl  nabla_enter_guest
    .type   nabla_enter_guest, @function
nabla_enter_guest:
    push    %rbx
    push    %r12
    push    %r13
    push    %r14
    mov     %rsi, %r12                  /* entry */
    mov     %rdx, %r13                  /* info */
    mov     %rcx, %r14                  /* stack top */

    mov     %rdi, %rdx                  /* seccomp(MODE_FILTER, TSYNC, filter) */
    mov     $SECCOMP_SET_MODE_FILTER, %edi
    mov     $SECCOMP_FILTER_FLAG_TSYNC, %esi
    mov     $SYS_seccomp, %eax
    syscall
    test    %rax, %rax
    jnz     1f

    /* The filter is live. Switch to the guest stack and call the entry. */
    mov     %r14, %rsp
    xor     %ebp, %ebp
    mov     %r13, %rdi
    call    *%r12

    /* The guest returned: its status goes straight to exit_group. */
    mov     %eax, %edi
    mov     $SYS_exit_group, %eax
    syscall
    ud2

1:  /* seccomp failed: -errno, or the id of a thread that could not sync. */
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %rbx
    ret
    .size   nabla_enter_guest, .-nabla_enter_guest

    .section .note.GNU-stack, "", @progbits
