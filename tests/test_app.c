/*
 * test_app.c — the application layer: one preprocessing for training and serving, the settings
 * table and its checks, and feeding a model's inputs by role whatever their declaration order.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/infer.h"
#include "app/preprocess.h"
#include "app/settings.h"
#include "harness.h"
#include "loaders/loader.h"

static char data_dir[1024];

static int setup(void) {
    snprintf(data_dir, sizeof data_dir, "%s/bars", sngt_tmpdir());
    return sngt_write_bars(data_dir, 6, 6, 3);
}

/* The small embedding model; `inputs` are its <input> declarations (any order). */
static const char *model_with(const char *name, const char *inputs, const char *extra) {
    static char text[4096];
    snprintf(text, sizeof text,
             "<model name='%s'>%s"
             "<subgraph name='backbone'><input name='x'/>"
             "<conv2d name='conv1' in='x' filters='4' kernel='3' pad='same' activation='relu'/>"
             "<maxpool2d name='pool1' in='conv1' kernel='2'/>"
             "<flatten name='flat' in='pool1'/><dense name='features' in='flat' units='8'/>"
             "<output name='features'/></subgraph>"
             "<instance name='left' of='backbone' in='img_a' params='branch'/>"
             "<instance name='right' of='backbone' in='img_b' params='branch'/>"
             "<output name='left'/>%s"
             "<train optimizer='adam' lr='0.002' batch='4' steps='3' log_every='1'/>"
             "<eval pairs='20' way='2' episodes='4'/></model>",
             name, inputs, extra);
    char file[256];
    snprintf(file, sizeof file, "%s.xml", name);
    return sngt_write_file(file, text);
}

static const char contrastive[] =
    "<contrastive name='loss' in='left right same' margin='1' same_label='1'/>";

static int run_model(const char *model, const char *run, const char *more) {
    return sngt_cli_fmt("run %s --set data.source=%s --set data.split=0.5,0.25,0.25 --threads 1 "
                        "--quiet --run-dir %s/%s %s",
                        model, data_dir, sngt_tmpdir(), run, more);
}

/* Reads a float32 (1, D) .npy written by `sngraph embed` into v (D <= cap); returns D or -1. */
static int read_npy_row(const char *path, float *v, int cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    unsigned char head[10];
    int d = -1;
    if (fread(head, 1, 10, f) == 10) {
        int hl = head[8] | head[9] << 8;
        char *dict = calloc((size_t)hl + 1, 1);
        if (dict && fread(dict, 1, (size_t)hl, f) == (size_t)hl) {
            const char *sh = strstr(dict, "'shape': (1, ");
            if (sh) d = atoi(sh + 13);
            if (d < 1 || d > cap || fread(v, sizeof(float), (size_t)d, f) != (size_t)d) d = -1;
        }
        free(dict);
    }
    fclose(f);
    return d;
}

/* A model trained with data.mean/data.std: `embed` (the serving path) gives exactly the
 * embedding of the pixels training and evaluation pack for the same image. */
static void test_one_preprocessing(void) {
    const char *m = model_with("prep", "<input name='img_a' shape='1,28,28'/>"
                                       "<input name='img_b' shape='1,28,28'/>"
                                       "<input name='same' shape='1'/>", contrastive);
    CU_ASSERT_EQUAL_FATAL(run_model(m, "prep", "--set data.mean=0.4 --set data.std=0.2"), 0);
    char ckpt[1200], image[1200], npy[1200];
    snprintf(ckpt, sizeof ckpt, "%s/prep/checkpoint.tar", sngt_tmpdir());
    snprintf(image, sizeof image, "%s/c02/03.pgm", data_dir);
    snprintf(npy, sizeof npy, "%s/prep.npy", sngt_tmpdir());
    CU_ASSERT_EQUAL_FATAL(sngt_cli_fmt("embed --ckpt %s -o %s %s", ckpt, npy, image), 0);
    float served[64];
    int d = read_npy_row(npy, served, 64);
    CU_ASSERT_EQUAL_FATAL(d, 8);

    /* The training side: the dataset loader at the model's settings, packed as batches are. */
    sng_ctx *ctx = sng_ctx_new();
    sngi_model *mod = NULL;
    CU_ASSERT_EQUAL_FATAL(sngi_model_open(ctx, ckpt, 1, 1, 1, &mod), SNG_OK);
    CU_ASSERT_EQUAL(mod->prep.mean, 0.4f);
    CU_ASSERT_EQUAL(mod->prep.std, 0.2f);
    sngi_dataset_opts o;
    sngi_dataset_opts_init(&o);
    o.source = data_dir;
    o.channels = mod->prep.c, o.height = mod->prep.h, o.width = mod->prep.w;
    o.scale = mod->prep.scale, o.mean = mod->prep.mean, o.std = mod->prep.std;
    sngi_dataset *ds = NULL;
    CU_ASSERT_EQUAL_FATAL(sngi_dataset_load(ctx, &o, &ds), SNG_OK);
    int64_t idx = -1;
    for (int64_t i = 0; i < sngi_dataset_n_images(ds); i++)
        if (!strcmp(sngi_dataset_entry(ds, (int)i), "c02/03.pgm")) idx = i;
    CU_ASSERT_FATAL(idx >= 0);
    float px[28 * 28], emb[8];
    sngi_augment_pack(sngi_dataset_pixels(ds, (int)idx), 1, 28, 28, NULL, 0, o.scale, o.mean,
                     o.std, px);
    CU_ASSERT_EQUAL(sngi_model_embed(mod, px, 1, emb), SNG_OK);
    for (int k = 0; k < 8; k++) CU_ASSERT_EQUAL(emb[k], served[k]);
    /* And it is not what x/255 alone would give. */
    float raw[28 * 28], emb_raw[8];
    sngi_augment_pack(sngi_dataset_pixels(ds, (int)idx), 1, 28, 28, NULL, 0, 1 / 255.f, 0, 1, raw);
    CU_ASSERT_EQUAL(sngi_model_embed(mod, raw, 1, emb_raw), SNG_OK);
    double diff = 0;
    for (int k = 0; k < 8; k++) diff += fabs(emb_raw[k] - served[k]);
    CU_ASSERT(diff > 1e-4);
    sngi_dataset_free(ds);
    sngi_model_close(mod);
    sng_ctx_free(ctx);
}

/* The label declared first and the images after it train as well as the usual order. */
static void test_inputs_fed_by_role(void) {
    const char *m = model_with("label_first", "<input name='same' shape='1'/>"
                                              "<input name='img_b' shape='1,28,28'/>"
                                              "<input name='img_a' shape='1,28,28'/>",
                               contrastive);
    CU_ASSERT_EQUAL(run_model(m, "label_first", ""), 0);
    if (sngt_err()[0]) fprintf(stderr, "\n%s\n", sngt_err());
}

/* Models a feed cannot fill are refused before training, with the reason. */
static void test_unfeedable_models_refused(void) {
    const char *other = model_with("other_shape", "<input name='img_a' shape='1,28,28'/>"
                                                  "<input name='img_b' shape='1,28,28'/>"
                                                  "<input name='same' shape='1'/>"
                                                  "<input name='extra' shape='3,8,8'/>",
                                   "<contrastive name='loss' in='left right same' margin='1' "
                                   "same_label='1'/><flatten name='xf' in='extra'/>"
                                   "<output name='xf'/>");
    CU_ASSERT_EQUAL(run_model(other, "other", ""), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "differ in shape"));
}

/* Every key goes through the table: a typo names the closest key, in run and in eval. */
static void test_settings_table(void) {
    const char *m = model_with("typo", "<input name='img_a' shape='1,28,28'/>"
                                       "<input name='img_b' shape='1,28,28'/>"
                                       "<input name='same' shape='1'/>", contrastive);
    CU_ASSERT_EQUAL(run_model(m, "typo", "--set train.bach=3"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "did you mean 'train.batch'"));
    CU_ASSERT_EQUAL(run_model(m, "typo", "--set data.stdd=3"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "did you mean 'data.std'"));
    CU_ASSERT_EQUAL(run_model(m, "typo", "--set train.optimizer=adamm"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "one of sgd,adam,adamw"));
    CU_ASSERT_EQUAL(run_model(m, "typo", "--set train.batch=0"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "out of range"));
    CU_ASSERT_EQUAL_FATAL(run_model(m, "typo_ok", ""), 0);
    char ckpt[1200];
    snprintf(ckpt, sizeof ckpt, "%s/typo_ok/checkpoint.tar", sngt_tmpdir());
    CU_ASSERT_EQUAL(sngt_cli_fmt("eval --ckpt %s --set data.sourc=%s", ckpt, data_dir), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "did you mean 'data.source'"));
    CU_ASSERT_EQUAL(sngt_cli_fmt("eval --ckpt=%s --episodes=4 --way=2", ckpt), 0);
    /* More ways than classes: said at once, nothing sized by way x shot. */
    CU_ASSERT_EQUAL(sngt_cli_fmt("eval --ckpt=%s --way=1000 --shot=100", ckpt), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "1000-way 100-shot episodes: not enough classes"));
    /* Any namespace is checked, and a split with trailing junk is refused. */
    CU_ASSERT_EQUAL(run_model(m, "typo", "--set trian.steps=3"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "did you mean 'train.steps'"));
    CU_ASSERT_EQUAL(sngt_cli_fmt("run %s --set data.source=%s --set data.split=0.5,0.25,0.25x",
                                 m, data_dir), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "expected three fractions"));
    /* --threads stops at 8 per core (at least 64): machines under 128 cores refuse 1024. */
    if (sysconf(_SC_NPROCESSORS_ONLN) < 128) {
        CU_ASSERT_EQUAL(sngt_cli_fmt("run %s --threads 1024", m), 2);
        CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "8 per core"));
    }
    /* Every entry is well formed: a default of the right type, inside its range. */
    int n;
    const sngi_setting_def *t = sngi_settings(&n);
    CU_ASSERT(n > 40);
    for (int i = 0; i < n; i++) {
        CU_ASSERT_PTR_NOT_NULL(t[i].doc);
        CU_ASSERT_PTR_EQUAL(sngi_setting_find(t[i].key), &t[i]);
        if ((t[i].type == SNGI_SET_INT || t[i].type == SNGI_SET_REAL) && t[i].def) {
            double v = strtod(t[i].def, NULL);
            CU_ASSERT(v >= t[i].lo && v <= t[i].hi);
        }
        if (t[i].type == SNGI_SET_CHOICE) CU_ASSERT_PTR_NOT_NULL(t[i].choices);
    }
}

/* The public op list matches the `ops` command and ends where it says. */
static void test_public_op_list(void) {
    int n = sng_op_count(), found_conv = 0;
    CU_ASSERT(n >= 28);
    for (int i = 0; i < n; i++) {
        const char *summary = NULL;
        int bwd = -1;
        const char *name = sng_op_info(i, &summary, &bwd);
        CU_ASSERT_PTR_NOT_NULL_FATAL(name);
        CU_ASSERT_PTR_NOT_NULL(summary);
        CU_ASSERT(bwd == 0 || bwd == 1);
        if (!strcmp(name, "conv2d")) found_conv = bwd;
    }
    CU_ASSERT(found_conv);
    CU_ASSERT_PTR_NULL(sng_op_info(n, NULL, NULL));
    CU_ASSERT_PTR_NULL(sng_op_info(-1, NULL, NULL));
    CU_ASSERT_EQUAL(sngt_cli("ops"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "conv2d"));
}

static CU_TestInfo app_tests[] = {
    {"test_public_op_list", test_public_op_list},
    {"test_one_preprocessing", test_one_preprocessing},
    {"test_inputs_fed_by_role", test_inputs_fed_by_role},
    {"test_unfeedable_models_refused", test_unfeedable_models_refused},
    {"test_settings_table", test_settings_table},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo sngt_suites[] = {
    {"app", setup, NULL, NULL, NULL, app_tests},
    CU_SUITE_INFO_NULL,
};
