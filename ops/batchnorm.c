/*
 * batchnorm — batch normalisation per channel of (C, H, W) inputs (any rank >= 2: channel = the
 * first per-sample dim) or per feature of (F) inputs. With M = N * (elements per channel):
 *   training:  mu, var = batch mean and biased variance;  rstd = 1/sqrt(var + eps)
 *              running_mean = (1 - m) running_mean + m mu
 *              running_var  = (1 - m) running_var + m var * M/(M-1)   (PyTorch convention)
 *   inference: mu, var = running_mean, running_var
 *   y = gamma (x - mu) rstd + beta
 * Backward, training (xh = (x - mu) rstd):
 *   dgamma += sum dy xh;  dbeta += sum dy;  dx += gamma rstd (dy - sum(dy)/M - xh sum(dy xh)/M)
 * Backward with running statistics (only when run in inference mode) treats mu, rstd as
 * constants: dx += gamma rstd dy.
 * Parameters: gamma (ones), beta (zeros); state: running_mean (zeros), running_var (ones), which
 * the optimiser never touches (their dp entries are NULL). Forward saves mu and rstd (2C floats).
 * Deterministic: each channel is reduced in a fixed order, in double; threads split channels.
 */
#include "config.h"

#include "elem_common.h"

typedef struct {
    float momentum, eps;
} batchnorm_attr;

static sng_status batchnorm_parse(sngi_op_ctx *c, void *attr) {
    batchnorm_attr *a = attr;
    sng_status st;
    if ((st = sngi_attr_float(c, "momentum", 0.1f, 0.0f, 1.0f, &a->momentum))) return st;
    if ((st = sngi_attr_float(c, "eps", 1e-5f, 0.0f, 1.0f, &a->eps))) return st;
    if (!(a->eps > 0)) return sngi_op_fail(c, SNG_ERR_MODEL, "batchnorm: eps must be > 0");
    return SNG_OK;
}

/* Channels C and elements per channel per sample S. */
static void bn_dims(const sngi_node *node, int *C, int64_t *S) {
    const sngi_shape *s = &node->in_shape[0];
    *C = s->d[0];
    *S = s->nd == 1 ? 1 : sngi_shape_numel(s) / s->d[0];
}

static sng_status batchnorm_infer(sngi_op_ctx *c, void *attr) {
    (void)attr;
    sngi_node *nd = c->node;
    if (nd->in_shape[0].nd < 1)
        return sngi_op_fail(c, SNG_ERR_SHAPE, "batchnorm: input '%s' is a scalar per sample; "
                            "expected (F) or (C,H,W)", nd->in_ref[0]);
    int C;
    int64_t S;
    bn_dims(nd, &C, &S);
    sngi_shape ch = sngi_shape1(C);
    sng_status st;
    if ((st = sngi_op_param(c, "gamma", &ch, SNGI_INIT_ONES, 0, C, C))) return st;
    if ((st = sngi_op_param(c, "beta", &ch, SNGI_INIT_ZEROS, 0, C, C))) return st;
    if ((st = sngi_op_state(c, "running_mean", &ch, SNGI_INIT_ZEROS))) return st;
    if ((st = sngi_op_state(c, "running_var", &ch, SNGI_INIT_ONES))) return st;
    nd->shape = nd->in_shape[0];
    nd->flops = 4.0 * (double)sngi_shape_numel(&nd->shape);
    return SNG_OK;
}

static size_t batchnorm_saved(const sngi_node *node, int n) {
    (void)n;
    return 2 * (size_t)node->in_shape[0].d[0] * sizeof(float);
}

static void batchnorm_forward(const sngi_node *node, const sngi_exec *x) {
    const batchnorm_attr *a = node->attr;
    int C, n = x->n;
    int64_t S;
    bn_dims(node, &C, &S);
    int64_t M = (int64_t)n * S;
    const float *in = x->in[0], *gamma = x->p[0], *beta = x->p[1];
    float *y = x->out, *rmean = x->p[2], *rvar = x->p[3], *saved = x->saved;
    int train = x->training && M > 0;
    double m = a->momentum;
#pragma omp parallel for if (M * C > SNG_PAR_MIN && C > 1)
    for (int c = 0; c < C; c++) {
        double mu, var;
        if (train) {
            double s = 0;
            for (int i = 0; i < n; i++) {
                const float *xc = in + ((int64_t)i * C + c) * S;
                for (int64_t k = 0; k < S; k++) s += xc[k];
            }
            mu = s / M;
            double v = 0;
            for (int i = 0; i < n; i++) {
                const float *xc = in + ((int64_t)i * C + c) * S;
                for (int64_t k = 0; k < S; k++) v += (xc[k] - mu) * (xc[k] - mu);
            }
            var = v / M;
            double unbiased = M > 1 ? v / (M - 1) : var;
            rmean[c] = (float)((1 - m) * rmean[c] + m * mu);
            rvar[c] = (float)((1 - m) * rvar[c] + m * unbiased);
        } else {
            mu = rmean[c];
            var = rvar[c];
        }
        double rstd = 1.0 / sqrt(var + a->eps);
        if (saved) {
            saved[c] = (float)mu;
            saved[C + c] = (float)rstd;
        }
        float g = (float)(gamma[c] * rstd), b = (float)(beta[c] - gamma[c] * rstd * mu);
        for (int i = 0; i < n; i++) {
            const float *xc = in + ((int64_t)i * C + c) * S;
            float *yc = y + ((int64_t)i * C + c) * S;
            for (int64_t k = 0; k < S; k++) yc[k] = g * xc[k] + b;
        }
    }
}

static void batchnorm_backward(const sngi_node *node, const sngi_exec *x) {
    int C, n = x->n;
    int64_t S;
    bn_dims(node, &C, &S);
    int64_t M = (int64_t)n * S;
    const float *in = x->in[0], *gamma = x->p[0], *dy = x->dout, *saved = x->saved;
    float *dx = x->din[0], *dgamma = x->dp[0], *dbeta = x->dp[1];
    int train = x->training;
    if (M == 0 || !saved) return;
#pragma omp parallel for if (M * C > SNG_PAR_MIN && C > 1)
    for (int c = 0; c < C; c++) {
        double mu = saved[c], rstd = saved[C + c], sdy = 0, sdyx = 0;
        for (int i = 0; i < n; i++) {
            const float *xc = in + ((int64_t)i * C + c) * S, *gc = dy + ((int64_t)i * C + c) * S;
            for (int64_t k = 0; k < S; k++) {
                sdy += gc[k];
                sdyx += gc[k] * (xc[k] - mu) * rstd;
            }
        }
        if (dgamma) dgamma[c] += (float)sdyx;
        if (dbeta) dbeta[c] += (float)sdy;
        if (!dx) continue;
        float k0 = (float)(gamma[c] * rstd);
        float mdy = train ? (float)(sdy / M) : 0.0f, mdyx = train ? (float)(sdyx / M) : 0.0f;
        float fmu = (float)mu, frstd = (float)rstd;
        for (int i = 0; i < n; i++) {
            const float *xc = in + ((int64_t)i * C + c) * S, *gc = dy + ((int64_t)i * C + c) * S;
            float *dc = dx + ((int64_t)i * C + c) * S;
            for (int64_t k = 0; k < S; k++)
                dc[k] += k0 * (gc[k] - mdy - (xc[k] - fmu) * frstd * mdyx);
        }
    }
}

const sngi_op_def sngi_op_batchnorm = {
    .name = "batchnorm",
    .n_inputs = 1,
    .flags = SNG_OP_BWD_NEEDS_IN | SNG_OP_BATCH_COUPLED,
    .attr_size = sizeof(batchnorm_attr),
    .summary = "batch normalisation per channel/feature (momentum=0.1, eps=1e-5)",
    .parse = batchnorm_parse,
    .infer = batchnorm_infer,
    .saved = batchnorm_saved,
    .forward = batchnorm_forward,
    .backward = batchnorm_backward,
};
