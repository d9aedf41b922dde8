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
 *   65-2047       a loop of four 16-byte moves to aligned destinations, the
 *                 first 16 and last 64 bytes loaded before the loop and
 *                 stored after it
 *   2048 and up   `rep movsb` / `rep stosb`, fast on every x86_64 with ERMS
 *                 (and correct on any x86_64)
 *
 * On a CPU with AVX2 (nabla__string_init, from start.c, checks CPUID and
 * that the kernel saves the YMM registers), memcpy, memmove and memset
 * from 256 bytes use the same loops with 32-byte registers, 128 bytes a
 * turn; memcpy and memmove up to 8 MiB (they beat `rep movsb` on the
 * machines measured, docs/performance.md), memset up to 2047 bytes.
 *
 * Every path loads what it copies before storing what it might overwrite,
 * so memmove shares them: forward when the destination is below the source
 * or apart from it, a backward loop when it is above and overlaps.
 * strlen reads aligned 16-byte (32 with AVX2) blocks, never across a page
 * boundary, and finds the 0 with pcmpeqb/pmovmskb, four blocks a turn.
 *
 * guests/libc/build-newlib.sh removes newlib's own memcpy, memmove, memset
 * and strlen from libc.a, so these are the only ones a guest can link;
 * nabla_string_memcpy and friends name them for the library OS's
 * self-test (guests/string-test), which checks that memcpy is this one.
 */
    .intel_syntax noprefix
    .text

/* ERMS string instructions win from about this size on over 16-byte
 * moves; 32-byte moves keep up with them for longer. */
    .set REP_THRESHOLD, 2048
    .set AVX2_REP_THRESHOLD, 8 << 20

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
    cmp rdx, 256
    jb .Lforward_sse
    cmp byte ptr [rip + nabla_string_avx2], 0
    jne .Lforward_avx2
.Lforward_sse:
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
    /* With AVX2, from 256 bytes: as the SSE loop, 32-byte registers, 128
     * bytes a turn, up to AVX2_REP_THRESHOLD. */
.Lforward_avx2:
    cmp rdx, AVX2_REP_THRESHOLD
    jae .Lcopy_rep
    vmovdqu ymm4, [rsi + rdx - 128]
    vmovdqu ymm5, [rsi + rdx - 96]
    vmovdqu ymm6, [rsi + rdx - 64]
    vmovdqu ymm7, [rsi + rdx - 32]
    vmovdqu ymm8, [rsi]
    lea r8, [rdi + rdx - 128]
    mov r9, rdi
    mov rcx, rdi
    neg rcx
    and rcx, 31
    add rdi, rcx
    add rsi, rcx
    sub rdx, rcx
.Lforward_avx2_loop:
    vmovdqu ymm0, [rsi]
    vmovdqu ymm1, [rsi + 32]
    vmovdqu ymm2, [rsi + 64]
    vmovdqu ymm3, [rsi + 96]
    vmovdqa [rdi], ymm0
    vmovdqa [rdi + 32], ymm1
    vmovdqa [rdi + 64], ymm2
    vmovdqa [rdi + 96], ymm3
    sub rsi, -128
    sub rdi, -128
    add rdx, -128
    cmp rdx, 128
    ja .Lforward_avx2_loop
    vmovdqu [r9], ymm8
    vmovdqu [r8], ymm4
    vmovdqu [r8 + 32], ymm5
    vmovdqu [r8 + 64], ymm6
    vmovdqu [r8 + 96], ymm7
    vzeroupper
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
    cmp rdx, 256
    jb .Lbackward_sse
    cmp byte ptr [rip + nabla_string_avx2], 0
    jne .Lbackward_avx2
.Lbackward_sse:
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
    /* With AVX2, from 256 bytes: 32-byte registers, 128 bytes a turn. */
.Lbackward_avx2:
    vmovdqu ymm4, [rsi]
    vmovdqu ymm5, [rsi + 32]
    vmovdqu ymm6, [rsi + 64]
    vmovdqu ymm7, [rsi + 96]
    vmovdqu ymm8, [rsi + rdx - 32]
    mov r8, rdi
    lea r9, [rdi + rdx - 32]
    add rsi, rdx
    add rdi, rdx
    mov rcx, rdi
    and rcx, 31
    sub rdi, rcx
    sub rsi, rcx
    sub rdx, rcx
.Lbackward_avx2_loop:
    add rsi, -128
    add rdi, -128
    vmovdqu ymm0, [rsi]
    vmovdqu ymm1, [rsi + 32]
    vmovdqu ymm2, [rsi + 64]
    vmovdqu ymm3, [rsi + 96]
    vmovdqa [rdi], ymm0
    vmovdqa [rdi + 32], ymm1
    vmovdqa [rdi + 64], ymm2
    vmovdqa [rdi + 96], ymm3
    add rdx, -128
    cmp rdx, 128
    ja .Lbackward_avx2_loop
    vmovdqu [r9], ymm8
    vmovdqu [r8], ymm4
    vmovdqu [r8 + 32], ymm5
    vmovdqu [r8 + 64], ymm6
    vmovdqu [r8 + 96], ymm7
    vzeroupper
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
    cmp rdx, 256
    jb .Lset_sse
    cmp byte ptr [rip + nabla_string_avx2], 0
    jne .Lset_avx2
.Lset_sse:
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
    /* With AVX2, from 256 bytes: the last 128 and the first 32, then 128
     * a turn from a 32-byte boundary. */
.Lset_avx2:
    vpbroadcastb ymm0, xmm0
    vmovdqu [rdi + rdx - 32], ymm0
    vmovdqu [rdi + rdx - 64], ymm0
    vmovdqu [rdi + rdx - 96], ymm0
    vmovdqu [rdi + rdx - 128], ymm0
    vmovdqu [rdi], ymm0
    mov rcx, rdi
    neg rcx
    and rcx, 31
    add rdi, rcx
    sub rdx, rcx
.Lset_avx2_loop:
    vmovdqa [rdi], ymm0
    vmovdqa [rdi + 32], ymm0
    vmovdqa [rdi + 64], ymm0
    vmovdqa [rdi + 96], ymm0
    sub rdi, -128
    add rdx, -128
    cmp rdx, 128
    ja .Lset_avx2_loop
    vzeroupper
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
    cmp byte ptr [rip + nabla_string_avx2], 0
    jne .Lstrlen_avx2
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
    /* With AVX2: the same with 32-byte blocks, 128 bytes a turn. */
.Lstrlen_avx2:
    vpxor xmm0, xmm0, xmm0
    mov rax, rdi
    and rax, -32
    vpcmpeqb ymm1, ymm0, [rax]
    vpmovmskb edx, ymm1
    mov ecx, edi
    and ecx, 31
    shr edx, cl
    test edx, edx
    jnz .Lstrlen_avx2_first
.Lstrlen_avx2_to_128:
    add rax, 32
    test eax, 127
    jz .Lstrlen_avx2_loop
    vpcmpeqb ymm1, ymm0, [rax]
    vpmovmskb edx, ymm1
    test edx, edx
    jz .Lstrlen_avx2_to_128
    jmp .Lstrlen_avx2_found
.Lstrlen_avx2_loop:
    vmovdqa ymm1, [rax]
    vmovdqa ymm2, [rax + 32]
    vmovdqa ymm3, [rax + 64]
    vmovdqa ymm4, [rax + 96]
    vpminub ymm5, ymm1, ymm2
    vpminub ymm6, ymm3, ymm4
    vpminub ymm5, ymm5, ymm6
    vpcmpeqb ymm5, ymm5, ymm0
    vpmovmskb edx, ymm5
    test edx, edx
    jnz .Lstrlen_avx2_in_128
    sub rax, -128
    jmp .Lstrlen_avx2_loop
.Lstrlen_avx2_in_128:
    vpcmpeqb ymm1, ymm1, ymm0
    vpmovmskb edx, ymm1
    test edx, edx
    jnz .Lstrlen_avx2_found
    add rax, 32
    vpcmpeqb ymm2, ymm2, ymm0
    vpmovmskb edx, ymm2
    test edx, edx
    jnz .Lstrlen_avx2_found
    add rax, 32
    vpcmpeqb ymm3, ymm3, ymm0
    vpmovmskb edx, ymm3
    test edx, edx
    jnz .Lstrlen_avx2_found
    add rax, 32
    vpcmpeqb ymm4, ymm4, ymm0
    vpmovmskb edx, ymm4
.Lstrlen_avx2_found:
    bsf edx, edx
    add rax, rdx
    sub rax, rdi
    vzeroupper
    ret
.Lstrlen_avx2_first:
    bsf eax, edx
    vzeroupper
    ret
    .size strlen, . - strlen
    .size nabla_string_strlen, . - nabla_string_strlen

/* void nabla__string_init(void): uses AVX2 if the CPU has it and the
 * kernel saves its registers (start.c calls it first). */
    .globl nabla__string_init
    .type nabla__string_init, @function
    .p2align 4
nabla__string_init:
    push rbx
    xor eax, eax
    cpuid
    cmp eax, 7
    jb .Linit_done
    mov eax, 1
    cpuid
    bt ecx, 27              /* OSXSAVE: xgetbv works */
    jnc .Linit_done
    bt ecx, 28              /* AVX */
    jnc .Linit_done
    xor ecx, ecx
    xgetbv
    and eax, 6              /* the kernel saves the XMM and YMM state */
    cmp eax, 6
    jne .Linit_done
    mov eax, 7
    xor ecx, ecx
    cpuid
    bt ebx, 5               /* AVX2 */
    jnc .Linit_done
    mov byte ptr [rip + nabla_string_avx2], 1
.Linit_done:
    pop rbx
    ret
    .size nabla__string_init, . - nabla__string_init

/* 1: the AVX2 paths are taken (string-test sets it to 0 to test the SSE
 * paths too). */
    .bss
    .globl nabla_string_avx2
    .type nabla_string_avx2, @object
nabla_string_avx2:
    .byte 0
    .size nabla_string_avx2, 1

    .section .note.GNU-stack, "", @progbits
