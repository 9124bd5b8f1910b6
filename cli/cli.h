/* The plugnet CLI: shared helpers for command implementations.
 *
 * Every top-level command `plugnet NAME ...` is a function
 *     int cmd_NAME(int argc, char **argv);   (argv[0] == "NAME")
 * declared weak below and defined in its own cli/cmd_*.c file; main.c's
 * table lists them all.  A command returns the process exit code:
 *     0 ok, 1 the daemon refused (its message on stderr), 2 usage,
 *     3 a daemon unreachable (with a hint to start it).
 * Global options (--json, --timeout) are parsed by main.c before the
 * command runs and stored in cli_opts.
 */
#ifndef PN_CLI_H
#define PN_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "pn_proto.h"
#include "pn_svc.h"
#include "suggest.h"

enum { CLI_OK = 0, CLI_REFUSED = 1, CLI_USAGE = 2, CLI_UNREACHABLE = 3 };

struct cli_opts {
    bool json;       /* --json: print the reply data as JSON */
    int timeout_ms;  /* --timeout S (default 10 s) */
    bool quiet;
};
extern struct cli_opts cli_opts;

/* Call svc.op with args (ownership passes).  On success returns CLI_OK and
 * *data (caller frees; data may be NULL to discard).  On failure prints a
 * message to stderr ("plugnet: switchd: not_found: lan 'x' does not exist")
 * and returns CLI_REFUSED or CLI_UNREACHABLE. */
int cli_call(const char *svc, const char *op, pn_val_t *args, pn_val_t **data);
/* true: the next calls skip the schema check of their args (plugnet call). */
extern bool cli_call_unchecked;
/* The same with an explicit timeout. */
int cli_call_t(const char *svc, const char *op, pn_val_t *args, int timeout_ms, pn_val_t **data);
/* The same without a word on stderr: returns 0 with *data, the daemon's
 * error code (PN_E*, > 0) or -errno (unreachable, timed out), with err set
 * to the message cli_call prints after "plugnet: "
 * ("switchd: not_found: lan 'x' does not exist"). */
int cli_call_err(const char *svc, const char *op, pn_val_t *args, int timeout_ms,
                 pn_val_t **data, char *err, size_t errlen);

/* A decimal number 0..max, the whole string (no sign, no junk): true and
 * *out, or false. */
bool cli_parse_uint(const char *s, unsigned long max, unsigned long *out);

/* -h or --help anywhere after the command: true, after printing usage
 * (and a line end) when it is not NULL. */
bool cli_help(int argc, char **argv, const char *usage);

/* Print a usage error ("plugnet lan: ...") and return CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* JSON output of any value, followed by a newline. */
void cli_print_json(const pn_val_t *v);

/* A simple aligned table: cli_table_new("NAME", "PORTS", NULL); add rows of
 * strings (printf-style cells via cli_table_row(t, "%s", ...)); print. */
typedef struct cli_table cli_table_t;
cli_table_t *cli_table_new(const char *first_header, ...);   /* NULL-terminated */
void cli_table_add(cli_table_t *t, const char *first_cell, ...); /* NULL-terminated; copies */
void cli_table_print(cli_table_t *t, FILE *f);
void cli_table_destroy(cli_table_t **t_p);

/* "s" when n things want a plural noun, "" for one: "%llu frame%s". */
const char *cli_s(unsigned long long n);

/* The names of vmd's nodes (node.ls), quietly: a NULL-terminated array the
 * caller frees with cli_names_free, or NULL when vmd does not answer.  The
 * state of the node called name, when there is one, goes to state. */
char **cli_node_names(const char *name, char *state, size_t statelen);
void cli_names_free(char ***names_p);

/* Human forms. */
void cli_fmt_duration(uint64_t ms, char *out, size_t len);  /* "3d4h", "12m5s", "850ms" */
void cli_fmt_bytes(uint64_t n, char *out, size_t len);      /* "1.5 MiB" */

/* Commands (weak: a command whose file is absent prints "not available"). */
#define CLI_COMMANDS(X)                                                     \
    X(status, "show the four daemons: up or down, version, pid, uptime")    \
    X(events, "stream events from the bus ([--json] [TOPIC...])")           \
    X(daemons, "start|stop|restart the daemons without systemd")            \
    X(lan, "add|del|ls|show LANs")                                          \
    X(port, "ls ports of a LAN, set a port up|down")                        \
    X(stats, "per-port counters of a LAN [--watch]")                        \
    X(sniff, "capture a LAN or port to a pcap file or stdout")              \
    X(disk, "build|ls|gc config disks")                                     \
    X(node, "add|start|stop|kill|reboot|del|ls|show nodes")                 \
    X(nic, "add|del NICs of a node, live")                                  \
    X(link, "take a node's link down|up (NODE:IFACE): the guest loses carrier") \
    X(console, "attach to a node's console")                                \
    X(exec, "run a command in a node through its agent")                    \
    X(shell, "interactive shell in a node")                                 \
    X(cp, "copy files to or from a node (NODE:/path)")                      \
    X(up, "bring up a lab from a topology file, or apply its changes")      \
    X(down, "tear down a lab from a topology file")                         \
    X(inspect, "show a lab")                                                \
    X(graph, "draw the live lab with Graphviz")                             \
    X(call, "send one raw request: call SVC OP [KEY=STR | KEY:=NUMBER|true|false]...")

#define X(name, doc) int cmd_##name(int argc, char **argv) __attribute__((weak));
CLI_COMMANDS(X)
#undef X

#endif
