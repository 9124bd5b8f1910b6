/* Shared helpers of the CLI commands. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The global options: main() fills them before a command runs. */
struct cli_opts cli_opts = { .json = false, .timeout_ms = 10000 };

/* Every call the CLI makes is checked against the schema before it leaves:
 * a command whose args disagree with proto/schema.c (a missing required
 * key, a wrong type) fails the same way every time it runs, naming the key
 * in the words the daemon would use, whether or not the daemon runs.
 * `plugnet call` alone sends what the user typed unchecked: it is the tool
 * for poking at a daemon. */
bool cli_call_unchecked;

int cli_call_err(const char *svc, const char *op, pn_val_t *args, int timeout_ms,
                 pn_val_t **data, char *err, size_t errlen)
{
    char msg[1024] = "";
    pn_val_t *d = NULL;
    if (data)
        *data = NULL;
    const pn_opdef_t *def = cli_call_unchecked ? NULL : pn_op_find(svc, op);
    if (def && args) {
        int c = pn_schema_check(def->args, args, "args", msg, sizeof msg);
        if (c != PN_OK) {
            pn_val_free(args);
            snprintf(err, errlen, "%s: %s: %s", svc, pn_err_name(c), msg); /* as the daemon says it */
            return c;
        }
    }
    int r = pn_call(svc, op, args, timeout_ms, &d, msg, sizeof msg);
    if (r == PN_OK) {
        if (data)
            *data = d;
        else
            pn_val_free(d);
        return 0;
    }
    pn_val_free(d);
    if (r < 0)
        snprintf(err, errlen, "%s", msg);
    else
        snprintf(err, errlen, "%s: %s: %s", svc, pn_err_name(r), msg);
    return r;
}

int cli_call_t(const char *svc, const char *op, pn_val_t *args, int timeout_ms, pn_val_t **data)
{
    char err[1200];
    int r = cli_call_err(svc, op, args, timeout_ms, data, err, sizeof err);
    if (r == 0)
        return CLI_OK;
    fprintf(stderr, "plugnet: %s\n", err);
    if (r == -ECONNREFUSED)
        fprintf(stderr, "hint: start the daemons with 'plugnet daemons start' "
                        "(or 'systemctl start plugnet.target')\n");
    return r < 0 ? CLI_UNREACHABLE : CLI_REFUSED;
}

int cli_call(const char *svc, const char *op, pn_val_t *args, pn_val_t **data)
{
    return cli_call_t(svc, op, args, cli_opts.timeout_ms, data);
}

bool cli_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > max || s[0] == '-')
        return false;
    *out = v;
    return true;
}

bool cli_help(int argc, char **argv, const char *usage)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            if (usage)
                printf("%s\n", usage);
            return true;
        }
    return false;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "plugnet %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    return CLI_USAGE;
}

void cli_print_json(const pn_val_t *v)
{
    pn_val_json(v, stdout);
    fputc('\n', stdout);
}

struct cli_table {
    size_t ncols, nrows, cap;
    char **cells; /* row-major, row 0 = headers */
};

cli_table_t *cli_table_new(const char *first, ...)
{
    cli_table_t *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    va_list ap;
    va_start(ap, first);
    const char *h = first;
    size_t n = 0;
    while (h) {
        n++;
        h = va_arg(ap, const char *);
    }
    va_end(ap);
    t->ncols = n;
    t->cap = 16;
    t->cells = calloc(t->cap * n, sizeof(char *));
    va_start(ap, first);
    h = first;
    for (size_t i = 0; i < n; i++) {
        t->cells[i] = strdup(h);
        h = va_arg(ap, const char *);
    }
    va_end(ap);
    t->nrows = 1;
    return t;
}

void cli_table_add(cli_table_t *t, const char *first, ...)
{
    if (!t)
        return;
    if (t->nrows == t->cap) {
        t->cap *= 2;
        t->cells = realloc(t->cells, t->cap * t->ncols * sizeof(char *));
    }
    va_list ap;
    va_start(ap, first);
    const char *c = first;
    for (size_t i = 0; i < t->ncols; i++) {
        t->cells[t->nrows * t->ncols + i] = strdup(c ? c : "");
        c = c ? va_arg(ap, const char *) : NULL;
    }
    va_end(ap);
    t->nrows++;
}

void cli_table_print(cli_table_t *t, FILE *f)
{
    if (!t)
        return;
    size_t w[64] = { 0 };
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols && c < 64; c++) {
            size_t l = strlen(t->cells[r * t->ncols + c]);
            if (l > w[c])
                w[c] = l;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            if (c + 1 == t->ncols)
                fprintf(f, "%s", s);
            else
                fprintf(f, "%-*s  ", (int)w[c], s);
        }
        fputc('\n', f);
    }
}

void cli_table_destroy(cli_table_t **tp)
{
    if (!tp || !*tp)
        return;
    cli_table_t *t = *tp;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
    *tp = NULL;
}

void cli_fmt_duration(uint64_t ms, char *out, size_t len)
{
    uint64_t s = ms / 1000;
    if (ms < 1000)
        snprintf(out, len, "%llums", (unsigned long long)ms);
    else if (s < 60)
        snprintf(out, len, "%llu.%llus", (unsigned long long)s, (unsigned long long)(ms % 1000) / 100);
    else if (s < 3600)
        snprintf(out, len, "%llum%llus", (unsigned long long)s / 60, (unsigned long long)s % 60);
    else if (s < 86400)
        snprintf(out, len, "%lluh%llum", (unsigned long long)s / 3600, (unsigned long long)(s % 3600) / 60);
    else
        snprintf(out, len, "%llud%lluh", (unsigned long long)s / 86400, (unsigned long long)(s % 86400) / 3600);
}

void cli_fmt_bytes(uint64_t n, char *out, size_t len)
{
    static const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)n;
    int i = 0;
    while (v >= 1024 && i < 4) {
        v /= 1024;
        i++;
    }
    if (i == 0)
        snprintf(out, len, "%llu B", (unsigned long long)n);
    else
        snprintf(out, len, "%.1f %s", v, u[i]);
}

const char *cli_s(unsigned long long n) { return n == 1 ? "" : "s"; }

char **cli_node_names(const char *name, char *state, size_t statelen)
{
    char err[1200];
    pn_val_t *d = NULL;
    if (state && statelen)
        state[0] = 0;
    if (cli_call_err(PN_OP_NODE_LS, NULL, cli_opts.timeout_ms, &d, err, sizeof err) != 0)
        return NULL;
    pn_val_t *arr = pn_get(d, "nodes");
    char **names = calloc(pn_len(arr) + 1, sizeof *names);
    for (size_t i = 0; names && i < pn_len(arr); i++) {
        const char *nm = pn_get_str(pn_at(arr, i), "name", "");
        names[i] = strdup(nm);
        if (name && state && !strcmp(nm, name))
            snprintf(state, statelen, "%s", pn_get_str(pn_at(arr, i), "state", "?"));
    }
    pn_val_free(d);
    return names;
}

void cli_names_free(char ***names_p)
{
    if (!names_p || !*names_p)
        return;
    for (char **p = *names_p; *p; p++)
        free(*p);
    free(*names_p);
    *names_p = NULL;
}
