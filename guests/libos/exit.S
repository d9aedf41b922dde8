/*
 * exit.S: the exit context, how a guest halts from any depth.
 *
 * nabla has no "halt" hypercall: a guest ends when its entry point,
 * _start, returns, and the tender turns the return value into its exit
 * status. exit(), abort() and failed assertions therefore have to get back
 * to _start from wherever they are called. They do it the way longjmp
 * does, except that the save and the call of main are one function, so
 * that nothing ever "returns twice" into C code:
 *
 *   int nabla__call_main(struct nabla_exit_context *ctx,   rdi
 *                        int (*fn)(int, char **),          rsi
 *                        int argc, char **argv);           edx, rcx
 *
 *     pushes the callee-saved registers (rbp, rbx, r12-r15) on its own
 *     frame, records the resulting stack pointer and the MXCSR and x87
 *     control words in *ctx, and calls fn(argc, argv). If fn returns, its
 *     value is returned.
 *
 *   void nabla__exit_to(const struct nabla_exit_context *ctx,  rdi
 *                       int status);                           esi
 *
 *     reloads the stack pointer and control words from *ctx. The stack
 *     pointer then points at the frame nabla__call_main built, which is
 *     intact because every frame of fn and its callees lies below it; the
 *     shared epilogue pops the callee-saved registers and returns `status`
 *     to nabla__call_main's caller. The frames in between are abandoned;
 *     nothing in a nabla guest needs unwinding (no threads, no locks held
 *     across exit, no C++ destructors).
 *
 * struct nabla_exit_context (libos.h): rsp at 0, mxcsr at 8, fpucw at 12.
 */

    .text

    .globl  nabla__call_main
    .type   nabla__call_main, @function
    .p2align 4
nabla__call_main:
    /* On entry rsp = 8 (mod 16): the call pushed the return address. */
    push    %rbp
    mov     %rsp, %rbp                  /* a frame pointer for debuggers */
    push    %rbx
    push    %r12
    push    %r13
    push    %r14
    push    %r15
    sub     $8, %rsp                    /* rsp = 0 (mod 16) for the call */

    mov     %rsp, 0(%rdi)               /* ctx->rsp */
    stmxcsr 8(%rdi)                     /* ctx->mxcsr */
    fnstcw  12(%rdi)                    /* ctx->fpucw */

    mov     %rsi, %rax                  /* fn(argc, argv) */
    mov     %edx, %edi
    mov     %rcx, %rsi
    call    *%rax

.Lnabla_resume:
    /* Reached by fn returning, or by nabla__exit_to with eax = status. */
    add     $8, %rsp
    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %rbx
    pop     %rbp
    ret
    .size   nabla__call_main, .-nabla__call_main

    .globl  nabla__exit_to
    .type   nabla__exit_to, @function
    .p2align 4
nabla__exit_to:
    mov     0(%rdi), %rsp
    ldmxcsr 8(%rdi)
    fldcw   12(%rdi)
    cld                                 /* the ABI wants DF clear at a return */
    mov     %esi, %eax
    jmp     .Lnabla_resume
    .size   nabla__exit_to, .-nabla__exit_to

    .section .note.GNU-stack, "", @progbits
