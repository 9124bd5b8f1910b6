/* ag-call: call one op of a daemon from a shell script (tests, benches).
 *
 *   ag-call [-t MS] SVC OP [KEY=STR | KEY:=UINT | KEY?=true|false]...
 *
 * Prints the reply data as JSON; exits 0 on success, 1 when the daemon
 * refused (its error on stderr), 3 when unreachable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pn_svc.h"

int main(int argc, char **argv)
{
    int i = 1, timeout = 10000;
    if (i + 1 < argc && !strcmp(argv[i], "-t")) {
        timeout = atoi(argv[i + 1]);
        i += 2;
    }
    if (argc - i < 2) {
        fprintf(stderr, "usage: ag-call [-t MS] SVC OP [KEY=STR | KEY:=UINT | KEY?=BOOL]...\n");
        return 2;
    }
    const char *svc = argv[i], *op = argv[i + 1];
    pn_val_t *args = pn_map();
    for (i += 2; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i]) {
            fprintf(stderr, "ag-call: '%s' is not KEY=VALUE\n", argv[i]);
            return 2;
        }
        char key[256];
        size_t kl = (size_t)(eq - argv[i]);
        char kind = argv[i][kl - 1];
        if (kind == ':' || kind == '?')
            kl--;
        else
            kind = 0;
        snprintf(key, sizeof key, "%.*s", (int)kl, argv[i]);
        if (kind == ':')
            pn_map_set_uint(args, key, strtoull(eq + 1, NULL, 10));
        else if (kind == '?')
            pn_map_set_bool(args, key, !strcmp(eq + 1, "true"));
        else
            pn_map_set_str(args, key, eq + 1);
    }
    pn_val_t *data = NULL;
    char err[1024];
    int r = pn_call(svc, op, args, timeout, &data, err, sizeof err);
    if (r < 0) {
        fprintf(stderr, "ag-call: %s unreachable: %s\n", svc, strerror(-r));
        return 3;
    }
    if (r != PN_OK) {
        fprintf(stderr, "ag-call: %s: %s: %s\n", svc, pn_err_name(r), err);
        return 1;
    }
    pn_val_json(data, stdout);
    printf("\n");
    pn_val_free(data);
    return 0;
}
