/*
 * op_ctx.c — the services the engine offers ops through sngi_op_ctx (ops/op.h): declaring
 * parameters and running state. Only here do op calls reach struct sng_graph.
 */
#include "config.h"

#include "ops/op.h"
#include "sng_int.h"

sng_status sngi_op_param(sngi_op_ctx *c, const char *pname, const sngi_shape *shape,
                         sngi_init init, float scale, int fan_in, int fan_out) {
    int id;
    sng_status st =
        sngi_graph_param(c->ctx, c->g, c->node_id, pname, shape, init, fan_in, fan_out, &id);
    if (st) return st;
    c->g->params[id].init_scale = scale;
    if (!c->node->trainable) c->g->params[id].trainable = 0;
    return SNG_OK;
}

sng_status sngi_op_state(sngi_op_ctx *c, const char *pname, const sngi_shape *shape,
                         sngi_init init) {
    int id;
    sng_status st = sngi_graph_param(c->ctx, c->g, c->node_id, pname, shape, init, 1, 1, &id);
    if (st) return st;
    c->g->params[id].trainable = 0;
    c->g->params[id].is_state = 1;
    return SNG_OK;
}
