/* cd-call [-r N] [-t MS] SVC OP [JSON | @FILE]...: send a request to a daemon
 * and print the reply as JSON; exit 0 ok, 1 refused (error JSON on stdout),
 * 2 usage, 3 no daemon.  For tests and benchmarks that need to send specs
 * the CLI's flags cannot express (bad ones included).
 *
 * With -r N, N requests go over one connection, request i carrying the
 * (i mod count)-th argument, and only the mean round trip in microseconds
 * is printed (benchmarks). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pn_json.h"
#include "pn_svc.h"

static uint64_t s_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static pn_val_t *s_args(const char *a)
{
    char *text = NULL;
    size_t len = 0;
    if (a[0] == '@') {
        if (pn_file_read(a + 1, 256u << 20, &text, &len) < 0) {
            fprintf(stderr, "cd-call: cannot read %s\n", a + 1);
            return NULL;
        }
    } else {
        text = strdup(a);
        len = strlen(text);
    }
    char err[256];
    pn_val_t *v = pn_json_parse(text, len, err, sizeof err);
    free(text);
    if (!v)
        fprintf(stderr, "cd-call: bad JSON in %s: %s\n", a, err);
    return v;
}

int main(int argc, char **argv)
{
    long repeat = 0;
    int timeout = 60000, c;
    while ((c = getopt(argc, argv, "+r:t:")) != -1) {
        switch (c) {
        case 'r': repeat = strtol(optarg, NULL, 10); break;
        case 't': timeout = atoi(optarg); break;
        default: return 2;
        }
    }
    if (argc - optind < 2) {
        fprintf(stderr, "usage: cd-call [-r N] [-t MS] SVC OP [JSON | @FILE]...\n");
        return 2;
    }
    const char *svc = argv[optind], *op = argv[optind + 1];
    int nargs = argc - optind - 2;
    pn_val_t **args = calloc((size_t)(nargs ? nargs : 1), sizeof *args);
    for (int i = 0; i < nargs; i++)
        if (!(args[i] = s_args(argv[optind + 2 + i])))
            return 2;

    if (repeat <= 0) {
        pn_val_t *data = NULL;
        char err[1024];
        int r = pn_call(svc, op, nargs ? args[0] : NULL, timeout, &data, err, sizeof err);
        free(args);
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
        fprintf(stderr, "cd-call: %s: %s\n", svc, strerror(-r));
        return 3;
    }

    pn_client_t *cl = pn_client_new(svc);
    if (!cl) {
        fprintf(stderr, "cd-call: cannot connect to %s\n", svc);
        return 3;
    }
    int rc = 0;
    uint64_t t0 = s_us();
    for (long i = 0; i < repeat; i++) {
        pn_val_t *data = NULL;
        char err[1024];
        pn_val_t *a = nargs ? pn_val_dup(args[i % nargs]) : NULL;
        int r = pn_client_call(cl, op, a, timeout, &data, err, sizeof err);
        pn_val_free(data);
        if (r != PN_OK) {
            fprintf(stderr, "cd-call: request %ld failed: %s\n", i, r > 0 ? err : strerror(-r));
            rc = 1;
            break;
        }
    }
    if (!rc)
        printf("%llu\n", (unsigned long long)((s_us() - t0) / (uint64_t)repeat));
    pn_client_destroy(&cl);
    for (int i = 0; i < nargs; i++)
        pn_val_free(args[i]);
    free(args);
    return rc;
}
