/* Native baseline for the start-up benchmark: a static C hello-world. */
#include <unistd.h>

int main(void) {
    static const char message[] = "Hello from a nabla guest!\n";
    return write(1, message, sizeof message - 1) == sizeof message - 1 ? 0 : 1;
}
