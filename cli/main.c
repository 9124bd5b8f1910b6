/* plugnet: the command-line client. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"


typedef struct {
    const char *name;
    int (**fn)(int, char **);
    const char *doc;
} cmd_t;

/* The table: every command's function pointer is weak, so a command whose
 * source is not in the build is listed but answers "not available". */
#define X(name, doc) static int (*s_fn_##name)(int, char **) = cmd_##name;
CLI_COMMANDS(X)
#undef X
static const cmd_t s_cmds[] = {
#define X(name, doc) { #name, &s_fn_##name, doc },
    CLI_COMMANDS(X)
#undef X
    { NULL, NULL, NULL },
};

static void s_usage(FILE *f)
{
    fprintf(f, "usage: plugnet [--json] [--timeout S] COMMAND [ARGS...]\n\n"
               "plugnet builds networks of real Linux machines (UML, qemu, namespaces) on one host.\n\n"
               "Commands:\n");
    for (const cmd_t *c = s_cmds; c->name; c++)
        if (*c->fn)
            fprintf(f, "  %-10s %s\n", c->name, c->doc);
    fprintf(f, "  %-10s %s\n", "help", "help [COMMAND]: this text, or a command's usage");
    fprintf(f, "\nGlobal options:\n"
               "  --json        machine-readable output for listings\n"
               "  --timeout S   give up on a daemon after S seconds (default 10)\n"
               "  --version     print the version\n"
               "\nExit codes: 0 ok, 1 a daemon refused, 2 usage, 3 a daemon is unreachable.\n");
}

/* "plugnet: unknown command 'nodes' (did you mean 'node'?)": a usage
 * error of plugnet itself, so one "plugnet:" and no command after it. */
static int s_unknown(const char *name)
{
    const char *cands[sizeof s_cmds / sizeof s_cmds[0] + 1];
    size_t n = 0;
    for (const cmd_t *c = s_cmds; c->name; c++)
        if (*c->fn)
            cands[n++] = c->name;
    cands[n++] = "help";
    const char *near = cli_suggest(name, cands, n);
    if (near)
        fprintf(stderr, "plugnet: unknown command '%s' (did you mean '%s'?)\n", name, near);
    else
        fprintf(stderr, "plugnet: unknown command '%s' (see 'plugnet help')\n", name);
    return CLI_USAGE;
}

static const cmd_t *s_find(const char *name)
{
    for (const cmd_t *c = s_cmds; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "timeout", required_argument, NULL, 't' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    /* '+' stops at the first non-option: the command's own options follow. */
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': cli_opts.json = true; break;
        case 't': {
            char *end;
            double s = strtod(optarg, &end);
            if (*end || s <= 0 || s > 86400) {
                fprintf(stderr, "plugnet: --timeout wants seconds, not '%s'\n", optarg);
                return CLI_USAGE;
            }
            cli_opts.timeout_ms = (int)(s * 1000);
            break;
        }
        case 'V': printf("plugnet %s\n", PN_VERSION); return 0;
        case 'h': s_usage(stdout); return 0;
        default: s_usage(stderr); return CLI_USAGE;
        }
    }
    if (optind >= argc) {
        s_usage(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[optind];
    if (strcmp(name, "help") == 0) {
        if (optind + 1 >= argc) {
            s_usage(stdout);
            return 0;
        }
        const cmd_t *cmd = s_find(argv[optind + 1]);
        if (!cmd || !*cmd->fn)
            return s_unknown(argv[optind + 1]);
        char *hargv[] = { (char *)cmd->name, "--help", NULL };
        optind = 1;
        return (*cmd->fn)(2, hargv);
    }
    const cmd_t *cmd = s_find(name);
    if (!cmd)
        return s_unknown(name);
    if (!*cmd->fn) {
        fprintf(stderr, "plugnet: '%s' is not available in this build\n", name);
        return CLI_USAGE;
    }
    int cargc = argc - optind;
    char **cargv = argv + optind;
    optind = 1; /* commands parse their own options from their argv */
    /* Commands that take --json themselves see it too: accept it anywhere. */
    int out = 0;
    for (int i = 0; i < cargc; i++) {
        if (strcmp(cargv[i], "--") == 0) {
            for (; i < cargc; i++)
                cargv[out++] = cargv[i];
            break;
        }
        if (strcmp(cargv[i], "--json") == 0 && i > 0) {
            cli_opts.json = true;
            continue;
        }
        cargv[out++] = cargv[i];
    }
    cargv[out] = NULL;
    return (*cmd->fn)(out, cargv);
}
