/*
 * test_train.c — learning end to end, then one-shot use of what was learnt, on generated data:
 * 16 classes of 28x28 grey images (each class a bar at its own angle and offset, with noise and
 * jitter) written as PGM files in class folders. `sngraph run` trains the small Siamese model on
 * 12 classes and must separate pairs of unseen ones well above chance; the checkpoint then
 * drives compare, embed, the gallery and identify. Also checkpoint and gallery failure modes.
 */
#include <archive.h>
#include <archive_entry.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "app/ckpt.h"
#include "app/gallery.h"
#include "harness.h"

static char data_dir[1024], run_dir[1024], ckpt[1200], model[1024];


static int setup(void) {
    snprintf(data_dir, sizeof data_dir, "%s/bars", sngt_tmpdir());
    if (sngt_write_bars(data_dir, 16, 20, 7)) return -1;
    snprintf(run_dir, sizeof run_dir, "%s/run", sngt_tmpdir());
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.tar", run_dir);
    /* The small backbone trained with the contrastive loss alone; pairs are scored by the
     * embedding distance (a learnt head on top of |e1 - e2| fits the training classes but does
     * not reliably rank pairs of unseen ones after a few hundred steps). */
    snprintf(model, sizeof model, "%s",
             sngt_write_file("emb_small.xml",
                 "<model name='emb_small'>"
                 "<input name='img_a' shape='1,28,28'/><input name='img_b' shape='1,28,28'/>"
                 "<input name='same' shape='1'/>"
                 "<subgraph name='backbone'><input name='x'/>"
                 "<conv2d name='conv1' in='x' filters='8' kernel='3' pad='same' activation='relu'/>"
                 "<maxpool2d name='pool1' in='conv1' kernel='2'/>"
                 "<conv2d name='conv2' in='pool1' filters='16' kernel='3' pad='same' activation='relu'/>"
                 "<maxpool2d name='pool2' in='conv2' kernel='2'/>"
                 "<flatten name='flat' in='pool2'/><dense name='features' in='flat' units='32'/>"
                 "<output name='features'/></subgraph>"
                 "<instance name='left' of='backbone' in='img_a' params='branch'/>"
                 "<instance name='right' of='backbone' in='img_b' params='branch'/>"
                 "<output name='left'/>"
                 "<contrastive name='loss_c' in='left right same' margin='1' same_label='1'/>"
                 "</model>"));
    return 0;
}

static int run_cli(const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = sngt_cli(cmd);
    if (rc) fprintf(stderr, "\n  `%s` -> %d\n  %s\n", cmd, rc, sngt_err());
    return rc;
}

static double json_num(const char *text, const char *key) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(text, pat);
    return p ? strtod(p + strlen(pat), NULL) : NAN;
}

static size_t slurp(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* Writes a tar of (name, bytes, length) entries; n entries. */
static void write_tar(const char *path, const char *const *names, const void *const *data,
                      const size_t *len, int n) {
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    CU_ASSERT_EQUAL_FATAL(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (int i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, names[i]);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)len[i]);
        archive_write_header(a, e);
        archive_write_data(a, data[i], len[i]);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

/* Validate on c03,c12, test on c05,c10 (unseen), train on the other 12. */
#define TRAIN_SETTINGS \
    "--set data.source=%s --set data.val.classes=c03,c12 --set data.test.classes=c05,c10 " \
    "--set train.batch=16 --set train.optimizer=adam --set train.lr=0.002 " \
    "--set eval.pairs=400 --set eval.way=2 --set eval.episodes=100 --set train.log_every=20 " \
    "--threads 2 --quiet"

static void test_train_learns_unseen_classes(void) {
    CU_ASSERT_EQUAL_FATAL(run_cli("run %s " TRAIN_SETTINGS " --set train.steps=300 --run-dir %s",
                                  model, data_dir, run_dir), 0);
    char path[1300];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run_dir);
    FILE *f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[2048], last_test[2048] = "";
    double first = NAN, last = NAN;
    while (fgets(line, sizeof line, f)) {
        double l = json_num(line, "loss");
        if (!isnan(l) && !strstr(line, "\"test\"") && !strstr(line, "\"val\"")) {
            if (isnan(first)) first = l;
            last = l;
        }
        if (strstr(line, "\"test\"")) snprintf(last_test, sizeof last_test, "%s", line);
    }
    fclose(f);
    fprintf(stdout, "\n  loss %.4f -> %.4f; test %s", first, last, last_test);
    CU_ASSERT(last < 0.7 * first);
    double auc = json_num(last_test, "auc"), acc = json_num(last_test, "accuracy");
    CU_ASSERT(auc > 0.8);      /* chance is 0.5 */
    CU_ASSERT(acc > 0.7);      /* chance is 0.5 */
    struct stat st;
    CU_ASSERT_EQUAL(stat(ckpt, &st), 0);
    snprintf(path, sizeof path, "%s/report.svg", run_dir);
    CU_ASSERT_EQUAL(stat(path, &st), 0);
}

static void test_train_resume_is_exact(void) {
    /* 40 steps at once vs 20 + resume 20: the same final parameters, bit for bit. */
    char a[1300], b[1300];
    snprintf(a, sizeof a, "%s/ra", sngt_tmpdir());
    snprintf(b, sizeof b, "%s/rb", sngt_tmpdir());
    CU_ASSERT_EQUAL_FATAL(run_cli("run %s " TRAIN_SETTINGS " --set train.steps=40 --set "
                                  "eval.episodes=0 --run-dir %s",
                                  model, data_dir, a), 0);
    CU_ASSERT_EQUAL_FATAL(run_cli("run %s " TRAIN_SETTINGS " --set train.steps=20 --set "
                                  "eval.episodes=0 --run-dir %s",
                                  model, data_dir, b), 0);
    CU_ASSERT_EQUAL_FATAL(run_cli("run %s " TRAIN_SETTINGS " --set train.steps=40 --set "
                                  "eval.episodes=0 --resume %s",
                                  model, data_dir, b), 0);
    sng_ctx *ctx = sng_ctx_new();
    sngi_ckpt *ca, *cb;
    char pa[1400], pb[1400];
    snprintf(pa, sizeof pa, "%s/checkpoint.tar", a);
    snprintf(pb, sizeof pb, "%s/checkpoint.tar", b);
    CU_ASSERT_EQUAL_FATAL(sngi_ckpt_read(ctx, pa, &ca), SNG_OK);
    CU_ASSERT_EQUAL_FATAL(sngi_ckpt_read(ctx, pb, &cb), SNG_OK);
    int compared = 0;
    for (int i = 0; i < ca->n; i++) {
        if (strncmp(ca->names[i], "params/", 7) && strncmp(ca->names[i], "optim/", 6)) continue;
        size_t lb;
        const void *d = sngi_ckpt_entry(cb, ca->names[i], &lb);
        CU_ASSERT_PTR_NOT_NULL(d);
        if (d) CU_ASSERT(lb == ca->sizes[i] && memcmp(d, ca->data[i], lb) == 0);
        compared++;
    }
    CU_ASSERT(compared >= 7); /* 6 parameters + optimiser state */
    CU_ASSERT_EQUAL(sngi_ckpt_num(cb, "step", 0), 40);
    sngi_ckpt_free(ca);
    sngi_ckpt_free(cb);
    sng_ctx_free(ctx);
}

static void test_train_bad_checkpoints(void) {
    /* Truncated checkpoint: clear error naming it. */
    char bad[1300];
    snprintf(bad, sizeof bad, "%s/trunc.tar", sngt_tmpdir());
    FILE *in = fopen(ckpt, "rb"), *out = fopen(bad, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(in);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf, in);
    fwrite(buf, 1, n / 2, out);
    fclose(in);
    fclose(out);
    CU_ASSERT_EQUAL(sngt_cli_fmt("ckpt info %s", bad), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "trunc.tar"));
    /* A checkpoint resumed by a model whose layer has another size: the parameter is named. */
    char *xml = strdup(sngt_write_file("other.xml", ""));
    FILE *mf = fopen(model, "r");
    char text[8192];
    size_t tl = fread(text, 1, sizeof text - 1, mf);
    fclose(mf);
    text[tl] = 0;
    char *u = strstr(text, "units='32'");
    CU_ASSERT_PTR_NOT_NULL_FATAL(u);
    memcpy(u, "units='24'", 10);
    FILE *of = fopen(xml, "w");
    fputs(text, of);
    fclose(of);
    CU_ASSERT_EQUAL(sngt_cli_fmt("run %s --set data.source=%s --set train.steps=5 --quiet --resume %s",
                                 xml, data_dir, run_dir), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "parameter 'branch/features/W' has shape (32,784) in "
                                              "the checkpoint but (24,784) in the model"));
    free(xml);
}

/* Runs `sh -c cmd` with writes limited to `limit` bytes per file and SIGXFSZ ignored (kept
 * across exec), so writes past it fail with EFBIG as on a full disk; its stderr goes to msg.
 * Children exec: libgomp is not fork-safe once the parent used OpenMP. Returns the exit status,
 * or -1 when it did not exit normally. */
static int run_disk_full(const char *cmd, long limit, char *msg, size_t n) {
    int fds[2];
    if (pipe(fds)) return -1; /* a pipe: RLIMIT_FSIZE does not cut it short */
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {(rlim_t)limit, (rlim_t)limit};
        setrlimit(RLIMIT_FSIZE, &rl);
        dup2(fds[1], 2);
        close(fds[0]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(99);
    }
    close(fds[1]);
    size_t k = 0;
    ssize_t got;
    while (k < n - 1 && (got = read(fds[0], msg + k, n - 1 - k)) > 0) k += (size_t)got;
    msg[k] = 0;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A full disk while a checkpoint is written (RLIMIT_FSIZE with SIGXFSZ ignored: writes fail
 * with EFBIG): a clear message, exit 1, and the previous checkpoint byte for byte as it was. */
static void test_train_full_disk_keeps_checkpoint(void) {
    const char *bin = getenv("SNG_BIN");
    if (!bin) {
        sngt_skip("SNG_BIN not set: the full-disk test needs the sngraph program");
        return;
    }
    char dir[1300], path[1400];
    snprintf(dir, sizeof dir, "%s/rfull", sngt_tmpdir());
    snprintf(path, sizeof path, "%s/checkpoint.tar", dir);
    CU_ASSERT_EQUAL_FATAL(run_cli("run %s " TRAIN_SETTINGS " --set train.steps=10 --set "
                                  "eval.episodes=0 --run-dir %s",
                                  model, data_dir, dir), 0);
    static char before[1 << 20], after[1 << 20];
    size_t nb = slurp(path, before, sizeof before);
    CU_ASSERT_FATAL(nb > 65536);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "exec '%s' run %s " TRAIN_SETTINGS " --set train.steps=20 --set "
             "eval.episodes=0 --resume %s", bin, model, data_dir, dir);
    char msg[4096];
    /* 64 KiB: above the metrics log, below the checkpoint */
    CU_ASSERT_EQUAL(run_disk_full(cmd, 65536, msg, sizeof msg), 1);
    if (!strstr(msg, "cannot write checkpoint")) fprintf(stderr, "\n  got: %s\n", msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "cannot write checkpoint"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "previous checkpoint is unchanged"));
    size_t na = slurp(path, after, sizeof after);
    CU_ASSERT(na == nb && memcmp(before, after, nb) == 0);
    CU_ASSERT_EQUAL(run_cli("ckpt info %s", path), 0);
}

/* train.epochs sets the step count from the training split (12 classes x 20 images, batch 16:
 * 15 steps an epoch); train.init_from starts from .npy weights (here a checkpoint's), and an
 * entry that names no parameter is an error naming it. */
static void test_train_epochs_and_init_from(void) {
    char dir[1300], path[1500], tar[1300];
    snprintf(dir, sizeof dir, "%s/repoch", sngt_tmpdir());
    CU_ASSERT_EQUAL_FATAL(run_cli("run %s " TRAIN_SETTINGS " --set train.epochs=2 --set "
                                  "eval.episodes=0 --set train.init_from=%s --run-dir %s",
                                  model, data_dir, ckpt, dir), 0);
    snprintf(path, sizeof path, "%s/report.txt", dir);
    static char text[65536];
    text[slurp(path, text, sizeof text - 1)] = 0;
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "steps: 30 "));
    /* From the trained checkpoint the first training loss is far below a fresh start's. */
    double first[2];
    for (int k = 0; k < 2; k++) {
        char d2[1400];
        snprintf(d2, sizeof d2, "%s%d", dir, k);
        CU_ASSERT_EQUAL(run_cli("run %s " TRAIN_SETTINGS " --set train.steps=1 --set "
                                "eval.episodes=0 --set train.init_from=%s --run-dir %s",
                                model, data_dir, k ? ckpt : "", d2), 0);
        snprintf(path, sizeof path, "%s/metrics.jsonl", d2);
        text[slurp(path, text, sizeof text - 1)] = 0;
        first[k] = json_num(text, "loss");
    }
    CU_ASSERT(first[1] < 0.7 * first[0]);
    snprintf(tar, sizeof tar, "%s/stray.tar", sngt_tmpdir());
    const char *names[] = {"params/branch/conv9/W.npy"};
    const void *data[] = {"\x93NUMPY"};
    size_t len[] = {6};
    write_tar(tar, names, data, len, 1);
    CU_ASSERT_EQUAL(sngt_cli_fmt("run %s " TRAIN_SETTINGS " --set train.steps=1 --set "
                                 "train.init_from=%s --run-dir %s",
                                 model, data_dir, tar, dir), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "stray.tar:params/branch/conv9/W.npy: the model has "
                                              "no parameter of that name"));
    /* The documented DIR/params/... layout: the checkpoint unpacked into a folder (its
     * subfolders once made the walk call a NULL callback). */
    char unpacked[1400], cmd[4200];
    snprintf(unpacked, sizeof unpacked, "%s/unpacked_ckpt", sngt_tmpdir());
    CU_ASSERT_EQUAL_FATAL(mkdir(unpacked, 0755), 0);
    snprintf(cmd, sizeof cmd, "tar -xf '%s' -C '%s'", ckpt, unpacked);
    if (system(cmd) != 0) {
        sngt_skip("tar cannot unpack the checkpoint");
        return;
    }
    char d3[1400];
    snprintf(d3, sizeof d3, "%s_dir", dir);
    CU_ASSERT_EQUAL(run_cli("run %s " TRAIN_SETTINGS " --set train.steps=1 --set "
                            "eval.episodes=0 --set train.init_from=%s --run-dir %s",
                            model, data_dir, unpacked, d3), 0);
}

/* ---- one-shot use ------------------------------------------------------------------------- */
static void test_oneshot_compare_and_gallery_round_trip(void) {
    char gal[1300], a[1300], b[1300], c[1300];
    snprintf(gal, sizeof gal, "%s/people.gal", sngt_tmpdir());
    snprintf(a, sizeof a, "%s/c10/00.pgm", data_dir);
    snprintf(b, sizeof b, "%s/c10/01.pgm", data_dir);
    snprintf(c, sizeof c, "%s/c05/00.pgm", data_dir);
    CU_ASSERT_EQUAL(run_cli("compare --ckpt %s --json %s %s", ckpt, a, a), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "\"same\":true"));
    /* eval checks --set keys against the settings table before it reads any data */
    CU_ASSERT_EQUAL(sngt_cli_fmt("eval --ckpt=%s --set eval.wya=2", ckpt), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "unknown setting 'eval.wya' (did you mean "
                                              "'eval.way'?)"));
    double s_same = 0, s_diff = 0;
    CU_ASSERT_EQUAL(run_cli("compare --ckpt %s --json %s %s", ckpt, a, b), 0);
    s_same = json_num(sngt_out(), "similarity");
    CU_ASSERT_EQUAL(run_cli("compare --ckpt %s --json %s %s", ckpt, a, c), 0);
    s_diff = json_num(sngt_out(), "similarity");
    CU_ASSERT(s_same > s_diff);
    /* Enrol one image per identity: c10 and c11 were never trained on. */
    CU_ASSERT_EQUAL(run_cli("gallery add --ckpt %s %s alice %s", ckpt, gal, a), 0);
    CU_ASSERT_EQUAL(run_cli("gallery add --ckpt %s %s bob %s", ckpt, gal, c), 0);
    CU_ASSERT_EQUAL(sngt_cli_fmt("gallery add --ckpt %s %s bob %s", ckpt, gal, c), 1); /* collision */
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "already enrolled"));
    CU_ASSERT_EQUAL(run_cli("gallery list %s", gal), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "alice\nbob\n"));
    /* An exact copy of an enrolled image is identified as that identity. */
    CU_ASSERT_EQUAL(run_cli("identify --ckpt %s --json %s %s", ckpt, gal, a), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "\"top\":[{\"name\":\"alice\""));
    /* Cached embedding scores equal recomputed ones (compare runs both branches afresh). */
    double cached = json_num(strstr(sngt_out(), "\"top\""), "similarity");
    CU_ASSERT_EQUAL(run_cli("compare --ckpt %s --json %s %s", ckpt, a, a), 0);
    SNGT_ASSERT_CLOSE(cached, json_num(sngt_out(), "similarity"), 1e-5, 1e-6);
    CU_ASSERT_EQUAL(run_cli("identify --ckpt %s --json %s %s", ckpt, gal, b), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "\"top\":[{\"name\":\"alice\""));
    CU_ASSERT_EQUAL(run_cli("gallery remove %s alice", gal), 0);
    CU_ASSERT_EQUAL(sngt_cli_fmt("gallery remove %s alice", gal), 1);
    CU_ASSERT_EQUAL(run_cli("identify --ckpt %s --json %s %s", ckpt, gal, a), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "\"top\":[{\"name\":\"bob\""));
    CU_ASSERT_PTR_NULL(strstr(sngt_out(), "alice"));
    /* embed writes (N, D) float32 .npy and the index. */
    char npy[1300];
    snprintf(npy, sizeof npy, "%s/e.npy", sngt_tmpdir());
    CU_ASSERT_EQUAL(run_cli("embed --ckpt %s -o %s %s %s %s", ckpt, npy, a, b, c), 0);
    struct stat st;
    CU_ASSERT_EQUAL(stat(npy, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, 128 + 3 * 32 * 4);
    char idx[1310];
    snprintf(idx, sizeof idx, "%s.txt", npy);
    FILE *f = fopen(idx, "r");
    char line[1400];
    int lines = 0;
    while (f && fgets(line, sizeof line, f)) lines++;
    if (f) fclose(f);
    CU_ASSERT_EQUAL(lines, 3);
    /* When the index cannot be written, neither file changes: the pair stays consistent. */
    char npy2[1300], idx2[1310];
    snprintf(npy2, sizeof npy2, "%s/e2.npy", sngt_tmpdir());
    snprintf(idx2, sizeof idx2, "%s.txt", npy2);
    CU_ASSERT_EQUAL(mkdir(idx2, 0755), 0); /* a directory where the index should go */
    CU_ASSERT_EQUAL(sngt_cli_fmt("embed --ckpt %s -o %s %s", ckpt, npy2, a), 1);
    CU_ASSERT_NOT_EQUAL(stat(npy2, &st), 0);
    rmdir(idx2);
    (void)s_same;
}


/* embed and gallery add take directories and archives; a bulk enrolment is all or nothing. */
static void test_oneshot_sources_and_bulk_enrol(void) {
    char dir[1300], npy[1300], idx[1400], tar[1300], bad[1300], gal[1300], a[1300], c[1300];
    snprintf(dir, sizeof dir, "%s/c05", data_dir);
    snprintf(npy, sizeof npy, "%s/dir.npy", sngt_tmpdir());
    snprintf(idx, sizeof idx, "%s.txt", npy);
    snprintf(a, sizeof a, "%s/c10/00.pgm", data_dir);
    snprintf(c, sizeof c, "%s/c05/00.pgm", data_dir);
    /* A directory: its 20 images in name order. */
    CU_ASSERT_EQUAL(run_cli("embed --ckpt %s --batch 8 -o %s %s", ckpt, npy, dir), 0);
    struct stat st;
    CU_ASSERT_EQUAL(stat(npy, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, 128 + 20 * 32 * 4);
    char text[8192] = "";
    slurp(idx, text, sizeof text - 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "c05:00.pgm\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "c05:19.pgm\n"));
    /* An archive with two images and a text file (skipped), enrolled by entry name. */
    static char img_a[2048], img_c[2048];
    size_t la = slurp(a, img_a, sizeof img_a), lc = slurp(c, img_c, sizeof img_c);
    snprintf(tar, sizeof tar, "%s/staff.tar", sngt_tmpdir());
    const char *names[] = {"people/ann.pgm", "people/ben.pgm", "README.txt"};
    const void *data[] = {img_a, img_c, "staff photos\n"};
    size_t len[] = {la, lc, 13};
    write_tar(tar, names, data, len, 3);
    snprintf(gal, sizeof gal, "%s/staff.gal", sngt_tmpdir());
    CU_ASSERT_EQUAL(run_cli("gallery add --ckpt %s %s --from %s", ckpt, gal, tar), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "enrolled 2 identities"));
    CU_ASSERT_EQUAL(run_cli("gallery list %s", gal), 0);
    CU_ASSERT_STRING_EQUAL(sngt_out(), "people/ann\npeople/ben\n");
    CU_ASSERT_EQUAL(run_cli("identify --ckpt %s --json %s %s", ckpt, gal, a), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "\"top\":[{\"name\":\"people/ann\""));
    /* Name/image pairs; a name collision anywhere leaves the gallery as it was. */
    CU_ASSERT_EQUAL(run_cli("gallery add --ckpt %s %s cat %s dan %s", ckpt, gal, a, c), 0);
    CU_ASSERT_EQUAL(sngt_cli_fmt("gallery add --ckpt %s %s eve %s eve %s", ckpt, gal, a, c), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "already enrolled"));
    CU_ASSERT_EQUAL(run_cli("gallery list %s", gal), 0);
    CU_ASSERT_STRING_EQUAL(sngt_out(), "people/ann\npeople/ben\ncat\ndan\n");
    /* A corrupt image inside an archive is named by archive and entry. */
    snprintf(bad, sizeof bad, "%s/bad.tar", sngt_tmpdir());
    const char *bnames[] = {"x/ok.pgm", "x/broken.png"};
    const void *bdata[] = {img_a, "\x89PNG\r\n\x1a\ngarbage"};
    size_t blen[] = {la, 15};
    write_tar(bad, bnames, bdata, blen, 2);
    CU_ASSERT_EQUAL(sngt_cli_fmt("embed --ckpt %s -o %s %s", ckpt, npy, bad), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "bad.tar:x/broken.png"));
    CU_ASSERT_EQUAL(sngt_cli_fmt("gallery add --ckpt %s %s --from %s", ckpt, gal, bad), 1);
    CU_ASSERT_EQUAL(run_cli("gallery list %s", gal), 0);
    CU_ASSERT_STRING_EQUAL(sngt_out(), "people/ann\npeople/ben\ncat\ndan\n");
    /* A folder of class subfolders (the walk once called a NULL callback on each subfolder). */
    CU_ASSERT_EQUAL(run_cli("embed --ckpt %s --batch 8 -o %s %s", ckpt, npy, data_dir), 0);
    slurp(idx, text, sizeof text - 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "c05/00.pgm\n"));
    /* Absurd thread counts are refused by the option parser (and by the session, see
     * test_exec), never crashed in libgomp. */
    CU_ASSERT_EQUAL(sngt_cli_fmt("embed --ckpt %s --threads 100000 -o %s %s", ckpt, npy, a), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "--threads"));
    /* A FIFO given as an image is refused, not waited on. */
    char fifo[1300];
    snprintf(fifo, sizeof fifo, "%s/photo.pgm", sngt_tmpdir());
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0644), 0);
    alarm(60);
    CU_ASSERT_EQUAL(sngt_cli_fmt("compare --ckpt %s %s %s", ckpt, fifo, a), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "photo.pgm: not a regular file"));
    alarm(0);
}

static void test_oneshot_bad_input(void) {
    char gal[1300], junk[1300], a[1300];
    snprintf(gal, sizeof gal, "%s/bad.gal", sngt_tmpdir());
    snprintf(a, sizeof a, "%s/c10/00.pgm", data_dir);
    snprintf(junk, sizeof junk, "%s", sngt_write_file("junk.png", "\x89PNG\r\n\x1a\nnot really"));
    CU_ASSERT_EQUAL(sngt_cli_fmt("compare --ckpt %s %s %s", ckpt, a, junk), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "junk.png"));
    CU_ASSERT_EQUAL(sngt_cli_fmt("compare --ckpt %s --no-resize %s %s", ckpt, a, a), 0);
    /* Truncated gallery. */
    CU_ASSERT_EQUAL(run_cli("gallery add --ckpt %s %s carol %s", ckpt, gal, a), 0);
    struct stat st;
    stat(gal, &st);
    CU_ASSERT_EQUAL(truncate(gal, st.st_size - 5), 0);
    CU_ASSERT_EQUAL(sngt_cli_fmt("gallery list %s", gal), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "truncated or corrupt"));
    /* A gallery made with another checkpoint is refused, naming both (the resume test's
     * 40-step checkpoint is another set of weights). */
    unlink(gal);
    CU_ASSERT_EQUAL(run_cli("gallery add --ckpt %s %s carol %s", ckpt, gal, a), 0);
    char other[1400];
    snprintf(other, sizeof other, "%s/ra/checkpoint.tar", sngt_tmpdir());
    CU_ASSERT_EQUAL(sngt_cli_fmt("identify --ckpt %s %s %s", other, gal, a), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "was made with another checkpoint"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "ra/checkpoint.tar"));
    CU_ASSERT_EQUAL(sngt_cli_fmt("gallery add --ckpt %s %s dave %s", other, gal, a), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "was made with another checkpoint"));
    /* A writer killed mid-write (file size limit: SIGXFSZ) leaves the previous gallery valid. */
    unlink(gal);
    CU_ASSERT_EQUAL(run_cli("gallery add --ckpt %s %s carol %s", ckpt, gal, a), 0);
    /* Children exec the program: libgomp is not fork-safe once the parent used OpenMP. */
    const char *bin = getenv("SNG_BIN");
    if (!bin) {
        sngt_skip("SNG_BIN not set: killed-writer test needs the sngraph program");
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = {40, 40};
        setrlimit(RLIMIT_FSIZE, &rl);
        execl(bin, "sngraph", "gallery", "add", "--ckpt", ckpt, gal, "dave", a, (char *)NULL);
        _exit(99);
    }
    int status;
    waitpid(pid, &status, 0);
    CU_ASSERT(WIFSIGNALED(status) || WEXITSTATUS(status) != 0);
    CU_ASSERT_EQUAL(run_cli("gallery list %s", gal), 0);
    CU_ASSERT_STRING_EQUAL(sngt_out(), "carol\n");
    /* The same with the signal ignored: the write fails (a full disk), a clear error. */
    char cmd[4096], msg[2048];
    snprintf(cmd, sizeof cmd, "exec '%s' gallery add --ckpt '%s' '%s' dave '%s'", bin, ckpt, gal, a);
    CU_ASSERT_EQUAL(run_disk_full(cmd, 40, msg, sizeof msg), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "previous file is unchanged"));
    CU_ASSERT_EQUAL(run_cli("gallery list %s", gal), 0);
    CU_ASSERT_STRING_EQUAL(sngt_out(), "carol\n");
}

/* ---- the SVG report ----------------------------------------------------------------------- */
/* Elements matching an XPath expression (SVG namespace as "s") in doc. */
static int count(xmlDocPtr doc, const char *expr) {
    xmlXPathContextPtr x = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(x, BAD_CAST "s", BAD_CAST "http://www.w3.org/2000/svg");
    xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST expr, x);
    int n = r && r->nodesetval ? r->nodesetval->nodeNr : 0;
    xmlXPathFreeObject(r);
    xmlXPathFreeContext(x);
    return n;
}

/* A run with train.eval_every writes a report that parses as XML and holds the four panels:
 * the loss, validation over time, the ROC with its operating point, the histograms with the
 * threshold line, each with ticks and axis labels. */
static void test_svg_report(void) {
    char dir[1300], path[1400];
    snprintf(dir, sizeof dir, "%s/rsvg", sngt_tmpdir());
    CU_ASSERT_EQUAL_FATAL(run_cli("run %s " TRAIN_SETTINGS " --set train.steps=40 --set "
                                  "train.eval_every=10 --set eval.episodes=0 --run-dir %s",
                                  model, data_dir, dir), 0);
    snprintf(path, sizeof path, "%s/report.svg", dir);
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_EQUAL(count(doc, "//s:g[@class='panel']"), 4);
    CU_ASSERT_EQUAL(count(doc, "//s:polyline[@class='loss']"), 1);
    CU_ASSERT_EQUAL(count(doc, "//s:polyline[@class='val']"), 2);
    CU_ASSERT_EQUAL(count(doc, "//s:polyline[@class='roc']"), 1);
    CU_ASSERT_EQUAL(count(doc, "//s:circle[@class='operating-point']"), 1);
    CU_ASSERT_EQUAL(count(doc, "//s:line[@class='threshold']"), 1);
    CU_ASSERT_EQUAL(count(doc, "//s:g[@class='hist']"), 2);
    CU_ASSERT(count(doc, "//s:line[@class='tick']") >= 16);
    CU_ASSERT_EQUAL(count(doc, "//s:text[.='loss (log scale)']"), 1);
    CU_ASSERT_EQUAL(count(doc, "//s:text[.='false accept rate (FAR)']"), 1);
    xmlFreeDoc(doc);
}

/* ---- calibrate ---------------------------------------------------------------------------- */
static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    CU_ASSERT_EQUAL(fclose(f), 0);
}

/* The run reports its threshold's FAR/FRR on validation; calibrate sets a threshold on the
 * user's pairs (CSV or class folders) into a new checkpoint, which compare then uses; bad input
 * is a clear message and exit 1. */
static void test_calibrate(void) {
    char path[1400], csv[1400], out[1400];
    static char text[1 << 16];
    snprintf(path, sizeof path, "%s/report.txt", run_dir);
    text[slurp(path, text, sizeof text - 1)] = 0;
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "on the validation split: FAR "));
    CU_ASSERT_EQUAL(run_cli("ckpt info %s", ckpt), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "\"threshold_far\":0"));
    /* A CSV with a header, paths relative to it. */
    snprintf(csv, sizeof csv, "%s/pairs.csv", data_dir);
    write_text(csv, "a,b,label\n\"c10/00.pgm\", c10/01.pgm ,1\r\nc11/00.pgm,c11/02.pgm,1\n\n"
                    "c10/00.pgm,c11/01.pgm,0\nc12/03.pgm,c13/00.pgm,0\nc12/00.pgm,c12/05.pgm,1\n");
    snprintf(out, sizeof out, "%s/calibrated.tar", sngt_tmpdir());
    CU_ASSERT_EQUAL(run_cli("calibrate --ckpt %s -o %s --json %s", ckpt, out, csv), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "\"pairs\":5,\"same\":3,\"different\":2"));
    double thr = json_num(sngt_out(), "threshold"), far = json_num(sngt_out(), "far");
    CU_ASSERT(far >= 0 && far <= 1);
    /* compare reads the new operating point */
    char a[1300], b[1300];
    snprintf(a, sizeof a, "%s/c10/00.pgm", data_dir);
    snprintf(b, sizeof b, "%s/c10/01.pgm", data_dir);
    CU_ASSERT_EQUAL(run_cli("compare --ckpt %s --json %s %s", out, a, b), 0);
    SNGT_ASSERT_CLOSE(json_num(sngt_out(), "threshold"), thr, 1e-5, 1e-6);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "\"far\":"));
    CU_ASSERT_EQUAL(run_cli("compare --ckpt %s %s %s", out, a, b), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), ", FAR "));
    /* A target FAR of 0 accepts no different pair; class folders work as a source. */
    CU_ASSERT_EQUAL(run_cli("calibrate --ckpt %s -o %s --far 0 --json %s", out, out, data_dir), 0);
    CU_ASSERT_EQUAL(json_num(sngt_out(), "far"), 0);
    CU_ASSERT_EQUAL(run_cli("calibrate --ckpt %s -o %s %s", out, out, csv), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "ROC AUC"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "(equal error): FAR "));
    CU_ASSERT_EQUAL(run_cli("eval --ckpt %s --set data.test.source=%s --episodes 0", out, data_dir), 0);
    /* Bad input. */
    static const struct {
        const char *csv, *why;
    } bad[] = {
        {"", "no pairs to calibrate on"},
        {"a,b,label\n", "no pairs to calibrate on"},
        {"c10/00.pgm,c10/01.pgm,1\nc11/00.pgm,c11/01.pgm,1\n", "all 2 pairs are labelled same"},
        {"c10/00.pgm,nothere.pgm,1\nc11/00.pgm,c10/01.pgm,0\n", "nothere.pgm"},
        {"c10/00.pgm,c10/01.pgm\n", "expected image_a,image_b,label"},
        {"c10/00.pgm,c10/01.pgm,1\nc10/00.pgm,c10/01.pgm,yes\n", "is not 0 or 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_text(csv, bad[i].csv);
        int rc = sngt_cli_fmt("calibrate --ckpt %s -o %s %s", ckpt, out, csv);
        if (rc != 1 || !strstr(sngt_err(), bad[i].why))
            fprintf(stderr, "\n  case %zu: exit %d: %s", i, rc, sngt_err());
        CU_ASSERT_EQUAL(rc, 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), bad[i].why));
    }
    CU_ASSERT_EQUAL(sngt_cli_fmt("calibrate --ckpt %s/none.tar %s", sngt_tmpdir(), csv), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_err(), "none.tar"));
    CU_ASSERT_EQUAL(sngt_cli_fmt("calibrate --ckpt %s %s/none.csv", ckpt, sngt_tmpdir()), 1);
    CU_ASSERT_EQUAL(sngt_cli_fmt("calibrate --ckpt %s --far 0.1 --eer %s", ckpt, csv), 2);
    CU_ASSERT_EQUAL(sngt_cli_fmt("calibrate --ckpt %s --far 2 %s", ckpt, csv), 2);
    /* the original checkpoint is untouched by the failures */
    CU_ASSERT_EQUAL(run_cli("ckpt info %s", ckpt), 0);
}

/* `sngraph data MODEL` describes the model's training source at the model's input size. */
static void test_data_of_a_model(void) {
    FILE *mf = fopen(model, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mf);
    char text[8192], out[8192 + 1100];
    size_t tl = fread(text, 1, sizeof text - 1, mf);
    fclose(mf);
    text[tl] = 0;
    char *end = strstr(text, "</model>");
    CU_ASSERT_PTR_NOT_NULL_FATAL(end);
    *end = 0;
    snprintf(out, sizeof out, "%s<data source='%s'/></model>", text, data_dir);
    const char *path = sngt_write_file("with_data.xml", out);
    CU_ASSERT_EQUAL(sngt_cli_fmt("data --json %s", path), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "\"n_classes\": 16"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sngt_out(), "\"n_images\": 320"));
    CU_ASSERT_EQUAL(sngt_cli_fmt("data %s", model), 1); /* no data source named */
}

static int init(void) { return setup(); }

static CU_TestInfo train_tests[] = {
    {"test_train_learns_unseen_classes", test_train_learns_unseen_classes},
    {"test_train_resume_is_exact", test_train_resume_is_exact},
    {"test_train_bad_checkpoints", test_train_bad_checkpoints},
    {"test_train_full_disk_keeps_checkpoint", test_train_full_disk_keeps_checkpoint},
    {"test_train_epochs_and_init_from", test_train_epochs_and_init_from},
    {"test_oneshot_compare_and_gallery_round_trip", test_oneshot_compare_and_gallery_round_trip},
    {"test_oneshot_sources_and_bulk_enrol", test_oneshot_sources_and_bulk_enrol},
    {"test_oneshot_bad_input", test_oneshot_bad_input},
    {"test_calibrate", test_calibrate},
    {"test_svg_report", test_svg_report},
    {"test_data_of_a_model", test_data_of_a_model},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo sngt_suites[] = {
    {"train", init, NULL, NULL, NULL, train_tests},
    CU_SUITE_INFO_NULL,
};
