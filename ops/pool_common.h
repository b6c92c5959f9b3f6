/*
 * pool_common.h — what maxpool2d and avgpool2d share: their attributes (kernel, stride, pad,
 * round), the output shape and the in-range window of an output cell.
 */
#ifndef SNG_POOL_COMMON_H
#define SNG_POOL_COMMON_H

#include "op.h"

typedef struct {
    int kh, kw, sh, sw, ph, pw;
    int ceil_mode;
    int H, W, Ho, Wo; /* set by infer */
} sngi_pool_attr;

/* parse(): kernel (2 or "kh,kw"), stride (default = kernel), pad (smaller than the kernel),
 * round ("floor" | "ceil"). */
sng_status sngi_pool_parse(sngi_op_ctx *c, void *attr);
/* infer(): (C,H,W) -> (C,Ho,Wo), flops C*Ho*Wo*kh*kw; errors name the op. */
sng_status sngi_pool_infer(sngi_op_ctx *c, void *attr);

/* In-range window [lo, hi) of output index o along an axis. */
static inline void sngi_pool_win(int o, int s, int p, int k, int in, int *lo, int *hi) {
    int a = o * s - p, b = a + k;
    *lo = a < 0 ? 0 : a;
    *hi = b > in ? in : b;
}

#endif /* SNG_POOL_COMMON_H */
