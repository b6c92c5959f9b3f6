/*
 * sigmoid — y = 1 / (1 + exp(-x)), evaluated without overflow for either sign of x;
 * dx += dy * y * (1 - y) (backward reads only the output).
 */
#include "config.h"

#include "activation.h"

SNGI_ACT_OP(sigmoid, SNGI_ACT_SIGMOID, 0, "logistic function 1/(1+exp(-x))");
