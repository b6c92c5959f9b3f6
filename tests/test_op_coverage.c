/*
 * test_op_coverage.c — every op in the registry has a forward reference test and a gradient
 * check, or a stated reason why it needs none. The table below names, for each op, the test
 * functions (file:function) that cover it; the test walks the registry, fails naming each op
 * without an entry, and reads the named functions from the test sources to confirm that they
 * exist, that they build a model with the op and that the gradient test runs sngt_gradcheck.
 * Adding an op means adding its tests and one line here (doc/adding-an-op.md).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ops/op.h"

typedef struct {
    const char *op;
    const char *forward;  /* "file.c:function" checking the forward against a reference */
    const char *gradient; /* "file.c:function" running sngt_gradcheck through the op */
    const char *why_none; /* why forward or gradient is NULL (only where the op has none) */
} op_cover;

static const op_cover covers[] = {
    {"input", NULL, NULL, "a graph input: no forward (the caller fills it), no backward"},
    {"stop_gradient", "test_ops_elem.c:test_ops_elem_unary_forward", NULL,
     "passes no gradient by design (SNG_OP_NO_GRAD); test_ops_elem_stop_gradient checks that"},
    {"conv2d", "test_ops_spatial.c:test_conv2d_forward_reference",
     "test_ops_spatial.c:test_conv2d_gradcheck", NULL},
    {"maxpool2d", "test_ops_spatial.c:test_maxpool2d_reference",
     "test_ops_spatial.c:test_pool_gradcheck", NULL},
    {"avgpool2d", "test_ops_spatial.c:test_avgpool2d_reference",
     "test_ops_spatial.c:test_pool_gradcheck", NULL},
    {"global_avgpool", "test_ops_spatial.c:test_global_avgpool",
     "test_ops_spatial.c:test_global_avgpool", NULL},
    {"dense", "test_ops_elem.c:test_ops_elem_dense_forward", "test_exec.c:test_exec_dense_gradcheck",
     NULL},
    {"flatten", "test_ops_spatial.c:test_flatten_reshape", "test_ops_spatial.c:test_flatten_reshape",
     NULL},
    {"reshape", "test_ops_spatial.c:test_flatten_reshape", "test_ops_spatial.c:test_flatten_reshape",
     NULL},
    {"relu", "test_ops_elem.c:test_ops_elem_unary_forward", "test_ops_elem.c:test_ops_elem_grad_unary",
     NULL},
    {"leaky_relu", "test_ops_elem.c:test_ops_elem_unary_forward",
     "test_ops_elem.c:test_ops_elem_grad_unary", NULL},
    {"sigmoid", "test_ops_elem.c:test_ops_elem_unary_forward",
     "test_ops_elem.c:test_ops_elem_grad_unary", NULL},
    {"tanh", "test_ops_elem.c:test_ops_elem_unary_forward", "test_ops_elem.c:test_ops_elem_grad_unary",
     NULL},
    {"add", "test_ops_elem.c:test_ops_elem_binary_forward",
     "test_ops_elem.c:test_ops_elem_grad_binary", NULL},
    {"sub", "test_ops_elem.c:test_ops_elem_binary_forward",
     "test_ops_elem.c:test_ops_elem_grad_binary", NULL},
    {"mul", "test_ops_elem.c:test_ops_elem_binary_forward",
     "test_ops_elem.c:test_ops_elem_grad_binary", NULL},
    {"absdiff", "test_ops_elem.c:test_ops_elem_binary_forward",
     "test_ops_elem.c:test_ops_elem_grad_binary", NULL},
    {"scale", "test_ops_elem.c:test_ops_elem_unary_forward", "test_ops_elem.c:test_ops_elem_grad_unary",
     NULL},
    {"concat", "test_ops_elem.c:test_ops_elem_concat_forward",
     "test_ops_elem.c:test_ops_elem_grad_binary", NULL},
    {"l2_distance", "test_ops_elem.c:test_ops_elem_distance_forward",
     "test_ops_elem.c:test_ops_elem_grad_distance", NULL},
    {"cosine_similarity", "test_ops_elem.c:test_ops_elem_distance_forward",
     "test_ops_elem.c:test_ops_elem_grad_distance", NULL},
    {"batchnorm", "test_ops_elem.c:test_ops_elem_batchnorm_training",
     "test_ops_elem.c:test_ops_elem_grad_batchnorm", NULL},
    {"dropout", "test_ops_elem.c:test_ops_elem_dropout", "test_ops_elem.c:test_ops_elem_grad_unary",
     NULL},
    {"contrastive", "test_ops_elem.c:test_ops_elem_contrastive_forward",
     "test_ops_elem.c:test_ops_elem_grad_losses", NULL},
    {"bce", "test_ops_elem.c:test_ops_elem_bce_forward", "test_ops_elem.c:test_ops_elem_grad_losses",
     NULL},
    {"bce_with_logits", "test_ops_elem.c:test_ops_elem_bce_forward",
     "test_ops_elem.c:test_ops_elem_grad_losses", NULL},
    {"triplet", "test_ops_elem.c:test_ops_elem_triplet_mse_forward",
     "test_ops_elem.c:test_ops_elem_grad_losses", NULL},
    {"mse", "test_ops_elem.c:test_ops_elem_triplet_mse_forward",
     "test_ops_elem.c:test_ops_elem_grad_losses", NULL},
};
#define N_COVERS (sizeof covers / sizeof *covers)

static const op_cover *find_cover(const char *op) {
    for (size_t i = 0; i < N_COVERS; i++)
        if (strcmp(covers[i].op, op) == 0) return &covers[i];
    return NULL;
}

/* The text of test function `fn` in tests/`file` (signature to closing brace), malloc'd, or
 * NULL when the file or the function is missing. */
static char *function_text(const char *file, const char *fn) {
    char path[1024], sig[256];
    snprintf(path, sizeof path, "%s/%s", sngt_srcdir(), file);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *src = NULL;
    size_t len = 0, cap = 0, got;
    char buf[8192];
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + got + 1 > cap) {
            cap = 2 * (len + got + 1);
            src = realloc(src, cap);
        }
        memcpy(src + len, buf, got);
        len += got;
    }
    fclose(f);
    if (!src) return NULL;
    src[len] = 0;
    snprintf(sig, sizeof sig, "static void %s(void) {", fn);
    char *a = strstr(src, sig), *b = a ? strstr(a, "\n}\n") : NULL;
    char *out = NULL;
    if (b) {
        out = malloc((size_t)(b - a) + 3);
        memcpy(out, a, (size_t)(b - a) + 2);
        out[b - a + 2] = 0;
    }
    free(src);
    return out;
}

static int ident(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* Does text name op as a whole word (an element, attribute value or string), or as the
 * "test_<op>_..." part of the function name? "relu" does not match inside "leaky_relu". */
static int mentions(const char *text, const char *op) {
    size_t n = strlen(op);
    for (const char *p = strstr(text, op); p; p = strstr(p + 1, op)) {
        int pre = p == text || !ident(p[-1]) || (p - text >= 5 && !strncmp(p - 5, "test_", 5));
        if (pre && !isalnum((unsigned char)p[n]) && (p[n] != '_' || (p > text && p[-1] == '_'))) return 1;
    }
    return 0;
}

/* Checks one "file:function" reference for op; `need` is a string its text must contain. */
static int check_ref(const char *op, const char *kind, const char *ref, const char *need) {
    char file[256];
    const char *colon = strchr(ref, ':');
    if (!colon || (size_t)(colon - ref) >= sizeof file) {
        fprintf(stderr, "\n  op '%s': %s test '%s' is not file.c:function\n", op, kind, ref);
        return 1;
    }
    memcpy(file, ref, (size_t)(colon - ref));
    file[colon - ref] = 0;
    char *text = function_text(file, colon + 1);
    int bad = 0;
    if (!text) {
        fprintf(stderr, "\n  op '%s': %s test %s not found in tests/%s\n", op, kind, colon + 1, file);
        bad = 1;
    } else if (!mentions(text, op)) {
        fprintf(stderr, "\n  op '%s': %s test %s does not use the op\n", op, kind, ref);
        bad = 1;
    } else if (need && !strstr(text, need)) {
        fprintf(stderr, "\n  op '%s': %s test %s does not call %s\n", op, kind, ref, need);
        bad = 1;
    }
    free(text);
    return bad;
}

static void test_every_op_is_covered(void) {
    int n, bad = 0;
    const sngi_op_def *const *ops = sngi_op_all(&n);
    for (int i = 0; i < n; i++) {
        const sngi_op_def *op = ops[i];
        const op_cover *c = find_cover(op->name);
        if (!c) {
            fprintf(stderr, "\n  op '%s' has no entry in tests/test_op_coverage.c: it needs a "
                            "forward reference test and a gradient check\n", op->name);
            bad++;
            continue;
        }
        int grad_by_design = !op->backward || (op->flags & SNG_OP_NO_GRAD);
        if (c->forward)
            bad += check_ref(op->name, "forward", c->forward, NULL);
        else if (!c->why_none || op->forward) {
            fprintf(stderr, "\n  op '%s' has no forward reference test\n", op->name);
            bad++;
        }
        if (c->gradient)
            bad += check_ref(op->name, "gradient", c->gradient, "sngt_gradcheck");
        else if (!c->why_none || !grad_by_design) {
            fprintf(stderr, "\n  op '%s' has no gradient check%s\n", op->name,
                    grad_by_design ? "" : " (it has a backward, so it needs one)");
            bad++;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
}

/* Entries for ops that no longer exist would hide a renamed op. */
static void test_no_stale_entries(void) {
    int bad = 0;
    for (size_t i = 0; i < N_COVERS; i++)
        if (!sngi_op_find(covers[i].op)) {
            fprintf(stderr, "\n  tests/test_op_coverage.c names '%s', which is not in the "
                            "registry\n", covers[i].op);
            bad++;
        }
    CU_ASSERT_EQUAL(bad, 0);
}

static CU_TestInfo tests[] = {
    {"every_op_is_covered", test_every_op_is_covered},
    {"no_stale_entries", test_no_stale_entries},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo sngt_suites[] = {{"op_coverage", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
