#!/bin/sh
# Regenerate services/cfgdiskd/config_sh.c from services/cfgdiskd/config.sh
# (the guest's config script, embedded in plugnet-cfgdiskd).  The unit test
# cd_render fails when the two differ.
set -eu
cd "$(dirname "$0")/.."
src=services/cfgdiskd/config.sh
{
    echo "/* GENERATED from config.sh by scripts/cd-embed-config.sh: do not edit. */"
    echo '#include "render.h"'
    echo
    echo "static const char config_sh[] ="
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$/\\n"/' "$src"
    echo "    ;"
    echo
    echo "const char *cd_config_script(void)"
    echo "{"
    echo "    return config_sh;"
    echo "}"
} >services/cfgdiskd/config_sh.c
