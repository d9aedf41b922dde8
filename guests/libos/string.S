/*
 * string.S: the guests' memcpy, memmove, memset and strlen.
 *
 * newlib's x86_64 versions copy with `rep movsq` whatever the size, which
 * costs tens of cycles even for a few bytes (20% of SQLite's time against
 * 3.5% for glibc's). These take the sizes programs use most without a
 * loop or a string instruction:
 *
 *   0-16 bytes    two overlapping loads and stores (8, 4, 2 or 1 byte wide)
 *   17-64 bytes   two or four overlapping 16-byte SSE loads and stores
 *   65-2047       a loop of four 16-byte moves, the last 64 bytes loaded
 *                 before the loop and stored after it
 *   2048 and up   `rep movsb` / `rep stosb`, fast on every x86_64 with ERMS
 *                 (and correct on any x86_64)
 *
 * Every path loads what it copies before storing what it might overwrite,
 * so memmove shares them: forward when the destination is below the source
 * or apart from it, a backward 64-byte loop when it is above and overlaps.
 * strlen reads aligned 16-byte blocks (never across a page boundary) and
 * finds the 0 with pcmpeqb/pmovmskb.
 *
 * guests/libc/build-newlib.sh removes newlib's own memcpy, memmove, memset
 * and strlen from libc.a, so these are the only ones a guest can link;
 * nabla_string_memcpy and friends name them for the library OS's
 * self-test (guests/string-test), which checks that memcpy is this one.
 */
    .intel_syntax noprefix
    .text

/* ERMS string instructions win from about this size on. */
    .set REP_THRESHOLD, 2048

/* void *memcpy(void *dst, const void *src, size_t n) */
    .globl memcpy, nabla_string_memcpy
    .type memcpy, @function
    .type nabla_string_memcpy, @function
    .p2align 4
memcpy:
nabla_string_memcpy:
    mov rax, rdi
.Lforward:
    cmp rdx, 16
    jbe .Lcopy_0_16
    cmp rdx, 32
    jbe .Lcopy_17_32
    cmp rdx, 64
    jbe .Lcopy_33_64
    cmp rdx, REP_THRESHOLD
    jae .Lcopy_rep
    /* 65 to REP_THRESHOLD-1: the first 16 and the last 64 bytes first,
     * then 64 at a time to 16-byte aligned destinations. */
    movdqu xmm4, [rsi + rdx - 64]
    movdqu xmm5, [rsi + rdx - 48]
    movdqu xmm6, [rsi + rdx - 32]
    movdqu xmm7, [rsi + rdx - 16]
    movdqu xmm8, [rsi]
    lea r8, [rdi + rdx - 64]
    mov r9, rdi
    mov rcx, rdi
    neg rcx
    and rcx, 15
    add rdi, rcx
    add rsi, rcx
    sub rdx, rcx
    cmp rdx, 64
    jbe .Lforward_end
.Lforward_loop:
    movdqu xmm0, [rsi]
    movdqu xmm1, [rsi + 16]
    movdqu xmm2, [rsi + 32]
    movdqu xmm3, [rsi + 48]
    movdqa [rdi], xmm0
    movdqa [rdi + 16], xmm1
    movdqa [rdi + 32], xmm2
    movdqa [rdi + 48], xmm3
    add rsi, 64
    add rdi, 64
    sub rdx, 64
    cmp rdx, 64
    ja .Lforward_loop
.Lforward_end:
    movdqu [r9], xmm8
    movdqu [r8], xmm4
    movdqu [r8 + 16], xmm5
    movdqu [r8 + 32], xmm6
    movdqu [r8 + 48], xmm7
    ret
.Lcopy_rep:
    mov rcx, rdx
    rep movsb
    ret
.Lcopy_33_64:
    movdqu xmm0, [rsi]
    movdqu xmm1, [rsi + 16]
    movdqu xmm2, [rsi + rdx - 32]
    movdqu xmm3, [rsi + rdx - 16]
    movdqu [rdi], xmm0
    movdqu [rdi + 16], xmm1
    movdqu [rdi + rdx - 32], xmm2
    movdqu [rdi + rdx - 16], xmm3
    ret
.Lcopy_17_32:
    movdqu xmm0, [rsi]
    movdqu xmm1, [rsi + rdx - 16]
    movdqu [rdi], xmm0
    movdqu [rdi + rdx - 16], xmm1
    ret
.Lcopy_0_16:
    cmp rdx, 8
    jb .Lcopy_0_7
    mov r8, [rsi]
    mov r9, [rsi + rdx - 8]
    mov [rdi], r8
    mov [rdi + rdx - 8], r9
    ret
.Lcopy_0_7:
    cmp rdx, 4
    jb .Lcopy_0_3
    mov r8d, [rsi]
    mov r9d, [rsi + rdx - 4]
    mov [rdi], r8d
    mov [rdi + rdx - 4], r9d
    ret
.Lcopy_0_3:
    test rdx, rdx
    jz .Lcopy_done
    /* 1, 2 or 3 bytes: the first, the last and the middle one. */
    mov rcx, rdx
    shr rcx, 1
    movzx r8d, byte ptr [rsi]
    movzx r9d, byte ptr [rsi + rdx - 1]
    movzx r10d, byte ptr [rsi + rcx]
    mov [rdi], r8b
    mov [rdi + rdx - 1], r9b
    mov [rdi + rcx], r10b
.Lcopy_done:
    ret
    .size memcpy, . - memcpy
    .size nabla_string_memcpy, . - nabla_string_memcpy

/* void *memmove(void *dst, const void *src, size_t n) */
    .globl memmove, nabla_string_memmove
    .type memmove, @function
    .type nabla_string_memmove, @function
    .p2align 4
memmove:
nabla_string_memmove:
    mov rax, rdi
    /* dst - src >= n (unsigned): dst is below src or apart from it. */
    mov rcx, rdi
    sub rcx, rsi
    cmp rcx, rdx
    jae .Lforward
    /* Up to 64 bytes: every small path loads all before it stores. */
    cmp rdx, 64
    jbe .Lforward
    /* dst above src and overlapping: the first 64 and the last 16 bytes
     * first, then 64 at a time from the end down, to 16-byte aligned
     * destinations. */
    movdqu xmm4, [rsi]
    movdqu xmm5, [rsi + 16]
    movdqu xmm6, [rsi + 32]
    movdqu xmm7, [rsi + 48]
    movdqu xmm8, [rsi + rdx - 16]
    mov r8, rdi
    lea r9, [rdi + rdx - 16]
    add rsi, rdx
    add rdi, rdx
    mov rcx, rdi
    and rcx, 15
    sub rdi, rcx
    sub rsi, rcx
    sub rdx, rcx
    cmp rdx, 64
    jbe .Lbackward_end
.Lbackward_loop:
    sub rsi, 64
    sub rdi, 64
    movdqu xmm0, [rsi]
    movdqu xmm1, [rsi + 16]
    movdqu xmm2, [rsi + 32]
    movdqu xmm3, [rsi + 48]
    movdqa [rdi], xmm0
    movdqa [rdi + 16], xmm1
    movdqa [rdi + 32], xmm2
    movdqa [rdi + 48], xmm3
    sub rdx, 64
    cmp rdx, 64
    ja .Lbackward_loop
.Lbackward_end:
    movdqu [r9], xmm8
    movdqu [r8], xmm4
    movdqu [r8 + 16], xmm5
    movdqu [r8 + 32], xmm6
    movdqu [r8 + 48], xmm7
    ret
    .size memmove, . - memmove
    .size nabla_string_memmove, . - nabla_string_memmove

/* void *memset(void *dst, int c, size_t n) */
    .globl memset, nabla_string_memset
    .type memset, @function
    .type nabla_string_memset, @function
    .p2align 4
memset:
nabla_string_memset:
    mov rax, rdi
    cmp rdx, REP_THRESHOLD
    jae .Lset_rep
    /* The byte in all eight bytes of rsi and all sixteen of xmm0. */
    movzx esi, sil
    movabs r8, 0x0101010101010101
    imul rsi, r8
    movq xmm0, rsi
    punpcklqdq xmm0, xmm0
    cmp rdx, 16
    jbe .Lset_0_16
    cmp rdx, 32
    jbe .Lset_17_32
    movdqu [rdi + rdx - 16], xmm0
    movdqu [rdi + rdx - 32], xmm0
    cmp rdx, 64
    jbe .Lset_first_32
    movdqu [rdi + rdx - 48], xmm0
    movdqu [rdi + rdx - 64], xmm0
    /* The first 16 bytes, then 64 at a time from a 16-byte boundary. */
    movdqu [rdi], xmm0
    mov rcx, rdi
    neg rcx
    and rcx, 15
    add rdi, rcx
    sub rdx, rcx
    cmp rdx, 64
    jbe .Lset_done
.Lset_loop:
    movdqa [rdi], xmm0
    movdqa [rdi + 16], xmm0
    movdqa [rdi + 32], xmm0
    movdqa [rdi + 48], xmm0
    add rdi, 64
    sub rdx, 64
    cmp rdx, 64
    ja .Lset_loop
    ret
.Lset_first_32:
    movdqu [rdi], xmm0
    movdqu [rdi + 16], xmm0
    ret
.Lset_17_32:
    movdqu [rdi], xmm0
    movdqu [rdi + rdx - 16], xmm0
    ret
.Lset_0_16:
    cmp rdx, 8
    jb .Lset_0_7
    mov [rdi], rsi
    mov [rdi + rdx - 8], rsi
    ret
.Lset_0_7:
    cmp rdx, 4
    jb .Lset_0_3
    mov [rdi], esi
    mov [rdi + rdx - 4], esi
    ret
.Lset_0_3:
    test rdx, rdx
    jz .Lset_done
    mov [rdi], sil
    mov [rdi + rdx - 1], sil
    cmp rdx, 2
    jbe .Lset_done
    mov [rdi + 1], sil
.Lset_done:
    ret
.Lset_rep:
    mov r8, rdi
    mov rcx, rdx
    mov eax, esi
    rep stosb
    mov rax, r8
    ret
    .size memset, . - memset
    .size nabla_string_memset, . - nabla_string_memset

/* size_t strlen(const char *s) */
    .globl strlen, nabla_string_strlen
    .type strlen, @function
    .type nabla_string_strlen, @function
    .p2align 4
strlen:
nabla_string_strlen:
    pxor xmm0, xmm0
    mov rax, rdi
    and rax, -16
    /* The first aligned block, without the bytes before s. */
    movdqa xmm1, [rax]
    pcmpeqb xmm1, xmm0
    pmovmskb edx, xmm1
    mov ecx, edi
    and ecx, 15
    shr edx, cl
    test edx, edx
    jnz .Lstrlen_first
    /* Up to three more 16-byte blocks, to a 64-byte boundary. */
.Lstrlen_to_64:
    add rax, 16
    test eax, 63
    jz .Lstrlen_loop
    movdqa xmm1, [rax]
    pcmpeqb xmm1, xmm0
    pmovmskb edx, xmm1
    test edx, edx
    jz .Lstrlen_to_64
    jmp .Lstrlen_found
    /* 64 bytes at a time: the smallest byte of four blocks is 0 iff one
     * of them has a 0. */
.Lstrlen_loop:
    movdqa xmm1, [rax]
    movdqa xmm2, [rax + 16]
    movdqa xmm3, [rax + 32]
    movdqa xmm4, [rax + 48]
    pminub xmm2, xmm1
    pminub xmm4, xmm3
    pminub xmm4, xmm2
    pcmpeqb xmm4, xmm0
    pmovmskb edx, xmm4
    test edx, edx
    jnz .Lstrlen_in_64
    add rax, 64
    jmp .Lstrlen_loop
.Lstrlen_in_64:
    /* Which block: the first with a 0. */
    pcmpeqb xmm1, xmm0
    pmovmskb edx, xmm1
    test edx, edx
    jnz .Lstrlen_found
    add rax, 16
    movdqa xmm1, [rax]
    pcmpeqb xmm1, xmm0
    pmovmskb edx, xmm1
    test edx, edx
    jnz .Lstrlen_found
    add rax, 16
    movdqa xmm1, [rax]
    pcmpeqb xmm1, xmm0
    pmovmskb edx, xmm1
    test edx, edx
    jnz .Lstrlen_found
    add rax, 16
    movdqa xmm1, [rax]
    pcmpeqb xmm1, xmm0
    pmovmskb edx, xmm1
.Lstrlen_found:
    bsf edx, edx
    add rax, rdx
    sub rax, rdi
    ret
.Lstrlen_first:
    bsf eax, edx
    ret
    .size strlen, . - strlen
    .size nabla_string_strlen, . - nabla_string_strlen

    .section .note.GNU-stack, "", @progbits
