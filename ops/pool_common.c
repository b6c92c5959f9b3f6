/*
 * pool_common.c — attribute parsing and shape inference of the pooling ops (pool_common.h).
 */
#include "config.h"

#include "pool_common.h"

sng_status sngi_pool_parse(sngi_op_ctx *c, void *attr) {
    sngi_pool_attr *a = attr;
    static const char *const rounds[] = {"floor", "ceil", NULL};
    int k[2], s[2], p[2];
    sng_status st;
    if ((st = sngi_attr_pair(c, "kernel", 2, 1, 4096, k))) return st;
    if ((st = sngi_attr_pair(c, "stride", 0, 1, 4096, s))) return st;
    if ((st = sngi_attr_pair(c, "pad", 0, 0, 4096, p))) return st;
    if ((st = sngi_attr_enum(c, "round", rounds, 0, &a->ceil_mode))) return st;
    a->kh = k[0], a->kw = k[1];
    a->sh = s[0] ? s[0] : k[0], a->sw = s[1] ? s[1] : k[1];
    a->ph = p[0], a->pw = p[1];
    if (a->ph >= a->kh || a->pw >= a->kw)
        return sngi_op_fail(c, SNG_ERR_MODEL, "pad %d,%d must be smaller than kernel %dx%d", a->ph,
                            a->pw, a->kh, a->kw);
    return SNG_OK;
}

/* Output extent along one axis; 0 when the kernel does not fit. */
static int pool_out(int in, int k, int s, int p, int ceil_mode) {
    int span = in + 2 * p - k;
    if (span < 0) return 0;
    int o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (o - 1) * s >= in + p) o--; /* the last window would start in the padding */
    return o;
}

sng_status sngi_pool_infer(sngi_op_ctx *c, void *attr) {
    sngi_pool_attr *a = attr;
    const sngi_shape *in = &c->node->in_shape[0];
    char buf[64];
    if (in->nd != 3)
        return sngi_op_fail(c, SNG_ERR_SHAPE, "%s expects (C,H,W) input, got %s",
                            c->node->op->name, sngi_shape_str(in, buf, sizeof buf));
    a->H = in->d[1], a->W = in->d[2];
    a->Ho = pool_out(a->H, a->kh, a->sh, a->ph, a->ceil_mode);
    a->Wo = pool_out(a->W, a->kw, a->sw, a->pw, a->ceil_mode);
    if (a->Ho < 1 || a->Wo < 1)
        return sngi_op_fail(c, SNG_ERR_SHAPE, "kernel %dx%d does not fit input %s with pad %d,%d",
                            a->kh, a->kw, sngi_shape_str(in, buf, sizeof buf), a->ph, a->pw);
    c->node->shape = sngi_shape3(in->d[0], a->Ho, a->Wo);
    c->node->flops = (double)in->d[0] * a->Ho * a->Wo * a->kh * a->kw;
    return SNG_OK;
}
