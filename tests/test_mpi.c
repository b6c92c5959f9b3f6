/*
 * test_mpi.c — data-parallel training under mpirun (built with configure --with-mpi), two ranks
 * on this machine, one thread each, on generated data (12 classes of 28x28 bars, as in
 * test_train.c) and a small inline model:
 *   - 2 ranks x batch 8 for K steps give the parameters of one process at batch 16 (1e-5);
 *   - a 2-rank run stopped and resumed gives them too;
 *   - a checkpoint that rank 0 cannot write stops both ranks with a message, exit 1, and the
 *     previous checkpoint untouched;
 *   - a rank killed mid-run ends the job (non-zero exit) with rank 0's message naming the last
 *     good checkpoint, which stays readable.
 * The runs exec $SNG_BIN under mpirun ($SNG_MPIRUN or the one configure found).
 */
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/ckpt.h"
#include "harness.h"

#ifndef SNG_MPIRUN
#define SNG_MPIRUN "mpirun"
#endif

static char data_dir[1024], model[1024], settings[2048];
static const char *bin, *mpirun;

/* Two ranks on however few cores: --oversubscribe; one thread each and passive OpenMP waits so
 * they do not spin against each other; no binding (a container may forbid it). */
#define MPIRUN_OPTS "--oversubscribe --allow-run-as-root --bind-to none"


static int setup(void) {
    bin = getenv("SNG_BIN");
    mpirun = getenv("SNG_MPIRUN") && *getenv("SNG_MPIRUN") ? getenv("SNG_MPIRUN") : SNG_MPIRUN;
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    /* Containers often forbid the cross-process reads of Open MPI's single-copy transfers. */
    setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 0);
    snprintf(data_dir, sizeof data_dir, "%s/bars", sngt_tmpdir());
    if (sngt_write_bars(data_dir, 12, 10, 11)) return -1;
    snprintf(model, sizeof model, "%s",
             sngt_write_file("mpi_small.xml",
                 "<model name='mpi_small'>"
                 "<input name='img_a' shape='1,28,28'/><input name='img_b' shape='1,28,28'/>"
                 "<input name='same' shape='1'/>"
                 "<subgraph name='backbone'><input name='x'/>"
                 "<conv2d name='conv1' in='x' filters='4' kernel='3' pad='same' activation='relu'/>"
                 "<maxpool2d name='pool1' in='conv1' kernel='2'/>"
                 "<conv2d name='conv2' in='pool1' filters='8' kernel='3' pad='same' "
                 "activation='relu'/>"
                 "<maxpool2d name='pool2' in='conv2' kernel='2'/>"
                 "<flatten name='flat' in='pool2'/><dense name='features' in='flat' units='32'/>"
                 "<output name='features'/></subgraph>"
                 "<instance name='left' of='backbone' in='img_a' params='branch'/>"
                 "<instance name='right' of='backbone' in='img_b' params='branch'/>"
                 "<output name='left'/>"
                 "<contrastive name='loss_c' in='left right same' margin='1' same_label='1'/>"
                 "</model>"));
    /* SGD: its update is linear in the gradient, so the rounding of a sum over 2 x 8 samples
     * instead of 16 stays at float precision (Adam divides by sqrt(v) and can amplify it). */
    snprintf(settings, sizeof settings,
             "%s --set data.source=%s --set data.split=0.75,0.25,0 --set train.optimizer=sgd "
             "--set train.lr=0.02 --set train.momentum=0.9 --set eval.pairs=64 "
             "--set eval.episodes=0 --set train.log_every=4 --threads 1",
             model, data_dir);
    return 0;
}

static int have_tools(void) {
    if (!bin) {
        sngt_skip("SNG_BIN not set: the MPI tests run the sngraph program under mpirun");
        return 0;
    }
    return 1;
}

/* Starts `sh -c "exec CMD > log 2>&1"` and returns the pid (that of mpirun, thanks to exec). */
static pid_t start(const char *log, const char *fmt, ...) {
    char cmd[8192], full[8400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "exec %s >%s 2>&1 </dev/null", cmd, log);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", full, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Waits up to `limit` seconds; returns the wait status, or -1 after killing a job that hung. */
static int finish(pid_t pid, double limit) {
    int status = 0;
    for (double t = 0; t < limit; t += 0.02) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0) return -1;
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "\n  mpirun (pid %d) still running after %.0f s: killed\n", (int)pid, limit);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static const char *slurp(const char *path) {
    static char buf[1 << 16];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
    return buf;
}

/* Runs CMD to completion; returns its exit code (128+signal when killed, -1 when hung) and
 * prints the output when it is not `expect`. */
static int run_wait(int expect, const char *log, const char *fmt, ...) {
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int status = finish(start(log, "%s", cmd), 120);
    int rc = status < 0 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (rc != expect) fprintf(stderr, "\n  `%s` -> %d\n%s\n", cmd, rc, slurp(log));
    return rc;
}

static void tmp_path(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", sngt_tmpdir(), name);
}

/* The largest max|a - b| / scale over the parameters of two checkpoints, where scale is the
 * parameter's largest |b|, or 1e-3 for one that stays near zero (the embedding bias: its
 * gradients from the two tied branches cancel, so only rounding noise of ~1e-10 is left).
 * -1 when the checkpoints cannot be compared. */
static double param_diff(const char *ckpt_a, const char *ckpt_b, int *n_params) {
    sng_ctx *ctx = sng_ctx_new();
    sngi_ckpt *ca = NULL, *cb = NULL;
    double worst = -1;
    *n_params = 0;
    if (sngi_ckpt_read(ctx, ckpt_a, &ca) || sngi_ckpt_read(ctx, ckpt_b, &cb)) {
        fprintf(stderr, "\n  %s\n", sng_ctx_errmsg(ctx));
        goto out;
    }
    worst = 0;
    for (int i = 0; i < ca->n; i++) {
        if (strncmp(ca->names[i], "params/", 7)) continue;
        size_t lb;
        const void *db = sngi_ckpt_entry(cb, ca->names[i], &lb);
        int da[8], dbm[8], na, nb;
        const float *va, *vb;
        if (!db || sngi_npy_parse(ctx, ca->names[i], ca->data[i], ca->sizes[i], da, &na, &va) ||
            sngi_npy_parse(ctx, ca->names[i], db, lb, dbm, &nb, &vb) || na != nb) {
            worst = -1;
            break;
        }
        size_t n = 1;
        for (int k = 0; k < na; k++) n *= (size_t)da[k];
        double maxd = 0, maxb = 0;
        for (size_t k = 0; k < n; k++) {
            double d = fabs((double)va[k] - vb[k]);
            if (d > maxd) maxd = d;
            if (fabs(vb[k]) > maxb) maxb = fabs(vb[k]);
        }
        double r = maxd / (maxb > 1e-3 ? maxb : 1e-3);
        if (r > worst) worst = r;
        (*n_params)++;
    }
out:
    sngi_ckpt_free(ca);
    sngi_ckpt_free(cb);
    sng_ctx_free(ctx);
    return worst;
}

static double ckpt_step(const char *path) {
    sng_ctx *ctx = sng_ctx_new();
    sngi_ckpt *c = NULL;
    double step = sngi_ckpt_read(ctx, path, &c) ? -1 : sngi_ckpt_num(c, "step", -1);
    sngi_ckpt_free(c);
    sng_ctx_free(ctx);
    return step;
}

static char ref_ckpt[1200]; /* one process, batch 16, 8 steps */

static void test_mpi_two_ranks_equal_doubled_batch(void) {
    if (!have_tools()) return;
    char ref[1100], half[1100], dist[1100], log[1100], a[1200], b[1200];
    tmp_path(ref, sizeof ref, "ref16");
    tmp_path(half, sizeof half, "ref8");
    tmp_path(dist, sizeof dist, "mpi2x8");
    tmp_path(log, sizeof log, "mpi2x8.log");
    CU_ASSERT_EQUAL_FATAL(sngt_cli_fmt("run %s --set train.batch=16 --set train.steps=8 --quiet "
                                       "--run-dir %s",
                                       settings, ref), 0);
    CU_ASSERT_EQUAL_FATAL(sngt_cli_fmt("run %s --set train.batch=8 --set train.steps=8 --quiet "
                                       "--run-dir %s",
                                       settings, half), 0);
    CU_ASSERT_EQUAL_FATAL(run_wait(0, log, "%s " MPIRUN_OPTS " -np 2 %s run %s --set "
                                   "train.batch=8 --set train.steps=8 --run-dir %s",
                                   mpirun, bin, settings, dist), 0);
    const char *out = slurp(log);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "2 ranks x batch 8 = 16 pairs per step"));
    /* Rank 0 alone reports: one "->" line, one checkpoint line. */
    const char *p = strstr(out, "sngraph run: mpi_small ->");
    CU_ASSERT(p && !strstr(p + 1, "sngraph run: mpi_small ->"));
    p = strstr(out, "checkpoint: ");
    CU_ASSERT(p && !strstr(p + 1, "checkpoint: "));
    snprintf(ref_ckpt, sizeof ref_ckpt, "%s/checkpoint.tar", ref);
    snprintf(a, sizeof a, "%s/checkpoint.tar", dist);
    int n;
    double d = param_diff(a, ref_ckpt, &n);
    fprintf(stdout, "\n  2 ranks x 8 vs 1 x 16 after 8 steps: max relative difference %.3g over "
                    "%d parameters", d, n);
    CU_ASSERT(n == 6);
    CU_ASSERT(d >= 0 && d <= 1e-5);
    /* Not just any run agrees: one process at batch 8 (one shard) ends elsewhere. */
    snprintf(b, sizeof b, "%s/checkpoint.tar", half);
    CU_ASSERT(param_diff(b, ref_ckpt, &n) > 1e-3);
    /* The metrics log carries the all-reduce volume: every gradient float, 4 bytes. */
    snprintf(b, sizeof b, "%s/metrics.jsonl", dist);
    CU_ASSERT_PTR_NOT_NULL(strstr(slurp(b), "\"ranks\":2"));
}

static void test_mpi_resume_two_ranks(void) {
    if (!have_tools() || !ref_ckpt[0]) return;
    char dir[1100], log[1100], c[1200];
    tmp_path(dir, sizeof dir, "mpi_resume");
    tmp_path(log, sizeof log, "mpi_resume.log");
    CU_ASSERT_EQUAL_FATAL(run_wait(0, log, "%s " MPIRUN_OPTS " -np 2 %s run %s --set "
                                   "train.batch=8 --set train.steps=4 --run-dir %s",
                                   mpirun, bin, settings, dir), 0);
    CU_ASSERT_EQUAL_FATAL(run_wait(0, log, "%s " MPIRUN_OPTS " -np 2 %s run %s --set "
                                   "train.batch=8 --set train.steps=8 --resume %s",
                                   mpirun, bin, settings, dir), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(slurp(log), "resuming"));
    snprintf(c, sizeof c, "%s/checkpoint.tar", dir);
    CU_ASSERT_EQUAL(ckpt_step(c), 8);
    int n;
    double d = param_diff(c, ref_ckpt, &n);
    CU_ASSERT(n == 6 && d >= 0 && d <= 1e-5);
}

static void test_mpi_checkpoint_write_fails(void) {
    if (!have_tools() || !ref_ckpt[0]) return;
    /* Rank 0 alone runs under a file-size limit (SIGXFSZ ignored: writes fail with EFBIG, as on
     * a full disk) that the metrics log fits in but a checkpoint does not. Shared-memory
     * transport is left out: its segment files would hit the limit too. */
    char dir[1100], log[1100], c[1200];
    tmp_path(dir, sizeof dir, "mpi_resume");
    tmp_path(log, sizeof log, "mpi_ckfail.log");
    snprintf(c, sizeof c, "%s/checkpoint.tar", dir);
    struct stat before;
    CU_ASSERT_EQUAL_FATAL(stat(c, &before), 0);
    CU_ASSERT_FATAL(before.st_size > 64 * 1024); /* the limit below must cut it */
    FILE *f = fopen(c, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char *orig = malloc((size_t)before.st_size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(orig);
    CU_ASSERT_EQUAL(fread(orig, 1, (size_t)before.st_size, f), (size_t)before.st_size);
    fclose(f);
    char args[4096];
    snprintf(args, sizeof args, "run %s --set train.batch=8 --set train.steps=16 "
             "--set train.checkpoint_every=2 --resume %s", settings, dir);
    int rc = run_wait(1, log, "%s " MPIRUN_OPTS " --mca btl self,tcp -np 1 /bin/sh -c "
                      "'ulimit -f 40 && trap \"\" XFSZ && exec \"$0\" \"$@\"' %s %s : -np 1 %s %s",
                      mpirun, bin, args, bin, args);
    CU_ASSERT(rc != 0 && rc != -1);
    const char *out = slurp(log);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "sngraph run: checkpoint at step 10: "));
    /* The job stopped there: neither rank went on to step 16's final evaluation. */
    CU_ASSERT_PTR_NULL(strstr(out, "test: AUC"));
    f = fopen(c, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char *now_ = malloc((size_t)before.st_size + 1);
    size_t got = fread(now_, 1, (size_t)before.st_size + 1, f);
    fclose(f);
    CU_ASSERT(got == (size_t)before.st_size && memcmp(orig, now_, got) == 0);
    CU_ASSERT_EQUAL(ckpt_step(c), 8);
    free(orig);
    free(now_);
}

/* The pid of the process that mpirun `parent` started as rank `rank`, or -1. */
static pid_t find_rank(pid_t parent, int rank) {
    char want[2][64];
    snprintf(want[0], sizeof want[0], "OMPI_COMM_WORLD_RANK=%d", rank);
    snprintf(want[1], sizeof want[1], "PMI_RANK=%d", rank);
    DIR *proc = opendir("/proc");
    if (!proc) return -1;
    pid_t found = -1;
    for (struct dirent *de; found < 0 && (de = readdir(proc));) {
        pid_t p = (pid_t)atoi(de->d_name);
        if (p <= 0) continue;
        char path[300], stat_line[512];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)p);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t n = fread(stat_line, 1, sizeof stat_line - 1, f);
        fclose(f);
        stat_line[n] = 0;
        const char *rp = strrchr(stat_line, ')');
        int ppid = 0;
        if (!rp || sscanf(rp + 2, "%*c %d", &ppid) != 1 || ppid != parent) continue;
        snprintf(path, sizeof path, "/proc/%d/environ", (int)p);
        static char env[1 << 16];
        f = fopen(path, "r");
        if (!f) continue;
        n = fread(env, 1, sizeof env - 1, f);
        fclose(f);
        env[n] = 0;
        for (size_t k = 0; k < n && found < 0; k += strlen(env + k) + 1)
            if (!strcmp(env + k, want[0]) || !strcmp(env + k, want[1])) found = p;
    }
    closedir(proc);
    return found;
}

static void test_mpi_killed_rank_ends_job(void) {
    if (!have_tools()) return;
    char dir[1100], log[1100], c[1200];
    tmp_path(dir, sizeof dir, "mpi_kill");
    tmp_path(log, sizeof log, "mpi_kill.log");
    snprintf(c, sizeof c, "%s/checkpoint.tar", dir);
    pid_t job = start(log, "%s " MPIRUN_OPTS " -np 2 %s run %s --set train.batch=8 --set "
                      "train.steps=100000000 --set train.checkpoint_every=20 --set "
                      "train.log_every=1000000 --run-dir %s",
                      mpirun, bin, settings, dir);
    CU_ASSERT_FATAL(job > 0);
    struct stat sb;
    int waited = 0;
    while (stat(c, &sb) != 0 && waited < 3000 && waitpid(job, NULL, WNOHANG) == 0) {
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
        waited++;
    }
    pid_t victim = find_rank(job, 1);
    if (victim <= 0) fprintf(stderr, "\n  rank 1 not found; output:\n%s\n", slurp(log));
    CU_ASSERT(victim > 0);
    if (victim > 0) kill(victim, SIGKILL);
    int status = finish(job, 60);
    CU_ASSERT(status != -1);
    CU_ASSERT(!(WIFEXITED(status) && WEXITSTATUS(status) == 0));
    const char *out = slurp(log);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "sngraph run: rank 0: stopping on a signal from the MPI "
                                       "launcher (a rank died, or the job was interrupted); the "
                                       "last good checkpoint is"));
    double step = ckpt_step(c);
    fprintf(stdout, "\n  rank 1 killed; the checkpoint left holds step %.0f", step);
    CU_ASSERT(step >= 20 && fmod(step, 20) == 0);
    if (!strstr(out, "last good checkpoint")) fprintf(stderr, "\n%s\n", out);
}

static CU_TestInfo mpi_tests[] = {
    {"test_mpi_two_ranks_equal_doubled_batch", test_mpi_two_ranks_equal_doubled_batch},
    {"test_mpi_resume_two_ranks", test_mpi_resume_two_ranks},
    {"test_mpi_checkpoint_write_fails", test_mpi_checkpoint_write_fails},
    {"test_mpi_killed_rank_ends_job", test_mpi_killed_rank_ends_job},
    CU_TEST_INFO_NULL,
};

CU_SuiteInfo sngt_suites[] = {
    {"mpi", setup, NULL, NULL, NULL, mpi_tests},
    CU_SUITE_INFO_NULL,
};
