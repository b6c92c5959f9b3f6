/*
 * relu — y = max(x, 0);  dx += dy * [y > 0].
 */
#include "config.h"

#include "activation.h"

SNGI_ACT_OP(relu, SNGI_ACT_RELU, SNG_OP_KINKS, "rectified linear unit");
