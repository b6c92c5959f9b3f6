/*
 * tanh — y = tanh(x);  dx += dy * (1 - y^2) (backward reads only the output).
 */
#include "config.h"

#include "activation.h"

SNGI_ACT_OP(tanh, SNGI_ACT_TANH, 0, "hyperbolic tangent");
