// FUZZ_SOURCES: cli/topo.c cli/topo_yaml.c cli/topo_node.c cli/topo_link.c cli/topo_value.c
/* Fuzz the topology parser: any bytes give a lab or one error, never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "topo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    topo_t *t = NULL;
    if (topo_parse((const char *)data, size, "fuzz.clab.yml", &t, err, sizeof err) == 0 && !t)
        abort();
    topo_destroy(&t);
    return 0;
}
