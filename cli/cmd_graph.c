/* plugnet graph [FILE] [--format dot|svg|png] [-o OUT]: the live lab (or the
 * lab of FILE) drawn with Graphviz. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab.h"

static const char *s_state_colour(const char *st)
{
    if (!st)
        return "white";
    if (!strcmp(st, "running"))
        return "palegreen";
    if (!strcmp(st, "starting") || !strcmp(st, "stopping"))
        return "khaki";
    if (!strcmp(st, "crashed"))
        return "salmon";
    if (!strcmp(st, "absent"))
        return "white";
    return "lightgrey";
}

/* The DOT text of a lab: nodes as boxes coloured by state, two-port LANs
 * as edges labelled with both interfaces, other LANs as ellipses. */
static void s_dot(FILE *f, const char *title, const topo_node_t *nodes, size_t n_nodes,
                  const char *(*state_of)(const void *, size_t), const void *arg, const topo_t *t)
{
    fprintf(f, "graph \"%s\" {\n", title);
    fprintf(f, "  graph [label=\"%s\", labelloc=t, fontname=\"Helvetica\", overlap=false];\n", title);
    fprintf(f, "  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", "
               "fontsize=9];\n");
    for (size_t i = 0; i < n_nodes; i++) {
        const char *st = state_of(arg, i);
        fprintf(f, "  \"n:%s\" [label=\"%s\\n%s%s%s\", shape=box, style=\"rounded,filled%s\", "
                   "fillcolor=%s];\n",
                nodes[i].name, nodes[i].name, topo_kind_name(nodes[i].kind), st ? " · " : "",
                st ? st : "", st && !strcmp(st, "absent") ? ",dashed" : "", s_state_colour(st));
    }
    /* LANs: collect the members of each. */
    for (size_t i = 0; i < n_nodes; i++) {
        for (size_t j = 0; j < nodes[i].n_nics; j++) {
            const topo_nic_t *x = &nodes[i].nics[j];
            /* Draw each LAN once, from its first member. */
            bool seen = false;
            for (size_t a = 0; a <= i && !seen; a++)
                for (size_t b = 0; b < nodes[a].n_nics && !seen; b++) {
                    if (a == i && b >= j)
                        break;
                    seen = !strcmp(nodes[a].nics[b].lan, x->lan);
                }
            if (seen)
                continue;
            size_t members = 0;
            const topo_node_t *other = NULL;
            const topo_nic_t *onic = NULL;
            for (size_t a = 0; a < n_nodes; a++)
                for (size_t b = 0; b < nodes[a].n_nics; b++)
                    if (!strcmp(nodes[a].nics[b].lan, x->lan)) {
                        members++;
                        if (&nodes[a].nics[b] != x) {
                            other = &nodes[a];
                            onic = &nodes[a].nics[b];
                        }
                    }
            const topo_lan_t *tl = t ? topo_lan_find(t, x->lan) : NULL;
            if (members == 2 && other && !(tl && tl->bridge)) {
                fprintf(f, "  \"n:%s\" -- \"n:%s\" [label=\"%s\", taillabel=\"%s%s%s\", "
                           "headlabel=\"%s%s%s\"];\n",
                        nodes[i].name, other->name, x->lan, x->ifname, x->ipv4[0] ? "\\n" : "",
                        x->ipv4, onic->ifname, onic->ipv4[0] ? "\\n" : "", onic->ipv4);
                continue;
            }
            fprintf(f, "  \"l:%s\" [label=\"%s\", shape=ellipse, style=filled, "
                       "fillcolor=lightblue];\n",
                    x->lan, x->lan);
            for (size_t a = 0; a < n_nodes; a++)
                for (size_t b = 0; b < nodes[a].n_nics; b++)
                    if (!strcmp(nodes[a].nics[b].lan, x->lan))
                        fprintf(f, "  \"n:%s\" -- \"l:%s\" [label=\"%s%s%s\"];\n", nodes[a].name,
                                x->lan, nodes[a].nics[b].ifname, nodes[a].nics[b].ipv4[0] ? "\\n" : "",
                                nodes[a].nics[b].ipv4);
        }
    }
    fprintf(f, "}\n");
}

typedef struct {
    const topo_t *t;
    const topo_live_t *live;
    bool have_live;
} graph_arg_t;

static const char *s_graph_file_state(const void *arg, size_t i)
{
    const graph_arg_t *g = arg;
    if (!g->have_live)
        return NULL;
    const char *st = lab_live_state(g->live, g->t->nodes[i].name);
    return st ? st : "absent";
}

static const char *s_graph_live_state(const void *arg, size_t i)
{
    const graph_arg_t *g = arg;
    return g->live->states[i];
}

int cmd_graph(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *format = "dot", *out = NULL;
    int c;
    optind = 0; /* 0: a full re-initialisation of GNU getopt (main.c used it) */
    while ((c = getopt_long(argc, argv, "f:o:hT:", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
        case 'T': format = optarg; break;
        case 'o': out = optarg; break;
        case 'h':
            printf("usage: plugnet graph [FILE] [--format dot|svg|png] [-o OUT]\n\n"
                   "Draw the live lab with Graphviz: nodes coloured by state (green running,\n"
                   "yellow starting, red crashed, grey stopped, white absent), LANs as\n"
                   "ellipses, point-to-point links as edges labelled with interfaces.\n"
                   "With FILE, that lab (drawn from the file when the daemons are down).\n\n"
                   "  -f, --format F   dot (default), svg or png (through dot); -T F as in dot\n"
                   "  -o, --output F   write to F instead of stdout\n");
            return CLI_OK;
        default: return cli_usage("graph", "unknown option");
        }
    }
    if (strcmp(format, "dot") && strcmp(format, "svg") && strcmp(format, "png"))
        return cli_usage("graph", "format '%s' is not dot, svg or png", format);
    if (strcmp(format, "dot") && !out && isatty(STDOUT_FILENO))
        return cli_usage("graph", "%s to a terminal? use -o FILE", format);
    const char *file = optind < argc ? argv[optind] : NULL;
    topo_t *t = NULL;
    if (file && lab_load(file, &t) < 0)
        return CLI_USAGE;
    topo_live_t live = { 0 };
    char err[1024];
    bool have_live = false;
    if (pn_svc_socket_present("vmd") && pn_svc_socket_present("switchd"))
        have_live = lab_live_fetch(&live, t, NULL, err, sizeof err) == 0;
    if (!t && !have_live) {
        topo_destroy(&t);
        return lab_unreachable("no topology file given and the daemons are not running");
    }
    /* Without a file, every live node; its NICs come from node.show. */
    if (!t) {
        for (size_t i = 0; i < live.n_nodes; i++) {
            if (live.nodes[i].n_nics)
                continue;
            pn_val_t *a = pn_map(), *d = NULL;
            pn_map_set_str(a, "name", live.nodes[i].name);
            char e[256], st[16];
            topo_node_t n;
            if (cli_call_err(PN_OP_NODE_SHOW, a, LAB_READ_MS, &d, e, sizeof e) == 0 &&
                lab_node_from_val(d, &n, st) == 0) {
                topo_node_clear(&live.nodes[i]);
                live.nodes[i] = n;
            }
            pn_val_free(d);
        }
    }
    FILE *f = stdout;
    char cmd[4300];
    if (strcmp(format, "dot") != 0) {
        if (system("command -v dot >/dev/null 2>&1") != 0) {
            fprintf(stderr, "plugnet: Graphviz's dot is not installed (apt-get install graphviz)\n");
            topo_live_clear(&live);
            topo_destroy(&t);
            return CLI_REFUSED;
        }
        snprintf(cmd, sizeof cmd, "dot -T%s%s%s%s", format, out ? " -o '" : "", out ? out : "",
                 out ? "'" : "");
        f = popen(cmd, "w");
    } else if (out) {
        f = fopen(out, "w");
    }
    if (!f) {
        fprintf(stderr, "plugnet: cannot write %s: %s\n", out ? out : "the graph", strerror(errno));
        topo_live_clear(&live);
        topo_destroy(&t);
        return CLI_REFUSED;
    }
    graph_arg_t g = { t, &live, have_live };
    if (t)
        s_dot(f, t->name, t->nodes, t->n_nodes, s_graph_file_state, &g, t);
    else
        s_dot(f, "plugnet", live.nodes, live.n_nodes, s_graph_live_state, &g, NULL);
    int rc = CLI_OK;
    if (strcmp(format, "dot") != 0) {
        if (pclose(f) != 0) {
            fprintf(stderr, "plugnet: dot failed to draw the graph\n");
            rc = CLI_REFUSED;
        }
    } else if (out) {
        if (fclose(f) != 0)
            rc = CLI_REFUSED;
    } else {
        fflush(stdout);
    }
    topo_live_clear(&live);
    topo_destroy(&t);
    return rc;
}
