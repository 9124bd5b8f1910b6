/* pn-bench-ping SVC CLIENTS SECONDS: ping round trips per second from
 * CLIENTS concurrent clients (threads, each with its own socket). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pn_svc.h"

typedef struct {
    const char *svc;
    uint64_t end_ms;
    uint64_t count, errors;
} job_t;

static void *s_run(void *arg)
{
    job_t *j = arg;
    pn_client_t *c = pn_client_new(j->svc);
    char err[256];
    while (c && pn_mono_ms() < j->end_ms) {
        pn_val_t *d = NULL;
        if (pn_client_call(c, "ping", NULL, 5000, &d, err, sizeof(err)) == PN_OK)
            j->count++;
        else
            j->errors++;
        pn_val_free(d);
    }
    pn_client_destroy(&c);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: pn-bench-ping SVC CLIENTS SECONDS\n");
        return 2;
    }
    int n = atoi(argv[2]);
    double secs = atof(argv[3]);
    if (n < 1 || n > 64 || secs <= 0)
        return 2;
    pthread_t th[64];
    job_t jobs[64];
    uint64_t start = pn_mono_ms();
    for (int i = 0; i < n; i++) {
        jobs[i] = (job_t){ .svc = argv[1], .end_ms = start + (uint64_t)(secs * 1000) };
        pthread_create(&th[i], NULL, s_run, &jobs[i]);
    }
    uint64_t total = 0, errors = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        total += jobs[i].count;
        errors += jobs[i].errors;
    }
    double el = (double)(pn_mono_ms() - start) / 1000.0;
    printf("%.0f\n", (double)total / el);
    if (errors)
        fprintf(stderr, "%llu errors\n", (unsigned long long)errors);
    return errors ? 1 : 0;
}
