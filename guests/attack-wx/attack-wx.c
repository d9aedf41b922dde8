/*
 * attack-wx: `attack-wx MODE` tries to write code or run data, which W^X
 * page permissions must stop with SIGSEGV:
 *
 *   text   writes a `ret` over the first byte of one of its own functions
 *   stack  copies a `ret` into a stack buffer and calls it
 *   heap   copies a `ret` into a malloc'd buffer and calls it
 *
 * Reaching the line after the attack means it worked: the guest says so and
 * returns 0.
 */
#include <nabla.h>

static const uint8_t ret_instruction[] = {0xc3};

__attribute__((noinline)) static int victim(int x)
{
    __asm__ volatile("" : "+r"(x));
    return x + 1;
}

/* Hides a pointer's origin from the compiler. */
static uintptr_t launder(uintptr_t p)
{
    __asm__ volatile("" : "+r"(p));
    return p;
}

static void call_code(uint8_t *code)
{
    memcpy(code, ret_instruction, sizeof ret_instruction);
    void (*function)(void) = (void (*)(void))launder((uintptr_t)code);
    printf("calling code at %p\n", (void *)code);
    function();
}

int main(int argc, char **argv)
{
    const char *mode = argc >= 2 ? argv[1] : "";
    if (strcmp(mode, "text") == 0) {
        volatile uint8_t *text = (volatile uint8_t *)launder((uintptr_t)&victim);
        printf("writing to text at %p\n", (void *)text);
        *text = 0xc3;
        printf("text write succeeded: %d\n", victim(1));
    } else if (strcmp(mode, "stack") == 0) {
        uint8_t code[16];
        call_code(code);
        printf("stack code ran\n");
    } else if (strcmp(mode, "heap") == 0) {
        uint8_t *code = malloc(64);
        if (code == NULL) {
            printf("malloc failed\n");
            return 3;
        }
        call_code(code);
        printf("heap code ran\n");
    } else {
        printf("usage: attack-wx text|stack|heap\n");
        return 2;
    }
    return 0;
}
