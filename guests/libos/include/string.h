/* <string.h> for guests: everything the library OS offers is in <nabla.h>,
 * which this header includes, so that portable code builds unchanged. */
#include <nabla.h>
