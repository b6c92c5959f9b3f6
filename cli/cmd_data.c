/* cmd_data.c — `sngraph data` (placeholder until the loaders land). */
#include "config.h"

#include "cli.h"

int sngi_cmd_data(int argc, char **argv, FILE *out, FILE *err) {
    (void)argc; (void)argv; (void)out;
    fprintf(err, "sngraph data: not available yet\n");
    return SNG_EXIT_INTERNAL;
}
