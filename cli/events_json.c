/* `plugnet events --json`: one object per line in the containerlab events
 * shape, so tooling written for `containerlab events --format json` (and
 * Docker's events) reads plugnet's bus unchanged:
 *
 *   {"timestamp": "2026-11-21T23:50:01.123456789Z", "type": "node",
 *    "action": "running", "actor": {"id": "r1", "attributes": {"name": "r1",
 *    "kind": "uml"}}, "attributes": {"source": "vmd", "topic": "vmd.node",
 *    "seq": 12, ...the event's data...}}
 *
 * type and action split the event type at its first dot ("lan.added"); a
 * "<obj>.state" event's action is its new state ("node" "running");
 * the actor is the object the event is about (a node, an agent, a LAN or
 * a port, else the daemon); its attributes are the event's scalar fields
 * as strings, as containerlab gives them.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "events_json.h"
#include "pn_val.h"

static pn_val_t *s_as_string(const pn_val_t *v)
{
    switch (v->type) {
    case PN_STR: return pn_str(v->s.p);
    case PN_BOOL: return pn_str(v->b ? "true" : "false");
    case PN_INT: return pn_strf("%lld", (long long)v->i);
    case PN_UINT: return pn_strf("%llu", (unsigned long long)v->u);
    case PN_FLOAT: return pn_strf("%g", v->f);
    default: return NULL;
    }
}

void cli_event_clab_json(const pn_msg_t *ev, const char *topic, FILE *f)
{
    const char *type = ev->type ? ev->type : "";
    const char *dot = strchr(type, '.');
    const pn_val_t *data = ev->data && ev->data->type == PN_MAP ? ev->data : NULL;
    const char *src = ev->src ? ev->src : "";

    char ts[64];
    time_t sec = (time_t)(ev->ts / 1000000000ull);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%09lluZ", (unsigned long long)(ev->ts % 1000000000ull));

    pn_val_t *o = pn_map(), *actor = pn_map(), *aattr = pn_map(), *attr = pn_map();
    pn_map_set_str(o, "timestamp", ts);
    const char *state = pn_get_str(data, "state", NULL);
    if (dot && !strcmp(dot + 1, "state") && state) {
        /* vmd's node.state carries the new state: that is the action
         * ("node" "running"), as containerlab's "container" "start". */
        pn_map_set(o, "type", pn_strn(type, (size_t)(dot - type)));
        pn_map_set_str(o, "action", state);
    } else if (dot) {
        pn_map_set(o, "type", pn_strn(type, (size_t)(dot - type)));
        pn_map_set_str(o, "action", dot + 1);
    } else {
        pn_map_set_str(o, "type", type);
        pn_map_set_str(o, "action", "");
    }

    /* The actor: what the event is about. */
    const char *name = pn_get_str(data, "name", NULL);
    const char *node = pn_get_str(data, "node", NULL);
    const char *lan = pn_get_str(data, "lan", NULL);
    const pn_val_t *port = pn_get(data, "port");
    if (name)
        pn_map_set_str(actor, "id", name);
    else if (node)
        pn_map_set_str(actor, "id", node);
    else if (lan && port && port->type == PN_UINT)
        pn_map_set(actor, "id", pn_strf("%s/%llu", lan, (unsigned long long)port->u));
    else if (lan)
        pn_map_set_str(actor, "id", lan);
    else
        pn_map_set_str(actor, "id", src);
    for (size_t i = 0; data && i < data->m.n; i++) {
        pn_val_t *s = s_as_string(data->m.v[i]);
        if (s)
            pn_map_set(aattr, data->m.k[i], s);
    }
    pn_map_set(actor, "attributes", aattr);
    pn_map_set(o, "actor", actor);

    pn_map_set_str(attr, "source", src);
    pn_map_set_str(attr, "topic", topic ? topic : "");
    pn_map_set_uint(attr, "seq", ev->seq);
    for (size_t i = 0; data && i < data->m.n; i++)
        if (!pn_get(attr, data->m.k[i]))
            pn_map_set(attr, data->m.k[i], pn_val_dup(data->m.v[i]));
    pn_map_set(o, "attributes", attr);

    pn_val_json(o, f);
    fputc('\n', f);
    fflush(f);
    pn_val_free(o);
}
