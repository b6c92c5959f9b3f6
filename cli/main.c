/* main.c — the sngraph program: everything lives in the library's sng_cli_main. */
#include "sngraph/sngraph.h"

int main(int argc, char **argv) { return sng_cli_main(argc, argv, stdout, stderr); }
