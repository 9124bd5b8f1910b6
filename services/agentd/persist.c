/* agentd's registrations outlive agentd: every agent.register and
 * agent.unregister rewrites STATE/agentd/agents, and a starting agentd
 * registers those nodes again and reconnects to their agents.  So a
 * restarted agentd (a crash, a watchdog abort, an upgrade) serves the
 * same nodes without vmd having to notice it went away; vmd's own
 * re-registration, when vmd restarts, lands on the same entries. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agentd.h"

static int s_path(char *out, size_t len, bool dir)
{
    int n = snprintf(out, len, dir ? "%s/agentd" : "%s/agentd/agents", pn_state_dir());
    return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

void agd_persist_save(agd_t *a)
{
    char dir[4200], path[4200];
    if (s_path(dir, sizeof dir, true) < 0 || s_path(path, sizeof path, false) < 0)
        return;
    int r = pn_mkdirs(dir, 0755);
    pn_val_t *root = pn_map(), *arr = pn_arr();
    for (agd_node_t *n = a->nodes; n; n = n->next) {
        pn_val_t *m = pn_map();
        pn_map_set_str(m, "node", n->name);
        pn_map_set_str(m, "kind", n->kind);
        pn_map_set_str(m, "path", n->path ? n->path : "");
        pn_map_set_uint(m, "started_ns", n->started_ns);
        if (n->console)
            pn_map_set_str(m, "console", n->console);
        if (n->knock_ms >= 0)
            pn_map_set_uint(m, "knock_ms", (uint64_t)n->knock_ms);
        pn_arr_push(arr, m);
    }
    pn_map_set(root, "agents", arr);
    if (r == 0)
        r = pn_state_save(path, root);
    pn_val_free(root);
    if (r < 0) {
        static pn_ratelimit_t rl = PN_RATELIMIT_INIT(10000, 3);
        pn_log_rl(&rl, PN_LOG_WARNING, "agentd: cannot save the registrations to %s: %s", path, strerror(-r));
    }
}

void agd_persist_restore(agd_t *a)
{
    char path[4200];
    pn_val_t *root = NULL;
    if (s_path(path, sizeof path, false) < 0)
        return;
    int r = pn_state_load(path, &root);
    if (r == -ENOENT)
        return;
    if (r < 0) {
        pn_warn("agentd: cannot load %s: %s; starting with no agents", path, strerror(-r));
        return;
    }
    pn_val_t *arr = pn_get(root, "agents");
    size_t n = arr && arr->type == PN_ARR ? pn_len(arr) : 0, ok = 0;
    for (size_t i = 0; i < n; i++) {
        pn_val_t *m = pn_at(arr, i);
        const char *node = pn_get_str(m, "node", ""), *kind = pn_get_str(m, "kind", "");
        const char *p = pn_get_str(m, "path", "");
        if (!pn_name_valid(node) || !*p || p[0] != '/' ||
            (strcmp(kind, "uml") && strcmp(kind, "qemu") && strcmp(kind, "ns"))) {
            pn_warn("agentd: %s: skipping a bad entry (#%zu)", path, i);
            continue;
        }
        pn_val_t *k = pn_get(m, "knock_ms");
        if (agd_node_register(a, node, kind, p, pn_get_uint(m, "started_ns", 0), pn_get_str(m, "console", NULL),
                              k ? (int64_t)pn_get_uint(m, "knock_ms", 0) : -1) == 0)
            ok++;
    }
    pn_val_free(root);
    if (ok)
        pn_notice("agentd: registered %zu agents again from %s", ok, path);
}
