/* plugnet link NODE:IFACE down|up: cut a node's link so that the guest
 * sees it (vmd's link.set). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char s_usage[] =
    "usage: plugnet link NODE:IFACE down|up\n"
    "Take a running node's link down or up: its switch port is set admin down (frames dropped, as\n"
    "`plugnet port set` does) and the guest loses its carrier where its kind allows:\n"
    "  ns    the tap's carrier goes: `ip link` in the node shows NO-CARRIER\n"
    "  qemu  the virtio NIC's link goes (QMP set_link): NO-CARRIER in the guest\n"
    "  uml   cannot: the guest keeps its carrier; frames are dropped";

int cmd_link(int argc, char **argv)
{
    if (cli_help(argc, argv, s_usage))
        return CLI_OK;
    if (argc != 3 || (strcmp(argv[2], "down") != 0 && strcmp(argv[2], "up") != 0))
        return cli_usage("link", "NODE:IFACE down|up");
    char node[128];
    const char *colon = strchr(argv[1], ':');
    size_t n = colon ? (size_t)(colon - argv[1]) : 0;
    if (!colon || n == 0 || n >= sizeof(node) || !colon[1])
        return cli_usage("link", "'%s' is not NODE:IFACE (e.g. web:eth1)", argv[1]);
    memcpy(node, argv[1], n);
    node[n] = 0;
    pn_val_t *a = pn_map(), *d = NULL;
    pn_map_set_str(a, "node", node);
    pn_map_set_str(a, "ifname", colon + 1);
    pn_map_set_str(a, "state", argv[2]);
    int r = cli_call(PN_OP_LINK_SET, a, &d);
    if (r != CLI_OK)
        return r;
    if (cli_opts.json) {
        cli_print_json(d);
    } else if (!cli_opts.quiet) {
        unsigned long long ports = pn_get_uint(d, "ports", 0);
        printf("link %s:%s %s (lan %s, %llu switch port%s)", pn_get_str(d, "node", "?"), pn_get_str(d, "ifname", "?"),
               pn_get_str(d, "state", "?"), pn_get_str(d, "lan", "?"), ports, ports == 1 ? "" : "s");
        const char *note = pn_get_str(d, "note", NULL);
        if (note)
            printf("; %s", note);
        printf("\n");
    }
    pn_val_free(d);
    return CLI_OK;
}
