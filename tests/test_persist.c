/*
 * test_persist.c — the file formats and how they are written: galleries (bounds, locking,
 * symlinks, modes), .npy headers, checkpoint entries, run directories and write errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "app/ckpt.h"
#include "app/gallery.h"
#include "app/rundir.h"
#include "app/npy.h"
#include "harness.h"

static uint64_t fnv(const unsigned char *b, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* A gallery of one identity whose name length field says nl, with name_bytes bytes of name
 * actually present, and a valid checksum. Returns the length written into buf. */
static size_t craft_gallery(unsigned char *buf, uint16_t nl, size_t name_bytes, uint32_t dim) {
    size_t p = 0;
    memcpy(buf, "SNGGAL01", 8);
    p = 8;
    uint64_t fp = 42;
    uint32_t count = 1;
    memcpy(buf + p, &fp, 8), p += 8;
    memcpy(buf + p, &dim, 4), p += 4;
    memcpy(buf + p, &count, 4), p += 4;
    memcpy(buf + p, &nl, 2), p += 2;
    memset(buf + p, 'A', name_bytes), p += name_bytes;
    memset(buf + p, 0, dim * 4), p += dim * 4;
    uint64_t h = fnv(buf, p);
    memcpy(buf + p, &h, 8), p += 8;
    return p;
}

/* A 60,000-byte name with a valid checksum is refused naming the file and the identity (it
 * used to overflow a 1,024-byte stack buffer). */
static void test_gallery_huge_name_refused(void) {
    static unsigned char buf[70000];
    sng_ctx *ctx = sng_ctx_new();
    sngi_gallery *g = NULL;
    size_t n = craft_gallery(buf, 60000, 60000, 4);
    CU_ASSERT_EQUAL(sngi_gallery_parse(ctx, "huge.gal", buf, n, &g), SNG_ERR_DATA);
    CU_ASSERT_PTR_NULL(g);
    CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "huge.gal: identity 1 has a name of 60000"));
    /* A length field beyond the file is truncation, not a read past the end. */
    n = craft_gallery(buf, 900, 10, 4);
    CU_ASSERT_EQUAL(sngi_gallery_parse(ctx, "short.gal", buf, n, &g), SNG_ERR_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "short.gal"));
    /* 1000 bytes is the limit and loads. */
    n = craft_gallery(buf, 1000, 1000, 4);
    CU_ASSERT_EQUAL(sngi_gallery_parse(ctx, "max.gal", buf, n, &g), SNG_OK);
    CU_ASSERT(g && g->n == 1 && strlen(g->names[0]) == 1000);
    sngi_gallery_free(g);
    /* The file path goes through the same checks. */
    n = craft_gallery(buf, 60000, 60000, 4);
    char path[1200];
    snprintf(path, sizeof path, "%s/huge.gal", sngt_tmpdir());
    FILE *f = fopen(path, "wb");
    CU_ASSERT_FATAL(f && fwrite(buf, 1, n, f) == n && fclose(f) == 0);
    CU_ASSERT_EQUAL(sngi_gallery_load(ctx, path, 0, &g), SNG_ERR_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "identity 1 has a name of 60000"));
    /* Non-finite embeddings are refused. */
    n = craft_gallery(buf, 3, 3, 4);
    float nan_v = NAN;
    memcpy(buf + 26 + 3, &nan_v, 4);
    uint64_t h = fnv(buf, n - 8);
    memcpy(buf + n - 8, &h, 8);
    CU_ASSERT_EQUAL(sngi_gallery_parse(ctx, "nan.gal", buf, n, &g), SNG_ERR_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "non-finite"));
    sng_ctx_free(ctx);
}

typedef struct {
    const char *name;
    float v;
} add_arg;

static sng_status add_one(sng_ctx *ctx, sngi_gallery *g, void *arg) {
    const add_arg *a = arg;
    if (g->dim == 0) g->dim = 4, g->fingerprint = 7;
    float e[4] = {a->v, a->v, a->v, a->v};
    return sngi_gallery_add(ctx, g, a->name, e);
}

static sng_status remove_one(sng_ctx *ctx, sngi_gallery *g, void *arg) {
    return sngi_gallery_remove(ctx, g, ((const add_arg *)arg)->name);
}

/* N processes each enrol R identities, one update at a time, and remove a scratch one: every
 * acknowledged enrolment is present at the end. */
#define WRITERS 6
#define ROUNDS 8
static void test_gallery_concurrent_writers(void) {
    char path[1200];
    snprintf(path, sizeof path, "%s/busy.gal", sngt_tmpdir());
    unlink(path);
    pid_t pids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        CU_ASSERT_FATAL(pids[w] >= 0);
        if (pids[w] == 0) {
            sng_ctx *ctx = sng_ctx_new();
            int bad = 0;
            for (int r = 0; r < ROUNDS && !bad; r++) {
                char name[64], tmp[64];
                snprintf(name, sizeof name, "w%d-r%d", w, r);
                snprintf(tmp, sizeof tmp, "scratch-w%d-r%d", w, r);
                add_arg a = {name, (float)(w * 100 + r)}, t = {tmp, 0};
                bad = sngi_gallery_update(ctx, path, 1, add_one, &a) ||
                      sngi_gallery_update(ctx, path, 1, add_one, &t) ||
                      sngi_gallery_update(ctx, path, 0, remove_one, &t);
                if (bad) fprintf(stderr, "\n  writer %d: %s\n", w, sng_ctx_errmsg(ctx));
            }
            _exit(bad);
        }
    }
    for (int w = 0; w < WRITERS; w++) {
        int status;
        CU_ASSERT_EQUAL(waitpid(pids[w], &status, 0), pids[w]);
        CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    sng_ctx *ctx = sng_ctx_new();
    sngi_gallery *g = NULL;
    CU_ASSERT_EQUAL_FATAL(sngi_gallery_load(ctx, path, 0, &g), SNG_OK);
    CU_ASSERT_EQUAL(g->n, WRITERS * ROUNDS);
    for (int w = 0; w < WRITERS; w++)
        for (int r = 0; r < ROUNDS; r++) {
            char name[64];
            snprintf(name, sizeof name, "w%d-r%d", w, r);
            int i = sngi_gallery_find(g, name);
            CU_ASSERT(i >= 0 && g->emb[i * 4] == (float)(w * 100 + r));
        }
    sngi_gallery_free(g);
    sng_ctx_free(ctx);
}

/* Writing through a symlink updates its target and keeps the link; the mode is kept; a new
 * gallery gets 0666 & ~umask. */
static void test_gallery_symlink_and_mode(void) {
    char real[1200], link[1200], fresh[1200];
    snprintf(real, sizeof real, "%s/real.gal", sngt_tmpdir());
    snprintf(link, sizeof link, "%s/link.gal", sngt_tmpdir());
    snprintf(fresh, sizeof fresh, "%s/fresh.gal", sngt_tmpdir());
    unlink(real), unlink(link), unlink(fresh);
    sng_ctx *ctx = sng_ctx_new();
    add_arg a = {"alice", 1}, b = {"bob", 2};
    CU_ASSERT_EQUAL_FATAL(sngi_gallery_update(ctx, real, 1, add_one, &a), SNG_OK);
    CU_ASSERT_EQUAL(chmod(real, 0644), 0);
    CU_ASSERT_EQUAL(symlink("real.gal", link), 0);
    CU_ASSERT_EQUAL(sngi_gallery_update(ctx, link, 1, add_one, &b), SNG_OK);
    struct stat st;
    CU_ASSERT(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
    CU_ASSERT(stat(real, &st) == 0 && (st.st_mode & 07777) == 0644);
    sngi_gallery *g = NULL;
    CU_ASSERT_EQUAL_FATAL(sngi_gallery_load(ctx, real, 0, &g), SNG_OK);
    CU_ASSERT(g->n == 2 && sngi_gallery_find(g, "bob") == 1);
    sngi_gallery_free(g);
    mode_t old = umask(027);
    CU_ASSERT_EQUAL(sngi_gallery_update(ctx, fresh, 1, add_one, &a), SNG_OK);
    umask(old);
    CU_ASSERT(stat(fresh, &st) == 0 && (st.st_mode & 07777) == 0640);
    /* A dangling link: the gallery is created at its target and the link stays. */
    char dang[1200], dtarget[1200];
    snprintf(dang, sizeof dang, "%s/dangling.gal", sngt_tmpdir());
    snprintf(dtarget, sizeof dtarget, "%s/made-by-link.gal", sngt_tmpdir());
    unlink(dang), unlink(dtarget);
    CU_ASSERT_EQUAL(symlink("made-by-link.gal", dang), 0);
    CU_ASSERT_EQUAL(sngi_gallery_update(ctx, dang, 1, add_one, &a), SNG_OK);
    CU_ASSERT(lstat(dang, &st) == 0 && S_ISLNK(st.st_mode));
    CU_ASSERT(stat(dtarget, &st) == 0 && S_ISREG(st.st_mode));
    /* A FIFO is refused at once instead of blocking. */
    char fifo[1200];
    snprintf(fifo, sizeof fifo, "%s/fifo.gal", sngt_tmpdir());
    unlink(fifo);
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    CU_ASSERT_EQUAL(sngi_gallery_load(ctx, fifo, 0, &g), SNG_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "not a regular file"));
    sng_ctx_free(ctx);
}

/* ---- .npy ------------------------------------------------------------------------------- */
/* A v1.0 .npy with the given dict text (padded as numpy does) and data bytes. */
static size_t craft_npy(unsigned char *buf, const char *dict, size_t data_bytes) {
    size_t dl = strlen(dict), total = (10 + dl + 1 + 63) / 64 * 64;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)((total - 10) & 0xff);
    buf[9] = (unsigned char)((total - 10) >> 8);
    memcpy(buf + 10, dict, dl);
    memset(buf + 10 + dl, ' ', total - 10 - dl);
    buf[total - 1] = '\n';
    memset(buf + total, 0, data_bytes);
    return total + data_bytes;
}

static sng_status npy(const char *dict, size_t data_bytes, int *dims, int *nd, char *msg) {
    static unsigned char buf[8192];
    size_t n = craft_npy(buf, dict, data_bytes);
    sng_ctx *ctx = sng_ctx_new();
    const float *v;
    sng_status st = sngi_npy_parse(ctx, "x.npy", buf, n, dims, nd, &v);
    snprintf(msg, 512, "%s", sng_ctx_errmsg(ctx));
    sng_ctx_free(ctx);
    return st;
}

static void test_npy_header_is_a_dict(void) {
    int dims[SNGI_NPY_MAX_DIMS], nd;
    char msg[512];
    /* numpy's own spelling, a compact one, double quotes and key order all parse */
    CU_ASSERT_EQUAL(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24, dims,
                        &nd, msg), SNG_OK);
    CU_ASSERT(nd == 2 && dims[0] == 2 && dims[1] == 3);
    CU_ASSERT_EQUAL(npy("{'shape':(5,),'fortran_order':False,\"descr\":\"<f4\"}", 20, dims, &nd,
                        msg), SNG_OK);
    CU_ASSERT(nd == 1 && dims[0] == 5);
    CU_ASSERT_EQUAL(npy("{'descr': '<f4', 'fortran_order': False, 'shape': ()}", 4, dims, &nd,
                        msg), SNG_OK);
    CU_ASSERT_EQUAL(nd, 0);
    static const struct {
        const char *dict, *why;
        size_t bytes;
    } bad[] = {
        {"{'descr':'<f4','fortran_order':True,'shape':(2,3)}", "Fortran-order", 24},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'x': '<f4'}", "'<f4'", 24},
        {"{'descr': '>f4', 'fortran_order': False, 'shape': (3,)}", "'<f4'", 12},
        {"{'descr': '<i4', 'fortran_order': False, 'shape': (3,)}", "'<f4'", 12},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}", "unknown key", 12},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387908,)}",
         "too large", 16},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536, 65536, 65536)}",
         "too large", 16},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", "bad shape", 4},
        {"{'descr': '<f4', 'fortran_order': False}", "lacks", 4},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", "twice", 4},
        {"{'descr': '<f4', 'fortran_order': Falsey, 'shape': (1,)}", "malformed", 4},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk", "junk", 4},
        {"'descr': '<f4'", "not a dict", 4},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1)}", "too many", 4},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", "truncated", 20},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", "extra bytes", 28},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sng_status st = npy(bad[i].dict, bad[i].bytes, dims, &nd, msg);
        if (st != SNG_ERR_DATA || !strstr(msg, bad[i].why) || strncmp(msg, "x.npy: ", 7))
            fprintf(stderr, "\n  case %zu: %d '%s'\n", i, st, msg);
        CU_ASSERT_EQUAL(st, SNG_ERR_DATA);
        CU_ASSERT_PTR_NOT_NULL(strstr(msg, bad[i].why));
    }
    /* Header length beyond the file, and a version we do not know. */
    unsigned char hdr[12] = "\x93NUMPY\x01\x00\xff\x00";
    const float *v;
    sng_ctx *ctx = sng_ctx_new();
    CU_ASSERT_EQUAL(sngi_npy_parse(ctx, "x.npy", hdr, 10, dims, &nd, &v), SNG_ERR_DATA);
    hdr[6] = 9;
    CU_ASSERT_EQUAL(sngi_npy_parse(ctx, "x.npy", hdr, 10, dims, &nd, &v), SNG_ERR_DATA);
    sng_ctx_free(ctx);
}

/* The writer's header: version 1.0, data at a multiple of 64, '\n' before the data, and it reads
 * back through the parser. */
static void test_npy_writer_round_trip(void) {
    static const int shapes[][5] = {{1, 7}, {2, 3, 4}, {4, 64, 3, 3, 3}, {0}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int nd = shapes[s][0];
        const int *d = shapes[s] + 1;
        char hdr[256];
        size_t hl = sngi_npy_header(hdr, sizeof hdr, d, nd);
        CU_ASSERT(hl > 0 && hl % 64 == 0 && hdr[hl - 1] == '\n' && hdr[6] == 1 && hdr[7] == 0);
        CU_ASSERT_EQUAL((size_t)(unsigned char)hdr[8] + 256u * (unsigned char)hdr[9], hl - 10);
        char *buf = NULL;
        size_t len = 0, count = 1;
        for (int i = 0; i < nd; i++) count *= (size_t)d[i];
        float *v = calloc(count, sizeof *v);
        for (size_t i = 0; i < count; i++) v[i] = (float)i * 0.5f;
        FILE *f = open_memstream(&buf, &len);
        sng_ctx *ctx = sng_ctx_new();
        CU_ASSERT_EQUAL(sngi_npy_write(ctx, f, "m", v, d, nd), SNG_OK);
        fclose(f);
        int dims[SNGI_NPY_MAX_DIMS], gnd;
        const float *gv;
        CU_ASSERT_EQUAL_FATAL(sngi_npy_parse(ctx, "m", buf, len, dims, &gnd, &gv), SNG_OK);
        CU_ASSERT_EQUAL(gnd, nd);
        for (int i = 0; i < nd && i < gnd; i++) CU_ASSERT_EQUAL(dims[i], d[i]);
        CU_ASSERT(memcmp(gv, v, count * 4) == 0);
        if (nd == 1) CU_ASSERT_PTR_NOT_NULL(strstr(hdr + 10, "'shape': (7,), }"));
        sng_ctx_free(ctx);
        free(v);
        free(buf);
    }
}

static CU_TestInfo npy_tests[] = {
    {"test_npy_header_is_a_dict", test_npy_header_is_a_dict},
    {"test_npy_writer_round_trip", test_npy_writer_round_trip},
    CU_TEST_INFO_NULL,
};

/* ---- checkpoints -------------------------------------------------------------------------- */
static char ckpt_path[1200], ckpt_entry[2048];

/* A tar of the good checkpoint's entries with entry `drop` left out, entry `swap` given the
 * bytes (data, len) instead, and (when extra) one more entry named extra. */
static void rewrite_ckpt(const char *out, const char *swap, const void *data, size_t len,
                         const char *extra) {
    sng_ctx *ctx = sng_ctx_new();
    sngi_ckpt *c = NULL;
    CU_ASSERT_EQUAL_FATAL(sngi_ckpt_read(ctx, ckpt_path, &c), SNG_OK);
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    CU_ASSERT_EQUAL_FATAL(archive_write_open_filename(a, out), ARCHIVE_OK);
    for (int i = 0; i <= c->n; i++) {
        const char *name = i < c->n ? c->names[i] : extra;
        if (!name) continue;
        const void *d = i < c->n ? c->data[i] : "x";
        size_t n = i < c->n ? c->sizes[i] : 1;
        if (swap && !strcmp(name, swap)) d = data, n = len;
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)n);
        archive_write_header(a, e);
        archive_write_data(a, d, n);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    sngi_ckpt_free(c);
    sng_ctx_free(ctx);
}

/* Two parameters whose qualified names agree in their first 650 bytes get two entries (names
 * used to be cut at 600 bytes, so both shared one), and load back each to its own. */
static void test_ckpt_long_names_round_trip(void) {
    /* Identifiers are at most 255 bytes, but scopes nest: top/<250>/in1/<250>/<250>1/W. */
    char a[251], b[251], n[251], xml[4000];
    memset(a, 'a', 250), memset(b, 'b', 250), memset(n, 'n', 250);
    a[250] = b[250] = n[250] = 0;
    snprintf(xml, sizeof xml, "<model name='long'><input name='x' shape='3'/>"
             "<subgraph name='inner'><input name='i'/><dense name='%s1' in='i' units='2'/>"
             "<dense name='%s2' in='%s1' units='2'/><output name='%s2'/></subgraph>"
             "<subgraph name='outer'><input name='o'/>"
             "<instance name='in1' of='inner' in='o' params='%s'/><output name='in1'/></subgraph>"
             "<instance name='top' of='outer' in='x' params='%s'/><output name='top'/></model>",
             n, n, n, n, b, a);
    sng_ctx *ctx = sng_ctx_new();
    sng_graph *g;
    CU_ASSERT_EQUAL_FATAL(sng_graph_load_string(ctx, xml, strlen(xml), "long.xml", NULL, &g),
                          SNG_OK);
    sng_session_opts o;
    sng_session_opts_init(&o);
    o.batch = 1;
    o.threads = 1;
    sng_session *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sng_session_new(ctx, g, &o, &s), SNG_OK);
    int np = sngi_session_graph(s)->n_params;
    CU_ASSERT(np >= 2);
    for (int i = 0; i < np; i++)
        for (int64_t k = 0; k < sngi_shape_numel(&sngi_session_graph(s)->params[i].shape); k++)
            sngi_session_param(s, i)[k] = (float)(i * 1000 + k);
    snprintf(ckpt_path, sizeof ckpt_path, "%s/long.tar", sngt_tmpdir());
    sngi_ckpt_meta meta = {3, 1, 0.25, "sgd", NULL};
    CU_ASSERT_EQUAL_FATAL(sngi_ckpt_save(ctx, s, ckpt_path, &meta), SNG_OK);
    sngi_ckpt *c = NULL;
    CU_ASSERT_EQUAL_FATAL(sngi_ckpt_read(ctx, ckpt_path, &c), SNG_OK);
    int entries = 0;
    for (int i = 0; i < c->n; i++)
        if (!strncmp(c->names[i], "params/", 7)) {
            if (!entries) snprintf(ckpt_entry, sizeof ckpt_entry, "%s", c->names[i]);
            entries++;
        }
    size_t longest = 0;
    for (int i = 0; i < np; i++)
        if (strlen(sngi_session_graph(s)->params[i].name) > longest) longest = strlen(sngi_session_graph(s)->params[i].name);
    if (longest < 600) fprintf(stderr, "\n  note: longest parameter name %zu bytes\n", longest);
    CU_ASSERT_EQUAL(entries, np);
    for (int i = 0; i < np; i++) memset(sngi_session_param(s, i), 0, 4 * (size_t)sngi_shape_numel(&sngi_session_graph(s)->params[i].shape));
    CU_ASSERT_EQUAL(sngi_ckpt_load_params(ctx, c, ckpt_path, s, 0), SNG_OK);
    for (int i = 0; i < np; i++) CU_ASSERT_EQUAL(sngi_session_param(s, i)[1], (float)(i * 1000 + 1));
    /* A stored parameter that the model lacks is named, not dropped. */
    const char *man = sngi_ckpt_entry(c, "manifest.json", NULL);
    const char *at = strstr(man, "\"params\":[");
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    char *man2 = malloc(strlen(man) + 100);
    sprintf(man2, "%.*s{\"name\":\"ghost\",\"shape\":[1],\"trainable\":true},%s",
            (int)(at + 10 - man), man, at + 10);
    sngi_ckpt_free(c);
    char ghost[1300];
    snprintf(ghost, sizeof ghost, "%s/ghost.tar", sngt_tmpdir());
    rewrite_ckpt(ghost, "manifest.json", man2, strlen(man2), "params/ghost.npy");
    free(man2);
    CU_ASSERT_EQUAL_FATAL(sngi_ckpt_read(ctx, ghost, &c), SNG_OK);
    CU_ASSERT_EQUAL(sngi_ckpt_load_params(ctx, c, ghost, s, 0), SNG_ERR_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "entry 'params/ghost.npy' is no parameter"));
    sngi_ckpt_free(c);
    /* Only a regular file is read: a FIFO fails at once instead of blocking. */
    char fifo[1300];
    snprintf(fifo, sizeof fifo, "%s/ckpt.fifo", sngt_tmpdir());
    unlink(fifo);
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    CU_ASSERT_EQUAL(sngi_ckpt_read(ctx, fifo, &c), SNG_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "not a regular file"));
    /* A non-finite threshold is written as null, and refused on reading. */
    char nanpath[1300];
    snprintf(nanpath, sizeof nanpath, "%s/nan.tar", sngt_tmpdir());
    meta.threshold = NAN;
    CU_ASSERT_EQUAL(sngi_ckpt_save(ctx, s, nanpath, &meta), SNG_OK);
    CU_ASSERT_EQUAL(sngi_ckpt_read(ctx, nanpath, &c), SNG_ERR_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(sng_ctx_errmsg(ctx), "threshold is not a finite number"));
    sng_session_free(s);
    sng_graph_free(g);
    sng_ctx_free(ctx);
}

static sng_status read_bad(const char *name, const char *swap, const void *d, size_t n,
                           const char *extra, char *msg) {
    char path[1300];
    snprintf(path, sizeof path, "%s/%s", sngt_tmpdir(), name);
    rewrite_ckpt(path, swap, d, n, extra);
    sng_ctx *ctx = sng_ctx_new();
    sngi_ckpt *c = NULL;
    sng_status st = sngi_ckpt_read(ctx, path, &c);
    snprintf(msg, 1024, "%s", sng_ctx_errmsg(ctx));
    sngi_ckpt_free(c);
    sng_ctx_free(ctx);
    return st;
}

/* Entries are bounded by the manifest before they are read; unknown entries and bad thresholds
 * are refused naming the entry. */
static void test_ckpt_bad_entries(void) {
    if (!*ckpt_path) return; /* needs the round-trip test's checkpoint */
    char msg[1024];
    const char *entry = ckpt_entry;
    static char big[1 << 20];
    CU_ASSERT_EQUAL(read_bad("big.tar", entry, big, sizeof big, NULL, msg), SNG_ERR_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "has a bad type or size (1048576 bytes, at most"));
    CU_ASSERT_EQUAL(read_bad("junk.tar", NULL, NULL, 0, "junk.bin", msg), SNG_ERR_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "unexpected entry 'junk.bin'"));
    CU_ASSERT_EQUAL(read_bad("unk.tar", NULL, NULL, 0, "params/nobody.npy", msg), SNG_ERR_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "unexpected entry 'params/nobody.npy'"));
    static const char *const manifests[] = {
        "{\"step\":1,\"threshold\":nan,\"params\":[]}",
        "{\"step\":1,\"threshold\":inf,\"params\":[]}",
        "{\"step\":-1,\"threshold\":0.5,\"params\":[]}",
        "{\"step\":1,\"threshold\":0.5}",
        "{\"step\":1,\"params\":[{\"name\":\"x\",\"shape\":[99999999999]}]}",
        /* Each tensor is legal, the total is not: 4 x 2^30 floats = 16 GiB. */
        "{\"step\":1,\"params\":[{\"name\":\"a\",\"shape\":[1073741824]},"
        "{\"name\":\"b\",\"shape\":[1073741824]},{\"name\":\"c\",\"shape\":[32768,32768]},"
        "{\"name\":\"d\",\"shape\":[1073741824]}]}",
        /* Within the total alone, over it with two optimiser slots. */
        "{\"step\":1,\"opt_slots\":2,\"params\":[{\"name\":\"a\",\"shape\":[1073741824]}]}",
    };
    static const char *const why[] = {"threshold", "threshold", "bad step", "parameter list",
                                      "parameter list", "more than the 2147483648",
                                      "with 2 optimiser slots"};
    for (int i = 0; i < 7; i++) {
        CU_ASSERT_EQUAL(read_bad("man.tar", "manifest.json", manifests[i], strlen(manifests[i]),
                                 NULL, msg), SNG_ERR_DATA);
        if (!strstr(msg, why[i])) fprintf(stderr, "\n  manifest %d: %s\n", i, msg);
        CU_ASSERT_PTR_NOT_NULL(strstr(msg, why[i]));
    }
    /* A parameter entry within its bound but not a valid .npy: named when loading. */
    CU_ASSERT_EQUAL(read_bad("short.tar", entry, "\x93NUMPY\x01\x00\x10\x00{}", 12, NULL, msg),
                    SNG_OK);
}

static CU_TestInfo ckpt_tests[] = {
    {"test_ckpt_long_names_round_trip", test_ckpt_long_names_round_trip},
    {"test_ckpt_bad_entries", test_ckpt_bad_entries},
    CU_TEST_INFO_NULL,
};

/* ---- run directories and write errors ---------------------------------------------------- */
/* Two runs of one model in the same second get base and base-2; racing processes each get
 * their own. */
#define RACERS 5
static void test_rundir_exclusive(void) {
    char parent[1200], out[1400], out2[1400];
    snprintf(parent, sizeof parent, "%s/runs", sngt_tmpdir());
    sng_ctx *ctx = sng_ctx_new();
    CU_ASSERT_EQUAL(sngi_rundir_create(ctx, parent, "m-20260101-000000", out, sizeof out), SNG_OK);
    CU_ASSERT_EQUAL(sngi_rundir_create(ctx, parent, "m-20260101-000000", out2, sizeof out2),
                    SNG_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(out2, "m-20260101-000000-2"));
    int fds[2];
    CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
    for (int k = 0; k < RACERS; k++)
        if (fork() == 0) {
            char o[1400];
            sng_status st = sngi_rundir_create(ctx, parent, "race", o, sizeof o);
            char line[1500];
            int n = snprintf(line, sizeof line, "%s\n", st ? "FAIL" : o);
            _exit(write(fds[1], line, (size_t)n) != n);
        }
    close(fds[1]);
    for (int k = 0; k < RACERS; k++) wait(NULL);
    char all[8192];
    ssize_t n = 0, r;
    while ((r = read(fds[0], all + n, sizeof all - 1 - (size_t)n)) > 0) n += r;
    close(fds[0]);
    all[n] = 0;
    CU_ASSERT_PTR_NULL(strstr(all, "FAIL"));
    /* race, race-2 .. race-5, each handed out once */
    int count = 0;
    for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) count++;
    CU_ASSERT_EQUAL(count, RACERS);
    for (int k = 1; k <= RACERS; k++) {
        char d[1400];
        if (k == 1) snprintf(d, sizeof d, "%s/race", parent);
        else snprintf(d, sizeof d, "%s/race-%d", parent, k);
        struct stat st;
        CU_ASSERT(stat(d, &st) == 0 && S_ISDIR(st.st_mode));
    }
    sng_ctx_free(ctx);
}

static char data_dir[1200], model[1200];

static int run_setup(void) {
    snprintf(data_dir, sizeof data_dir, "%s/bars", sngt_tmpdir());
    if (sngt_write_bars(data_dir, 6, 6, 3)) return -1;
    snprintf(model, sizeof model, "%s",
             sngt_write_file("tiny.xml",
                 "<model name='tiny'><input name='img_a' shape='1,28,28'/>"
                 "<input name='img_b' shape='1,28,28'/><input name='same' shape='1'/>"
                 "<subgraph name='bb'><input name='x'/><flatten name='f' in='x'/>"
                 "<dense name='d' in='f' units='8'/><output name='d'/></subgraph>"
                 "<instance name='left' of='bb' in='img_a' params='branch'/>"
                 "<instance name='right' of='bb' in='img_b' params='branch'/>"
                 "<output name='left'/>"
                 "<contrastive name='loss' in='left right same' margin='1' same_label='1'/>"
                 "</model>"));
    return 0;
}

#define RUN_SETTINGS \
    "--set data.source=%s --set data.val.classes=c00,c01 --set data.test.classes=c02,c03 " \
    "--set train.batch=4 --set train.steps=3 --set train.log_every=1 --set eval.pairs=8 " \
    "--set eval.episodes=0 --threads 1 --quiet"

/* One output of a run (metrics.jsonl, report.txt or report.svg) on a full disk: exit 1 naming
 * the file. A lost log stops training at once; a lost report comes after the final checkpoint,
 * which is still written. */
static void full_disk_run(const char *file, int want_ckpt) {
    char dir[1300], link[1500], ck[1500];
    snprintf(dir, sizeof dir, "%s/full-%s", sngt_tmpdir(), file);
    mkdir(dir, 0777);
    snprintf(link, sizeof link, "%s/%s", dir, file);
    snprintf(ck, sizeof ck, "%s/checkpoint.tar", dir);
    unlink(link);
    CU_ASSERT_EQUAL_FATAL(symlink("/dev/full", link), 0);
    int rc = sngt_cli_fmt("run %s " RUN_SETTINGS " --run-dir %s", model, data_dir, dir);
    char want[200];
    snprintf(want, sizeof want, "%s: write failed", file);
    if (rc != 1 || !strstr(sngt_err(), want)) fprintf(stderr, "\n  %s: rc %d: %s\n", file, rc, sngt_err());
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), want));
    struct stat st;
    CU_ASSERT_EQUAL(stat(ck, &st) == 0, want_ckpt);
}

static void test_run_write_errors(void) {
    if (access("/dev/full", W_OK) != 0) {
        sngt_skip("no /dev/full");
        return;
    }
    char dir[1300];
    snprintf(dir, sizeof dir, "%s/okrun", sngt_tmpdir());
    CU_ASSERT_EQUAL(sngt_cli_fmt("run %s " RUN_SETTINGS " --run-dir %s", model, data_dir, dir), 0);
    if (sngt_err()[0]) fprintf(stderr, "\n  %s\n", sngt_err());
    full_disk_run("metrics.jsonl", 0);
    full_disk_run("report.txt", 1);
    full_disk_run("report.svg", 1);
    CU_ASSERT_EQUAL(sngt_cli_fmt("plan --svg /dev/full %s", model), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "/dev/full: cannot write"));
    /* Standard output on a full disk fails the command too. */
    const char *bin = getenv("SNG_BIN");
    if (bin) {
        char cmd[2600];
        snprintf(cmd, sizeof cmd, "'%s' gallery list '%s/okrun/none.gal' 2>/dev/null; "
                 "'%s' --version > /dev/full 2>/dev/null", bin, sngt_tmpdir(), bin);
        int status = system(cmd);
        CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    }
}

/* JSON strings: quotes, backslashes and control characters escaped, bytes that are not UTF-8
 * replaced, valid UTF-8 kept; compare --json escapes its paths. */
static void test_json_strings_escaped(void) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sngi_json_str(f, "a\"b\\c\x01\x7f\xff\xc3\xa9\xed\xa0\x80\xc3");
    fclose(f);
    CU_ASSERT_STRING_EQUAL(buf, "\"a\\\"b\\\\c\\u0001\\u007f\\ufffd\xc3\xa9\\ufffd\\ufffd\\ufffd"
                                "\\ufffd\"");
    free(buf);
    char dir[1300], img[1400], odd[1400];
    snprintf(dir, sizeof dir, "%s/okrun", sngt_tmpdir());
    snprintf(img, sizeof img, "%s/c04/00.pgm", data_dir);
    snprintf(odd, sizeof odd, "%s/q\"b\\s\x01.pgm", sngt_tmpdir());
    unlink(odd);
    CU_ASSERT_EQUAL_FATAL(link(img, odd), 0);
    CU_ASSERT_EQUAL(sngt_cli_fmt("compare --json --ckpt %s/checkpoint.tar %s %s", dir, odd, img),
                    0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "/q\\\"b\\\\s\\u0001.pgm\",\"b\":"));
}

/* A loss named like a key of the log line ("lr") is logged inside "losses", so no line has a
 * duplicate key. */
static void test_metrics_loss_named_lr(void) {
    FILE *mf = fopen(model, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mf);
    char text[4096], dir[1300], path[1400], line[4096];
    text[fread(text, 1, sizeof text - 1, mf)] = 0;
    fclose(mf);
    char *l = strstr(text, "name='loss'");
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    memcpy(l, "name='lr'  ", 11);
    const char *m2 = sngt_write_file("lr.xml", text);
    snprintf(dir, sizeof dir, "%s/lrrun", sngt_tmpdir());
    CU_ASSERT_EQUAL_FATAL(sngt_cli_fmt("run %s " RUN_SETTINGS " --run-dir %s", m2, data_dir, dir),
                          0);
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    FILE *f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fgets(line, sizeof line, f));
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, ",\"losses\":{\"lr\":"));
    int n = 0;
    for (const char *q = line; (q = strstr(q, "\"lr\":")); q++) n++;
    CU_ASSERT_EQUAL(n, 2); /* one inside "losses", one at the top */
}

/* The case through the program: concurrent `gallery add` processes on one gallery
 * reached through a symlink; every acknowledged enrolment is there, the link and mode kept. */
static void test_cli_concurrent_gallery_add(void) {
    const char *bin = getenv("SNG_BIN");
    if (!bin) {
        sngt_skip("SNG_BIN not set");
        return;
    }
    char cmd[8192], real[1300], link[1300];
    snprintf(real, sizeof real, "%s/cli-real.gal", sngt_tmpdir());
    snprintf(link, sizeof link, "%s/cli-link.gal", sngt_tmpdir());
    unlink(real), unlink(link);
    CU_ASSERT_EQUAL_FATAL(symlink(real, link), 0);
    /* Each writer enrols three people, one `gallery add` each, and prints "ok NAME" after
     * every success: the acknowledged ones. */
    snprintf(cmd, sizeof cmd,
             "cd '%s' && for w in 1 2 3 4; do (for r in 1 2 3; do '%s' gallery add --ckpt "
             "okrun/checkpoint.tar cli-link.gal p$w-$r bars/c0$r/0$w.pgm >/dev/null && echo "
             "ok p$w-$r; done) & done > acks.txt; wait; chmod 644 cli-real.gal",
             sngt_tmpdir(), bin);
    CU_ASSERT_EQUAL(system(cmd), 0);
    char acks[1300];
    snprintf(acks, sizeof acks, "%s/acks.txt", sngt_tmpdir());
    FILE *f = fopen(acks, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    sng_ctx *ctx = sng_ctx_new();
    sngi_gallery *g = NULL;
    CU_ASSERT_EQUAL_FATAL(sngi_gallery_load(ctx, real, 0, &g), SNG_OK);
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        CU_ASSERT(sngi_gallery_find(g, line + 3) >= 0);
        n++;
    }
    fclose(f);
    CU_ASSERT_EQUAL(n, 12);
    CU_ASSERT_EQUAL(g->n, 12);
    sngi_gallery_free(g);
    struct stat st;
    CU_ASSERT(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
    /* One more add keeps the 0644 set above. */
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' gallery add --ckpt okrun/checkpoint.tar "
             "cli-link.gal last bars/c01/00.pgm >/dev/null", sngt_tmpdir(), bin);
    CU_ASSERT_EQUAL(system(cmd), 0);
    CU_ASSERT(stat(real, &st) == 0 && (st.st_mode & 07777) == 0644);
    sng_ctx_free(ctx);
}

static CU_TestInfo run_tests[] = {
    {"test_rundir_exclusive", test_rundir_exclusive},
    {"test_run_write_errors", test_run_write_errors},
    {"test_json_strings_escaped", test_json_strings_escaped},
    {"test_metrics_loss_named_lr", test_metrics_loss_named_lr},
    {"test_cli_concurrent_gallery_add", test_cli_concurrent_gallery_add},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo gallery_tests[] = {
    {"test_gallery_huge_name_refused", test_gallery_huge_name_refused},
    {"test_gallery_concurrent_writers", test_gallery_concurrent_writers},
    {"test_gallery_symlink_and_mode", test_gallery_symlink_and_mode},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo sngt_suites[] = {
    {"gallery", NULL, NULL, NULL, NULL, gallery_tests},
    {"npy", NULL, NULL, NULL, NULL, npy_tests},
    {"ckpt", NULL, NULL, NULL, NULL, ckpt_tests},
    {"run", run_setup, NULL, NULL, NULL, run_tests},
    CU_SUITE_INFO_NULL,
};
