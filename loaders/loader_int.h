/*
 * loader_int.h — internals shared by the files of loaders/: decoded images, the decoders, the
 * resizer, the source walker and the dataset structure. Not part of any public header.
 */
#ifndef SNG_LOADER_INT_H
#define SNG_LOADER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/sng_int.h"
#include "loaders/loader.h"

/* Largest image side any decoder accepts, and the largest entry the walker reads. */
#define SNGI_IMG_MAX_SIDE 16384
#define SNGI_ENTRY_MAX_BYTES ((size_t)256 << 20)
/* Largest pixel count (w*h) accepted: 64 Mpixel, far above any training image, low enough that
 * a forged header cannot make a decoder allocate gigabytes. Fuzz builds lower it. */
#ifndef SNGI_IMG_MAX_PIXELS
#define SNGI_IMG_MAX_PIXELS ((int64_t)1 << 26)
#endif

/* ---- decoded images ------------------------------------------------------------------------ */
typedef struct sngi_image {
    int w, h, c;          /* c: 1 gray or 3 RGB (alpha is dropped by the decoders) */
    uint8_t *pix;         /* (H, W, C) interleaved, owned (free) */
    const char *format;   /* "png", "pgm", "ppm", "jpeg" (static) */
    int bits;             /* bit depth of the source samples (1, 2, 4, 8, 16) */
    const char *mode;     /* source colour mode: "gray", "gray+alpha", "rgb", "rgba", "palette" */
} sngi_image;

/* Decoders: each reads exactly [buf, buf+n), never past it, and rejects sides over
 * SNGI_IMG_MAX_SIDE. On failure returns SNG_ERR_DATA (or SNG_ERR_NOMEM) with a reason in
 * why[0..nwhy) and img->pix NULL. On success img->pix is malloc'd and owned by the caller. */
sng_status sngi_decode_png(const uint8_t *buf, size_t n, sngi_image *img, char *why, size_t nwhy);
sng_status sngi_decode_pnm(const uint8_t *buf, size_t n, sngi_image *img, char *why, size_t nwhy);
sng_status sngi_decode_jpeg(const uint8_t *buf, size_t n, sngi_image *img, char *why,
                            size_t nwhy);
/* Name of the format by signature ("png", "pnm", "jpeg") or NULL when not an image. */
const char *sngi_image_sniff(const uint8_t *buf, size_t n);
/* Sniffs and decodes; "not an image" is SNG_ERR_DATA with that reason. */
sng_status sngi_decode_image(const uint8_t *buf, size_t n, sngi_image *img, char *why,
                             size_t nwhy);

/* Converts src (H,W,sc interleaved) to dc channels and resizes to (dh, dw), writing planar
 * (dc, dh, dw) uint8 to dst: bilinear where a side grows, area average where it shrinks, a copy
 * where it is equal. Returns SNG_ERR_NOMEM on allocation failure. */
sng_status sngi_image_convert(const uint8_t *src, int sc, int sh, int sw, uint8_t *dst, int dc,
                              int dh, int dw);

/* ---- source walking ------------------------------------------------------------------------ */
enum { SNGI_BAD_ENTRY = 0, SNGI_BAD_STOP = 1, SNGI_BAD_DATA = 2 };

typedef struct sngi_walk_cb {
    void *ud;
    /* A regular file: its path relative to the source root ('/'-separated) and its bytes
     * (borrowed for the call). Non-OK stops the walk with that status. */
    sng_status (*file)(void *ud, const char *path, const uint8_t *data, size_t n);
    /* A directory (relative path, no trailing '/'); NULL: folders are only walked. */
    sng_status (*dir)(void *ud, const char *path);
    /* An entry that could not be used: path (or NULL for the archive itself), the reason and
     * `fatal`: SNGI_BAD_ENTRY (the entry is unusable, the walk goes on), SNGI_BAD_DATA (the
     * archive's data for it is corrupt, the walk goes on) or SNGI_BAD_STOP (the archive is
     * unreadable from here on: the walk stops). Non-OK stops the walk. NULL: any bad entry fails the
     * walk with SNG_ERR_DATA naming the source, entry and reason. */
    sng_status (*bad)(void *ud, const char *path, const char *why, int fatal);
} sngi_walk_cb;

/* Walks a directory tree (names sorted, hidden entries skipped) or an archive of any format and
 * filter libarchive reads (detected by content). Only regular files are read (opened without
 * blocking; at most SNGI_ENTRY_MAX_BYTES each); other entries are bad entries, and a folder
 * reached twice (same device and inode: a symlink loop) is a bad entry walked once. *kind gets "directory" or the archive format
 * name (static or borrowed until return; copy it). */
sng_status sngi_walk_path(sng_ctx *ctx, const char *path, const sngi_walk_cb *cb,
                          char *kind, size_t nkind);
/* The same over an archive held in memory; `name` stands for it in messages. */
sng_status sngi_walk_memory(sng_ctx *ctx, const char *name, const void *buf, size_t n,
                            const sngi_walk_cb *cb, char *kind, size_t nkind);
/* Reads a whole regular file (opened without blocking; FIFOs and devices refused) into *buf,
 * grown with realloc as needed (*cap its size; the caller frees *buf, also on failure), at most
 * SNGI_ENTRY_MAX_BYTES. Sets *n; the buffer always has one spare byte after the data. Returns
 * NULL, or the reason (static text or strerror). */
const char *sngi_read_regular(const char *path, uint8_t **buf, size_t *cap, size_t *n);
/* 1 when a path component starts with '.' or is __MACOSX (ignored silently). */
int sngi_path_hidden(const char *path);

/* ---- the dataset --------------------------------------------------------------------------- */
typedef struct sngi_skip {
    char *entry;   /* entry path (or "" for the source itself), owned */
    char *reason;  /* owned */
} sngi_skip;

typedef struct sngi_native {      /* how many source images had this size and mode */
    char format[8], mode[16];
    int w, h, bits, count;
} sngi_native;

typedef struct sngi_pair {        /* one line of a pairs CSV, resolved */
    int a, b;
    float label;
} sngi_pair;

struct sngi_dataset {
    char *source;          /* as given, owned */
    char kind[64];         /* "directory", "ZIP 2.0 (deflation)", "IDX", ... */
    int c, h, w;           /* stored image shape */
    size_t img_bytes;      /* c*h*w */
    float scale, mean, std;
    int strict;

    uint8_t *pix;          /* n_images * img_bytes, one slab, owned */
    int n_images;
    int *label;            /* class per image */
    char **entry;          /* entry path per image (NULL for IDX), owned */
    int *by_path;          /* image ids sorted by entry path (for sngi_dataset_find), owned */

    int n_classes;
    char **class_name;     /* owned */
    int *class_group;
    int *class_first, *class_count;
    int n_groups;
    char **group_name;     /* owned */
    int class_depth;
    char *prefix;          /* common leading folders stripped ("" if none), owned */

    sngi_skip *skips;
    int n_skips, cap_skips;
    sngi_native native[32];
    int n_native, n_native_other;

    sngi_pair *pairs;      /* from the pairs CSV, owned */
    int n_pairs;
};

/* Records a skipped entry or warning on d (copies strings). */
sng_status sngi_dataset_skip(sng_ctx *ctx, sngi_dataset *d, const char *entry, const char *fmt,
                             ...) __attribute__((format(printf, 4, 5)));
/* Loads IDX images (and labels) into d (idx.c); d->source names the images file. */
sng_status sngi_idx_load(sng_ctx *ctx, sngi_dataset *d, const sngi_dataset_opts *o);
/* 1 when the file starts (after gunzip, if gzipped) like an IDX file. */
int sngi_idx_sniff(const char *path);
/* Loads a dataset from an archive in memory (fuzzing and tests). */
sng_status sngi_dataset_load_memory(sng_ctx *ctx, const char *name, const void *buf, size_t n,
                                    const sngi_dataset_opts *o, sngi_dataset **out);
/* Parses a pairs CSV (text, n bytes) against d's entries into d->pairs. `name` is for
 * messages. Lines that do not resolve are failures (strict) or skips. */
sng_status sngi_pairs_csv_parse(sng_ctx *ctx, sngi_dataset *d, const char *name, const char *text,
                                size_t n);
/* Applies the permutation so that image perm[i] moves to slot i, in place (one spare image). */
sng_status sngi_dataset_permute(sng_ctx *ctx, sngi_dataset *d, const int *perm);

#endif /* SNG_LOADER_INT_H */
