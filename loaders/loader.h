/*
 * loader.h — datasets of labelled images for Siamese training: sources (directory, any archive
 * libarchive reads, IDX files), decoding to uint8 once, class-disjoint splits, pair / triplet /
 * episode samplers with seeded augmentation, and a prefetching producer thread.
 *
 * This is the API the engine and the CLI call; the part meant for users will move into
 * sngraph.h. Internals shared between the loader files live in loader_int.h. Conventions are the
 * library's: fallible calls return sng_status with the message on the sng_ctx, out-parameters are
 * NULL on failure, the creator frees, and `_free(NULL)` is a no-op. See doc/loaders.md.
 *
 * Layouts: an image is stored once as uint8 (C, H, W) at the dataset's size; batches are float
 * NCHW, value = (pixel * scale - mean) / std.
 */
#ifndef SNG_LOADER_H
#define SNG_LOADER_H

#include <stdint.h>
#include <stdio.h>

#include "sngraph/sngraph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- loading ----------------------------------------------------------------------------- */
typedef struct sngi_dataset_opts {
    const char *source;     /* directory, archive (detected by content) or IDX images file */
    const char *idx_labels; /* IDX labels file; NULL: derived from the images file name
                               ("...-images-idx3-ubyte[.gz]" -> "...-labels-idx1-ubyte[.gz]") */
    const char *pairs_csv;  /* optional "path_a,path_b,label" list: a file on disk, else an entry
                               of that name inside the source; NULL: none */
    int class_depth;        /* folders forming a class below the common prefix; 0: auto (2 when
                               every image sits two folders deep, e.g. alphabet/character; else 1) */
    int channels;           /* 1 or 3; 0: those of the first image decoded */
    int height, width;      /* stored size; 0: that of the first image (others must match) */
    int resize;             /* 1 (default): resize to height x width (bilinear up, area down);
                               0: an image of another size is a bad entry */
    float scale;            /* pixel multiplier when packing batches (default 1/255) */
    float mean, std;        /* then (x - mean) / std (defaults 0 and 1) */
    int strict;             /* 1: the first bad entry fails the load; 0 (default): skip it and
                               record a warning (sngi_dataset_n_skipped) */
    int64_t max_images;     /* stop after this many images (0: all); for quick looks */
    int allow_partial;      /* 1: a truncated or corrupt archive or IDX file keeps what was read
                               before the break, with a warning; 0 (default): it fails the load,
                               naming the source and the entry */
} sngi_dataset_opts;

/* Fills o with the defaults above (source NULL). */
void sngi_dataset_opts_init(sngi_dataset_opts *o);

typedef struct sngi_dataset sngi_dataset;

/* Reads every image of o->source and decodes it once to uint8 (C,H,W) at the target size.
 * Classes are sorted by name and images by entry path within a class, so image ids do not
 * depend on archive order. Bad entries are failures (strict) or recorded skips; a source
 * holding no usable image, a missing path or an unreadable archive is SNG_ERR_DATA / SNG_ERR_IO
 * with the source and entry named. On success *out is owned by the caller
 * (sngi_dataset_free). */
sng_status sngi_dataset_load(sng_ctx *ctx, const sngi_dataset_opts *o, sngi_dataset **out);
void sngi_dataset_free(sngi_dataset *d);

/* Accessors (borrowed pointers valid for the dataset's lifetime). Image ids 0..n_images-1 are
 * grouped by class: class c owns ids [class_first(c), class_first(c) + class_count(c)). */
int sngi_dataset_n_images(const sngi_dataset *d);
int sngi_dataset_n_classes(const sngi_dataset *d);
int sngi_dataset_n_groups(const sngi_dataset *d);
void sngi_dataset_shape(const sngi_dataset *d, int *c, int *h, int *w);
const char *sngi_dataset_class_name(const sngi_dataset *d, int cls);
int sngi_dataset_class_group(const sngi_dataset *d, int cls); /* group id (alphabet) */
const char *sngi_dataset_group_name(const sngi_dataset *d, int group);
int sngi_dataset_class_first(const sngi_dataset *d, int cls);
int sngi_dataset_class_count(const sngi_dataset *d, int cls);
int sngi_dataset_label(const sngi_dataset *d, int img);          /* class id of an image */
const uint8_t *sngi_dataset_pixels(const sngi_dataset *d, int img); /* C*H*W bytes */
const char *sngi_dataset_entry(const sngi_dataset *d, int img);  /* entry path; NULL for IDX */
int sngi_dataset_class_depth(const sngi_dataset *d);
/* Bytes held for pixels (the slab) and in total (pixels + labels, names, paths). */
int64_t sngi_dataset_pixel_bytes(const sngi_dataset *d);
int64_t sngi_dataset_total_bytes(const sngi_dataset *d);
/* Skipped entries and warnings, as "entry" + "reason"; i < sngi_dataset_n_skipped. */
int sngi_dataset_n_skipped(const sngi_dataset *d);
void sngi_dataset_skipped(const sngi_dataset *d, int i, const char **entry, const char **reason);
/* Image id of an entry path (as in the source, with or without the common prefix); -1. */
int sngi_dataset_find(const sngi_dataset *d, const char *path);

/* Writes what the dataset holds (classes, images per class, sizes and modes, skips) as text or
 * JSON: `sngraph data`. */
void sngi_data_describe(const sngi_dataset *d, FILE *out, int json);

/* ---- splits ------------------------------------------------------------------------------ */
/* A subset of the dataset: some classes and, per class, some of its images. */
typedef struct sngi_subset sngi_subset;

enum { SNG_SPLIT_TRAIN = 0, SNG_SPLIT_VAL = 1, SNG_SPLIT_TEST = 2 };

typedef struct sngi_split_opts {
    double frac[3];          /* train/val/test fractions (default 0.8/0.1/0.1); train takes the
                                rest after rounding val and test */
    const char *lists[3];    /* for val/test (lists[1], lists[2]): comma-separated class names or
                                fnmatch patterns ("Greek/x*,Latin/y?"); when either is set the
                                fractions are unused and train is every class not listed
                                (lists[0] may restrict train too) */
    int by_group;            /* 1: split whole groups (alphabets) instead of classes */
    int by_image;            /* 1: image-level split — every class in every set, its images split
                                by the fractions (not class-disjoint) */
    uint64_t seed;           /* shuffle seed (default 1) */
} sngi_split_opts;

void sngi_split_opts_init(sngi_split_opts *o);
/* Splits d into three subsets (train, val, test), owned by the caller (sngi_subset_free each).
 * A set with a non-zero fraction or a list that comes out empty is SNG_ERR_DATA naming it.
 * Borrows d, which must outlive the subsets. */
sng_status sngi_split(sng_ctx *ctx, const sngi_dataset *d, const sngi_split_opts *o,
                     sngi_subset *out[3]);
/* The whole dataset as one subset (caller frees). */
sng_status sngi_subset_all(sng_ctx *ctx, const sngi_dataset *d, sngi_subset **out);
void sngi_subset_free(sngi_subset *s);
int sngi_subset_n_classes(const sngi_subset *s);
int sngi_subset_class(const sngi_subset *s, int i);          /* dataset class id */
int sngi_subset_n_images(const sngi_subset *s, int i);       /* images of its i-th class */
const int *sngi_subset_images(const sngi_subset *s, int i);  /* their image ids */
int64_t sngi_subset_total_images(const sngi_subset *s);

/* ---- augmentation ------------------------------------------------------------------------- */
typedef struct sngi_augment_opts {
    int affine;          /* Koch et al. 2015: each part with probability p */
    float p;             /* 0.5 */
    float rotate_deg;    /* ±10 */
    float shear;         /* ±0.3 */
    float scale_lo, scale_hi; /* 0.8 .. 1.2 */
    float translate_px;  /* ±2 */
    int flip;            /* horizontal flip with probability 0.5 */
} sngi_augment_opts;
void sngi_augment_opts_init(sngi_augment_opts *o); /* affine and flip off, Koch ranges */
/* Packs one uint8 (C,H,W) image into float with (x*scale-mean)/std, distorted when aug enables
 * it. Randomness is drawn from rng only (seeded by the caller). Output stays within the range
 * of the input pixels (bilinear sampling, edge clamped). */
void sngi_augment_pack(const uint8_t *src, int c, int h, int w, const sngi_augment_opts *aug,
                      uint64_t rng_seed, float scale, float mean, float std, float *dst);

/* ---- samplers ----------------------------------------------------------------------------- */
typedef enum sngi_sample_kind {
    SNG_SAMPLE_PAIRS = 0,  /* bufs: A (n,C,H,W), B (n,C,H,W), label (n): 1 same, 0 different */
    SNG_SAMPLE_TRIPLETS,   /* bufs: anchor, positive, negative, each (n,C,H,W) */
    SNG_SAMPLE_EPISODES,   /* bufs: support (n, N*K, C,H,W) class-major, query (n, Q, C,H,W),
                              label (n, Q): index 0..N-1 of the query's class in the support */
    SNG_SAMPLE_LIST        /* the pairs CSV in file order: A, B, label like PAIRS */
} sngi_sample_kind;

typedef struct sngi_sampler_opts {
    sngi_sample_kind kind;
    float pos_fraction;   /* pairs: share of same-class pairs per batch (0.5) */
    int n_way, k_shot;    /* episodes: 20-way 1-shot */
    int n_query;          /* episodes: queries per episode (1) */
    int same_group;       /* episodes: all classes of an episode from one group when some group
                             has n_way usable classes (1) */
    sngi_augment_opts aug; /* off by default */
} sngi_sampler_opts;

void sngi_sampler_opts_init(sngi_sampler_opts *o);

typedef struct sngi_sampler sngi_sampler;
/* A sampler over sub (NULL: the whole dataset). Borrows d (must outlive the sampler); copies sub.
 * SNG_ERR_DATA when the subset cannot give what the kind needs (no class with two images, fewer
 * than two classes, fewer than n_way classes with k_shot+1 images, no pairs list). */
sng_status sngi_sampler_new(sng_ctx *ctx, const sngi_dataset *d, const sngi_subset *sub,
                           const sngi_sampler_opts *o, sngi_sampler **out);
void sngi_sampler_free(sngi_sampler *s);
int sngi_sampler_n_bufs(const sngi_sampler *s);
/* Floats in buffer i for a batch of n samples (episodes: n episodes). */
int64_t sngi_sampler_buf_len(const sngi_sampler *s, int n, int i);
const char *sngi_sampler_buf_name(const sngi_sampler *s, int i);
/* 1 when episodes could not all come from one group (no group has n_way usable classes). */
int sngi_sampler_mixed_groups(const sngi_sampler *s);
/* Fills bufs[0..n_bufs) with batch `step` of n samples. A pure function of (seed, step, n):
 * any batch can be recomputed or resumed without state. Thread-safe for one sampler. */
void sngi_sampler_fill(const sngi_sampler *s, int n, uint64_t seed, int64_t step,
                      float *const *bufs);

/* ---- prefetching loader ------------------------------------------------------------------- */
typedef struct sngi_loader sngi_loader;
/* Starts a producer thread that fills batches step, step+1, ... of sampler s ahead of the
 * consumer (`depth` batches ahead; 0 means 2). Borrows s (must outlive the loader). The
 * caller frees with sngi_loader_free (which joins the thread). */
sng_status sngi_loader_new(sng_ctx *ctx, const sngi_sampler *s, int batch, uint64_t seed,
                          int depth, sngi_loader **out);
/* Copies the next batch into bufs (sizes from sngi_sampler_buf_len) and advances one step;
 * blocks until it is ready. bufs NULL: just advance. */
void sngi_loader_next(sngi_loader *l, float *const *bufs);
/* Hands out the next batch without copying: (*out)[i] are owned by the loader and valid until
 * the next sngi_loader_next/_borrow/_seek/_free call. */
void sngi_loader_borrow(sngi_loader *l, const float *const **out);
/* The step the next call returns; moves it (discarding prefetched batches). */
int64_t sngi_loader_step(const sngi_loader *l);
void sngi_loader_seek(sngi_loader *l, int64_t step);
/* Seconds the consumer spent blocked waiting for a batch, and the producer spent filling. */
double sngi_loader_wait_seconds(const sngi_loader *l);
double sngi_loader_fill_seconds(const sngi_loader *l);
void sngi_loader_free(sngi_loader *l);

#ifdef __cplusplus
}
#endif
#endif /* SNG_LOADER_H */
