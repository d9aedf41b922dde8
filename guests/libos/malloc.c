/*
 * malloc.c: the heap.
 *
 * The tender gives the guest one region, [heap_start, heap_end) in the boot
 * info, that nothing else uses. It is cut into blocks that tile it exactly:
 *
 *     +--------+--------+-----------------------+--------+-----
 *     | size   | check  | payload ...           | size   | ...
 *     +--------+--------+-----------------------+--------+-----
 *     ^ block           ^ what malloc returns   ^ next block = block + size
 *
 * Each block starts with a 16-byte header: its size (header included, a
 * multiple of 16) and a check word. The check word is the block's address
 * xor its size xor one of two constants, one for a block in use and one for
 * a free block, so that free() can tell a live block from a freed one, from
 * a pointer into the middle of a block and from an overwritten header, and
 * abort instead of corrupting the heap.
 *
 * Free blocks are kept in a singly linked list sorted by address (the link
 * is in the payload). Allocation takes the first free block that fits and
 * splits off what it does not need; freeing inserts the block in order and
 * merges it with the free blocks right before and after it, so two free
 * blocks are never adjacent. Everything is O(length of the free list),
 * which is fine for unikernels that allocate mostly at start-up.
 *
 * Blocks start 16-byte aligned (heap_start is page aligned, sizes are
 * multiples of 16), so every payload is 16-byte aligned. Larger alignments
 * (posix_memalign) are found by searching for a free block containing a
 * suitably aligned payload, leaving the part before it free.
 */
#include "libos.h"

#define HEADER      16u
#define ALIGNMENT   16u
#define MIN_BLOCK   32u         /* header + free-list link, rounded up */
#define CHECK_USED  0x6e61626c61757365ull     /* "nablause" */
#define CHECK_FREE  0x6e61626c61667265ull     /* "nablafre" */

struct block {
    size_t    size;
    uint64_t  check;
};

struct free_block {
    struct block       hdr;
    struct free_block *next;
};

static uintptr_t heap_lo, heap_hi;      /* the managed region */
static struct free_block *free_list;    /* sorted by address */

static uint64_t check_word(const struct block *b, size_t size, uint64_t kind)
{
    return (uint64_t)(uintptr_t)b ^ (uint64_t)size ^ kind;
}

static void set_header(struct block *b, size_t size, uint64_t kind)
{
    b->size = size;
    b->check = check_word(b, size, kind);
}

static uintptr_t align_up(uintptr_t v, uintptr_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* The block size for a request of `size` payload bytes, or 0 if the
 * request cannot be satisfied by any heap. */
static size_t block_size_for(size_t size)
{
    if (size > SIZE_MAX - HEADER - ALIGNMENT)
        return 0;
    size_t need = align_up(size + HEADER, ALIGNMENT);
    return need < MIN_BLOCK ? MIN_BLOCK : need;
}

void nabla__heap_init(uint64_t start, uint64_t end)
{
    heap_lo = align_up((uintptr_t)start, ALIGNMENT);
    heap_hi = (uintptr_t)end & ~(uintptr_t)(ALIGNMENT - 1);
    free_list = NULL;
    if (heap_hi <= heap_lo || heap_hi - heap_lo < MIN_BLOCK) {
        heap_hi = heap_lo;              /* no heap: malloc returns NULL */
        return;
    }
    free_list = (struct free_block *)heap_lo;
    set_header(&free_list->hdr, heap_hi - heap_lo, CHECK_FREE);
    free_list->next = NULL;
}

void nabla__heap_fatal(const char *what, const void *ptr)
{
    printf("heap: %s %p\n", what, ptr);
    abort();
}

/* True if `b` could be a block: aligned, inside the heap, and with a size
 * that keeps it inside the heap. Says nothing of the check word. */
static int block_in_heap(const struct block *b)
{
    uintptr_t a = (uintptr_t)b;
    if (a < heap_lo || a >= heap_hi || (a & (ALIGNMENT - 1)) != 0)
        return 0;
    size_t size = b->size;
    return size >= MIN_BLOCK && (size & (ALIGNMENT - 1)) == 0 && size <= heap_hi - a;
}

/* The block of a pointer malloc returned, after checking it is live. */
static struct block *live_block(void *ptr, const char *caller)
{
    struct block *b = (struct block *)((uintptr_t)ptr - HEADER);
    if ((uintptr_t)ptr < heap_lo + HEADER || !block_in_heap(b))
        nabla__heap_fatal(caller, ptr);
    if (b->check == check_word(b, b->size, CHECK_USED))
        return b;
    if (b->check == check_word(b, b->size, CHECK_FREE))
        nabla__heap_fatal("double free or use after free in", ptr);
    nabla__heap_fatal(caller, ptr);
}

/*
 * Takes `need` bytes starting at `at` out of free block `fb`, whose link
 * is `*link`. `at` is fb itself, or at least MIN_BLOCK past it, in which
 * case the front part stays a free block. A tail of MIN_BLOCK or more
 * becomes a free block too; a smaller one is given to the new block.
 * Returns the payload.
 */
static void *carve(struct free_block **link, struct free_block *fb,
                   uintptr_t at, size_t need)
{
    uintptr_t fb_end = (uintptr_t)fb + fb->hdr.size;
    size_t tail = fb_end - (at + need);
    struct free_block *next = fb->next;

    if (tail < MIN_BLOCK) {
        need += tail;
        tail = 0;
    }
    if (tail > 0) {
        struct free_block *t = (struct free_block *)(at + need);
        set_header(&t->hdr, tail, CHECK_FREE);
        t->next = next;
        next = t;
    }
    if (at == (uintptr_t)fb) {
        *link = next;                   /* the whole front is taken */
    } else {
        set_header(&fb->hdr, at - (uintptr_t)fb, CHECK_FREE);
        fb->next = next;
    }
    struct block *b = (struct block *)at;
    set_header(b, need, CHECK_USED);
    return (void *)(at + HEADER);
}

/* Where in free block fb a block of `need` bytes with its payload aligned
 * to `align` can start, or 0 if it does not fit. */
static uintptr_t fit(const struct free_block *fb, size_t need, size_t align)
{
    uintptr_t start = (uintptr_t)fb;
    uintptr_t end = start + fb->hdr.size;
    uintptr_t at = align_up(start + HEADER, align) - HEADER;

    /* A gap before the block must be able to hold a free block. */
    if (at != start && at - start < MIN_BLOCK)
        at += align;                    /* align >= 32 here: now gap >= 32 */
    if (at < start || at > end || end - at < need)
        return 0;
    return at;
}

static void *alloc(size_t size, size_t align)
{
    size_t need = block_size_for(size);
    if (need == 0 || need > heap_hi - heap_lo)
        return NULL;
    /* Keep the search from wrapping around for absurd alignments. */
    if (align > heap_hi - heap_lo)
        return NULL;

    for (struct free_block **link = &free_list; *link; link = &(*link)->next) {
        struct free_block *fb = *link;
        if (!block_in_heap(&fb->hdr) || fb->hdr.check != check_word(&fb->hdr, fb->hdr.size, CHECK_FREE))
            nabla__heap_fatal("corrupt free block at", fb);
        uintptr_t at = fit(fb, need, align);
        if (at != 0)
            return carve(link, fb, at, need);
    }
    return NULL;
}

/* Puts block b (any header) on the free list and merges it with its free
 * neighbours. */
static void release(struct block *b, size_t size)
{
    struct free_block *fb = (struct free_block *)b;
    struct free_block *prev = NULL, *next = free_list;

    while (next != NULL && (uintptr_t)next < (uintptr_t)fb) {
        prev = next;
        next = next->next;
    }
    set_header(&fb->hdr, size, CHECK_FREE);

    if (next != NULL && (uintptr_t)fb + fb->hdr.size == (uintptr_t)next) {
        /* Absorb the following block. Its stale header, marked free, stays
         * in the payload where a double free of it will be caught. */
        set_header(&fb->hdr, fb->hdr.size + next->hdr.size, CHECK_FREE);
        next = next->next;
    }
    fb->next = next;

    if (prev != NULL && (uintptr_t)prev + prev->hdr.size == (uintptr_t)fb) {
        set_header(&prev->hdr, prev->hdr.size + fb->hdr.size, CHECK_FREE);
        prev->next = fb->next;
    } else if (prev != NULL) {
        prev->next = fb;
    } else {
        free_list = fb;
    }
}

void *malloc(size_t size)
{
    return alloc(size, ALIGNMENT);
}

void free(void *ptr)
{
    if (ptr == NULL)
        return;
    struct block *b = live_block(ptr, "free of an invalid pointer");
    release(b, b->size);
}

void *calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *p = malloc(count * size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

/* Gives the end of block b, from `keep` bytes on, back to the free list if
 * it is big enough to be a block. */
static void trim(struct block *b, size_t keep)
{
    if (b->size - keep >= MIN_BLOCK) {
        struct block *t = (struct block *)((uintptr_t)b + keep);
        size_t tail = b->size - keep;
        set_header(b, keep, CHECK_USED);
        release(t, tail);
    }
}

void *realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return malloc(size);
    struct block *b = live_block(ptr, "realloc of an invalid pointer");
    if (size == 0) {
        release(b, b->size);
        return NULL;
    }
    size_t need = block_size_for(size);
    if (need == 0)
        return NULL;

    if (need <= b->size) {              /* shrink in place */
        trim(b, need);
        return ptr;
    }

    /* Grow in place if the next block is free and large enough. */
    uintptr_t end = (uintptr_t)b + b->size;
    for (struct free_block **link = &free_list; *link; link = &(*link)->next) {
        struct free_block *fb = *link;
        if ((uintptr_t)fb > end)
            break;
        if ((uintptr_t)fb == end) {
            if (b->size + fb->hdr.size < need)
                break;
            *link = fb->next;
            set_header(b, b->size + fb->hdr.size, CHECK_USED);
            trim(b, need);
            return ptr;
        }
    }

    void *q = malloc(size);
    if (q == NULL)
        return NULL;
    memcpy(q, ptr, b->size - HEADER);
    release(b, b->size);
    return q;
}

int posix_memalign(void **out, size_t alignment, size_t size)
{
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0)
        return EINVAL;
    void *p = alloc(size, alignment < ALIGNMENT ? ALIGNMENT : alignment);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

void *aligned_alloc(size_t alignment, size_t size)
{
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        return NULL;
    return alloc(size, alignment < ALIGNMENT ? ALIGNMENT : alignment);
}

size_t malloc_usable_size(void *ptr)
{
    if (ptr == NULL)
        return 0;
    return live_block(ptr, "malloc_usable_size of an invalid pointer")->size - HEADER;
}

void nabla_heap_stats(struct nabla_heap_stats *st)
{
    memset(st, 0, sizeof *st);
    st->heap_size = heap_hi - heap_lo;

    /* Walk every block in address order, and the free list alongside:
     * each free block met on the walk must be the next one on the list. */
    const struct free_block *expect = free_list;
    for (uintptr_t a = heap_lo; a < heap_hi;) {
        struct block *b = (struct block *)a;
        if (!block_in_heap(b))
            nabla__heap_fatal("corrupt block header at", b);
        if (b->check == check_word(b, b->size, CHECK_USED)) {
            st->used_bytes += b->size;
        } else if (b->check == check_word(b, b->size, CHECK_FREE)) {
            if ((const struct block *)expect != b)
                nabla__heap_fatal("free block missing from the free list:", b);
            expect = expect->next;
            st->free_bytes += b->size;
            st->free_blocks++;
            if (b->size > st->largest_free)
                st->largest_free = b->size;
        } else {
            nabla__heap_fatal("corrupt block header at", b);
        }
        a += b->size;
    }
    if (expect != NULL)
        nabla__heap_fatal("free list entry outside the heap walk:", expect);
}
