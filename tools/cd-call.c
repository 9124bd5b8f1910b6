/* cd-call SVC OP [JSON-ARGS | @FILE]: send one request to a daemon and print
 * the reply as JSON; exit 0 ok, 1 refused (error JSON on stdout), 3 no
 * daemon.  For tests and benchmarks that need to send specs the CLI's
 * flags cannot express (bad ones included). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../services/cfgdiskd/json.h"
#include "pn_svc.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: cd-call SVC OP [JSON | @FILE] [TIMEOUT_MS]\n");
        return 2;
    }
    pn_val_t *args = NULL;
    if (argc > 3) {
        char *text = NULL;
        size_t len = 0;
        if (argv[3][0] == '@') {
            if (pn_file_read(argv[3] + 1, 256u << 20, &text, &len) < 0) {
                fprintf(stderr, "cd-call: cannot read %s\n", argv[3] + 1);
                return 2;
            }
        } else {
            text = strdup(argv[3]);
            len = strlen(text);
        }
        char err[256];
        args = cd_json_parse(text, len, err, sizeof err);
        free(text);
        if (!args) {
            fprintf(stderr, "cd-call: bad JSON: %s\n", err);
            return 2;
        }
    }
    int timeout = argc > 4 ? atoi(argv[4]) : 60000;
    pn_val_t *data = NULL;
    char err[1024];
    int r = pn_call(argv[1], argv[2], args, timeout, &data, err, sizeof err);
    if (r == PN_OK) {
        pn_val_json(data, stdout);
        printf("\n");
        pn_val_free(data);
        return 0;
    }
    if (r > 0) {
        pn_val_t *e = pn_map();
        pn_map_set_str(e, "code", pn_err_name(r));
        pn_map_set_str(e, "msg", err);
        pn_val_json(e, stdout);
        printf("\n");
        pn_val_free(e);
        return 1;
    }
    fprintf(stderr, "cd-call: %s: %s\n", argv[1], strerror(-r));
    return 3;
}
