#include <zlib.h>

// deflateInit2 and inflateInit2 are macros over the versioned entry points.
static inline int mt_deflateInit2(z_streamp s, int level, int windowBits) {
    return deflateInit2(s, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}
static inline int mt_inflateInit2(z_streamp s, int windowBits) { return inflateInit2(s, windowBits); }
