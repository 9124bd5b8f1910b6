/* pn-gendoc: write docs/PROTOCOL.md from the schema in proto/schema.c. */
#include <stdio.h>

#include "pn_proto.h"

int main(void)
{
    pn_schema_markdown(stdout);
    return 0;
}
