#include <zlib.h>

/* deflateInit2/inflateInit2 are macros; Swift cannot call them. */
static inline int czlib_deflate_init_gzip(z_stream *s, int level) {
    return deflateInit2(s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
/* 15 + 32: accept gzip or zlib headers, detected automatically. */
static inline int czlib_inflate_init_gzip(z_stream *s) {
    return inflateInit2(s, 15 + 32);
}

/* Not in Swift's Glibc module; the layer code needs them next to zlib. */
#include <sys/xattr.h>
#include <sys/sysmacros.h>
static inline unsigned long long czlib_makedev(unsigned int major, unsigned int minor) {
    return makedev(major, minor);
}
static inline unsigned int czlib_major(unsigned long long dev) { return major(dev); }
static inline unsigned int czlib_minor(unsigned long long dev) { return minor(dev); }
