/*
 * kvlog: an append-only key-value store on the block device "disk".
 *
 *   kvlog put KEY VALUE      append a record; prints "ok SEQ"
 *   kvlog get KEY            prints the latest value, or "not found" (status 1)
 *   kvlog list               prints KEY=VALUE for every key, in key order
 *   kvlog count              prints "records N"
 *   kvlog fill N [PREFIX]    appends PREFIX-i=value-i for i = 0 .. N-1
 *                            (PREFIX defaults to "key"), printing
 *                            "written SEQ" after each record is on the disk
 *
 * On-disk format (guests/BLOCK.md has the full description). The log is a
 * sequence of records from sector 0, each starting on a sector boundary and
 * written with ONE blkwrite of whole sectors:
 *
 *   offset size
 *    0     4   magic "KVL1" (0x4b 0x56 0x4c 0x31)
 *    4     4   CRC-32 of bytes 8 .. end of the record's last sector
 *    8     8   sequence number: 1 for the first record, then +1
 *   16     2   key length (1 .. 64)
 *   18     2   value length (0 .. 4000)
 *   20     4   CRC-32 field of the previous record (0 for the first)
 *   24     -   key, then value, then zeros to the end of the sector
 *
 * All integers little-endian. CRC-32 is the IEEE 802.3 / zlib one
 * (reflected polynomial 0xEDB88320, initial value and final XOR
 * 0xFFFFFFFF). A record takes ceil((24 + key + value) / 512) sectors: one
 * while key and value take at most 488 bytes together.
 *
 * Replay reads from sector 0 and stops at the first record that is not
 * valid: bad magic, a length out of bounds or running past the disk, a
 * sequence number other than the next one, a previous-CRC field that does
 * not match the record before, or a bad CRC. That is the tail: new records
 * go there. If the tail sector is not all zeros (a torn or corrupt record)
 * it is overwritten with a zeroed sector, "kvlog: repaired tail at sector
 * S", so that nothing stale behind it can be replayed later.
 *
 * Status: 0 ok; 1 get: not found; 2 no disk; 3 disk full; 4 I/O error or
 * out of memory; 64 usage.
 */
#include <nabla.h>
#include "kvlog_crc32.h"

#define SECTOR      512u
#define MAGIC       0x314c564bu     /* "KVL1" read as a little-endian u32 */
#define HEADER      24u
#define KEY_MAX     64u
#define VALUE_MAX   4000u
#define RECORD_MAX  ((HEADER + KEY_MAX + VALUE_MAX + SECTOR - 1) / SECTOR * SECTOR)
#define CHUNK       (256u * 1024u)  /* replay reads this much at a time */

/* ---- Little-endian fields --------------------------------------------- */

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

/* ---- The disk ------------------------------------------------------------ */

static int disk;
static uint64_t capacity;       /* sectors */
static int readonly;

static uint64_t record_sectors(uint32_t key_len, uint32_t value_len)
{
    return (HEADER + key_len + value_len + SECTOR - 1) / SECTOR;
}

/* Replay's read-ahead window: sectors [win_start, win_start + win_len). */
static uint8_t *window;
static uint64_t win_start, win_len;

/* Returns the n sectors at `sector` (n <= CHUNK / SECTOR, all inside the
 * disk), reading a new window if they are not all in the current one; NULL
 * on an I/O error (printed). */
static const uint8_t *sectors_at(uint64_t sector, uint64_t n)
{
    if (sector < win_start || sector + n > win_start + win_len) {
        uint64_t len = CHUNK / SECTOR;
        if (len > capacity - sector)
            len = capacity - sector;
        int64_t r = nabla_blk_read(disk, sector * SECTOR, window, len * SECTOR);
        if (r != NABLA_OK) {
            printf("kvlog: read failed at sector %llu: %lld\n", (unsigned long long)sector, (long long)r);
            win_len = 0;
            return NULL;
        }
        win_start = sector;
        win_len = len;
    }
    return window + (sector - win_start) * SECTOR;
}

/* ---- The index: an open-addressing hash table of each key's latest value -- */

struct entry {
    char *key;          /* NULL: empty slot */
    char *value;
    uint16_t key_len, value_len;
};

static struct entry *table;
static size_t table_size, table_used;   /* size: a power of two */

static uint64_t hash(const char *k, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;     /* FNV-1a */
    while (n--)
        h = (h ^ (uint8_t)*k++) * 0x100000001b3ull;
    return h;
}

static struct entry *slot(struct entry *t, size_t size, const char *key, size_t len)
{
    size_t i = (size_t)hash(key, len) & (size_t)(size - 1);
    while (t[i].key != NULL && !(t[i].key_len == len && memcmp(t[i].key, key, len) == 0))
        i = (i + 1) & (size - 1);
    return &t[i];
}

static int grow(void)
{
    size_t size = table_size ? table_size * 2 : 1024;
    struct entry *t = calloc(size, sizeof *t);
    if (t == NULL)
        return -1;
    for (size_t i = 0; i < table_size; i++)
        if (table[i].key != NULL)
            *slot(t, size, table[i].key, table[i].key_len) = table[i];
    free(table);
    table = t;
    table_size = size;
    return 0;
}

static char *copy(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s != NULL) {
        memcpy(s, p, n);
        s[n] = 0;
    }
    return s;
}

/* Records key=value as the latest value of key; -1 when out of memory. */
static int index_set(const uint8_t *key, uint16_t key_len, const uint8_t *value, uint16_t value_len)
{
    if ((table_used + 1) * 4 > table_size * 3 && grow() != 0)
        return -1;
    struct entry *e = slot(table, table_size, (const char *)key, key_len);
    char *v = copy(value, value_len);
    if (v == NULL)
        return -1;
    if (e->key == NULL) {
        e->key = copy(key, key_len);
        if (e->key == NULL) {
            free(v);
            return -1;
        }
        e->key_len = key_len;
        table_used++;
    } else {
        free(e->value);
    }
    e->value = v;
    e->value_len = value_len;
    return 0;
}

/* ---- Replay and repair ------------------------------------------------------- */

static uint64_t tail;           /* first sector after the last valid record */
static uint64_t next_seq = 1;
static uint32_t last_crc;       /* CRC field of the last valid record, 0 if none */

/* Checks the record at `tail`; returns its sectors and length fields if it
 * is the valid next record, or 0 if the log ends here. -1 on an I/O error. */
static int64_t valid_record(const uint8_t **out)
{
    const uint8_t *p = sectors_at(tail, 1);
    if (p == NULL)
        return -1;
    if (get32(p) != MAGIC || get64(p + 8) != next_seq || get32(p + 20) != last_crc)
        return 0;
    uint16_t key_len = get16(p + 16), value_len = get16(p + 18);
    if (key_len == 0 || key_len > KEY_MAX || value_len > VALUE_MAX)
        return 0;
    uint64_t n = record_sectors(key_len, value_len);
    if (n > capacity - tail)
        return 0;
    if (n > 1 && (p = sectors_at(tail, n)) == NULL)
        return -1;
    if (kvlog_crc32(p + 8, n * SECTOR - 8) != get32(p + 4))
        return 0;
    *out = p;
    return (int64_t)n;
}

/* Replays the log, filling the index if `build_index`, and repairs the
 * tail. Returns 0, or an exit status. */
static int replay(int build_index)
{
    for (;;) {
        if (tail == capacity)
            return 0;                       /* the log fills the disk */
        const uint8_t *p;
        int64_t n = valid_record(&p);
        if (n < 0)
            return 4;
        if (n == 0)
            break;
        if (build_index && index_set(p + HEADER, get16(p + 16), p + HEADER + get16(p + 16), get16(p + 18)) != 0) {
            printf("kvlog: out of memory\n");
            return 4;
        }
        last_crc = get32(p + 4);
        next_seq++;
        tail += (uint64_t)n;
    }

    /* The tail sector: zeros if the log simply ends here, else the start
     * of a torn or corrupt record. */
    const uint8_t *p = sectors_at(tail, 1);
    if (p == NULL)
        return 4;
    int empty = 1;
    for (unsigned i = 0; i < SECTOR; i++)
        if (p[i] != 0) {
            empty = 0;
            break;
        }
    if (empty)
        return 0;
    if (readonly) {
        printf("kvlog: bad record at sector %llu left alone: the disk is read-only\n", (unsigned long long)tail);
        return 0;
    }
    static uint8_t zero[SECTOR];
    int64_t r = nabla_blk_write(disk, tail * SECTOR, zero, SECTOR);
    if (r != NABLA_OK) {
        printf("kvlog: repairing sector %llu failed: %lld\n", (unsigned long long)tail, (long long)r);
        return 4;
    }
    win_len = 0;                            /* the window is stale now */
    printf("kvlog: repaired tail at sector %llu\n", (unsigned long long)tail);
    return 0;
}

/* ---- Appending --------------------------------------------------------------- */

static uint8_t *record_buf;

/* Appends key=value with one blkwrite. Returns 0 and stores its sequence
 * number in *seq, or an exit status (message printed). */
static int append(const char *key, size_t key_len, const char *value, size_t value_len, uint64_t *seq)
{
    if (key_len == 0 || key_len > KEY_MAX) {
        printf("kvlog: a key is 1 to %u bytes\n", KEY_MAX);
        return 64;
    }
    if (value_len > VALUE_MAX) {
        printf("kvlog: a value is at most %u bytes\n", VALUE_MAX);
        return 64;
    }
    if (readonly) {
        printf("kvlog: the disk is read-only\n");
        return 4;
    }
    uint64_t n = record_sectors((uint32_t)key_len, (uint32_t)value_len);
    if (n > capacity - tail) {
        printf("kvlog: disk full\n");
        return 3;
    }
    uint8_t *p = record_buf;
    memset(p, 0, n * SECTOR);
    put32(p, MAGIC);
    put64(p + 8, next_seq);
    put16(p + 16, (uint16_t)key_len);
    put16(p + 18, (uint16_t)value_len);
    put32(p + 20, last_crc);
    memcpy(p + HEADER, key, key_len);
    memcpy(p + HEADER + key_len, value, value_len);
    uint32_t crc = kvlog_crc32(p + 8, n * SECTOR - 8);
    put32(p + 4, crc);
    int64_t r = nabla_blk_write(disk, tail * SECTOR, p, n * SECTOR);
    if (r != NABLA_OK) {
        printf("kvlog: write failed at sector %llu: %lld\n", (unsigned long long)tail, (long long)r);
        return 4;
    }
    *seq = next_seq++;
    last_crc = crc;
    tail += n;
    return 0;
}

/* ---- Commands ------------------------------------------------------------------ */

static int key_less(const struct entry *a, const struct entry *b)
{
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    return c < 0 || (c == 0 && a->key_len < b->key_len);
}

/* Heapsort of entry pointers by key. */
static void sift(struct entry **v, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && key_less(v[child], v[child + 1]))
            child++;
        if (!key_less(v[root], v[child]))
            return;
        struct entry *t = v[root];
        v[root] = v[child];
        v[child] = t;
        root = child;
    }
}

static void sort_entries(struct entry **v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift(v, i, n);
    for (size_t end = n; end-- > 1;) {
        struct entry *t = v[0];
        v[0] = v[end];
        v[end] = t;
        sift(v, 0, end);
    }
}

static int cmd_list(void)
{
    struct entry **v = malloc((table_used ? table_used : 1) * sizeof *v);
    if (v == NULL) {
        printf("kvlog: out of memory\n");
        return 4;
    }
    size_t n = 0;
    for (size_t i = 0; i < table_size; i++)
        if (table[i].key != NULL)
            v[n++] = &table[i];
    sort_entries(v, n);
    for (size_t i = 0; i < n; i++)
        printf("%.*s=%.*s\n", (int)v[i]->key_len, v[i]->key, (int)v[i]->value_len, v[i]->value);
    free(v);
    return 0;
}

static int cmd_get(const char *key)
{
    size_t len = strlen(key);
    struct entry *e = table_size ? slot(table, table_size, key, len) : NULL;
    if (e == NULL || e->key == NULL) {
        printf("not found\n");
        return 1;
    }
    printf("%.*s\n", (int)e->value_len, e->value);
    return 0;
}

static int cmd_fill(uint64_t count, const char *prefix)
{
    char key[KEY_MAX + 32], value[48];
    for (uint64_t i = 0; i < count; i++) {
        int key_len = snprintf(key, sizeof key, "%s-%llu", prefix, (unsigned long long)i);
        int value_len = snprintf(value, sizeof value, "value-%llu", (unsigned long long)i);
        if (key_len < 0 || (size_t)key_len >= sizeof key) {
            printf("kvlog: prefix too long\n");
            return 64;
        }
        uint64_t seq;
        int status = append(key, (size_t)key_len, value, (size_t)value_len, &seq);
        if (status != 0)
            return status;
        /* One puts hypercall per line, after blkwrite returned: a record
         * whose line was printed is on the disk. */
        printf("written %llu\n", (unsigned long long)seq);
    }
    return 0;
}

static int usage(void)
{
    printf("usage: kvlog put KEY VALUE | get KEY | list | count | fill N [PREFIX]\n");
    return 64;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *cmd = argv[1];
    int is_put = strcmp(cmd, "put") == 0, is_get = strcmp(cmd, "get") == 0;
    int is_list = strcmp(cmd, "list") == 0, is_count = strcmp(cmd, "count") == 0;
    int is_fill = strcmp(cmd, "fill") == 0;
    uint64_t fill_count = 0;
    if ((is_put && argc != 4) || (is_get && argc != 3) || ((is_list || is_count) && argc != 2) ||
        (is_fill && (argc < 3 || argc > 4 || nabla_parse_u64(argv[2], &fill_count) != 0)) ||
        !(is_put || is_get || is_list || is_count || is_fill))
        return usage();

    disk = nabla_device_find("disk", NABLA_DEVICE_BLOCK);
    const struct nabla_device *dev = nabla_device(disk);
    if (dev == NULL || dev->u.block.sector_size != SECTOR) {
        printf("kvlog: no disk\n");
        return 2;
    }
    capacity = dev->u.block.capacity;
    readonly = (dev->flags & NABLA_DEVICE_READONLY) != 0;

    window = malloc(CHUNK);
    record_buf = malloc(RECORD_MAX);
    if (window == NULL || record_buf == NULL) {
        printf("kvlog: out of memory\n");
        return 4;
    }

    int status = replay(is_get || is_list);
    if (status != 0)
        return status;

    uint64_t seq;
    if (is_put) {
        status = append(argv[2], strlen(argv[2]), argv[3], strlen(argv[3]), &seq);
        if (status == 0)
            printf("ok %llu\n", (unsigned long long)seq);
        return status;
    }
    if (is_get)
        return cmd_get(argv[2]);
    if (is_list)
        return cmd_list();
    if (is_count) {
        printf("records %llu\n", (unsigned long long)(next_seq - 1));
        return 0;
    }
    return cmd_fill(fill_count, argc == 4 ? argv[3] : "key");
}
