/*
 * feed.h — the data behind `sngraph run` and `sngraph eval`: a model's data.* settings become
 * datasets, class-disjoint splits, samplers and a prefetching loader, handed to the training
 * loop and to evaluation as a feed (train.h). A C program trains or evaluates exactly as the
 * command line does with sngi_data_open + sngi_train_run or sngi_evaluate.
 */
#ifndef SNG_FEED_H
#define SNG_FEED_H

#include "app/train.h"
#include "loaders/loader.h"

typedef struct sngi_data sngi_data;

typedef struct sngi_data_opts {
    int need_train;        /* build the training sampler and its prefetching loader */
    int whole_test_source; /* data.test.source without data.test.classes is the whole test
                              split and the other sources are ignored (`sngraph eval`) */
    int shard, n_shards;   /* data parallel: this rank takes slice `shard` of n_shards (1: all) */
} sngi_data_opts;

/* Reads g's data.* settings (and train.batch, train.seed, eval.pairs) through the settings
 * table, loads the sources, cuts the splits and builds the samplers. The model's inputs are
 * fed by role (sngi_io_get): a model whose inputs cannot all be fed, or whose image inputs
 * differ in shape, is refused. *out is owned by the caller (sngi_data_free). */
sng_status sngi_data_open(sng_ctx *ctx, sng_graph *g, const sngi_data_opts *o, sngi_data **out);
void sngi_data_free(sngi_data *d);
/* What `sngraph data MODEL` reads: g's training source (data.train.source, else data.source)
 * and the options the feed loads it with (the model's image size and normalisation, the
 * data.* loader settings). o->source borrows from g. */
sng_status sngi_data_train_source(sng_ctx *ctx, sng_graph *g, sngi_dataset_opts *o);
/* Loads o's source and writes what it holds (text, or JSON) to out; *n_skipped receives the
 * number of entries skipped. */
sng_status sngi_data_describe_source(sng_ctx *ctx, const sngi_dataset_opts *o, FILE *out,
                                     int json, int *n_skipped);
/* The feed over d (valid while d lives). */
void sngi_data_feed(sngi_data *d, sngi_feed *f);
/* 1 when the split has verification pairs. */
int sngi_data_has_split(const sngi_data *d, int split);
/* Seconds the training loop waited for batches, and the producer spent making them. */
double sngi_data_wait_seconds(const sngi_data *d);
double sngi_data_fill_seconds(const sngi_data *d);

#endif
