/* Unit test of cli/events_json.c: plugnet events in the containerlab shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events_json.h"
#include "tap.h"
#include "pn_proto.h"

/* ok(), and what came out when it is not. */
static void check(int cond, const char *what, const char *got)
{
    if (!ok(cond, "%s", what))
        diag("  got: %s", got);
}

static char *render(const char *src, const char *type, pn_val_t *data, const char *topic)
{
    char *buf, *out = NULL, err[256];
    size_t len, olen;
    pn_msg_t m;
    if (pn_msg_event(42, 1795305001123456789ull, src, type, data, &buf, &len) < 0)
        return NULL;
    if (pn_msg_decode_event(buf, len, &m, err, sizeof err) != PN_OK) {
        free(buf);
        return NULL;
    }
    FILE *f = open_memstream(&out, &olen);
    cli_event_clab_json(&m, topic, f);
    fclose(f);
    pn_msg_clear(&m);
    free(buf);
    return out;
}

int main(void)
{
    pn_val_t *d = pn_map();
    pn_map_set_str(d, "name", "r1");
    pn_map_set_str(d, "kind", "uml");
    pn_map_set_uint(d, "pid", 1234);
    char *s = render("vmd", "node.running", d, "vmd.node");
    check(s && !strcmp(s, "{\"timestamp\":\"2026-11-21T23:50:01.123456789Z\",\"type\":\"node\","
                       "\"action\":\"running\",\"actor\":{\"id\":\"r1\",\"attributes\":"
                       "{\"name\":\"r1\",\"kind\":\"uml\",\"pid\":\"1234\"}},\"attributes\":"
                       "{\"source\":\"vmd\",\"topic\":\"vmd.node\",\"seq\":42,\"name\":\"r1\","
                       "\"kind\":\"uml\",\"pid\":1234}}\n"),
       "a node event: timestamp, type, action, actor with string attributes, attributes", s);
    free(s);

    d = pn_map();
    pn_map_set_str(d, "name", "h2");
    pn_map_set_str(d, "kind", "qemu");
    pn_map_set_str(d, "state", "running");
    pn_map_set_str(d, "from", "starting");
    s = render("vmd", "node.state", d, "vmd.node");
    check(s && strstr(s, "\"type\":\"node\",\"action\":\"running\",\"actor\":{\"id\":\"h2\""),
       "a state change's action is the new state", s);
    free(s);

    d = pn_map();
    pn_map_set_str(d, "lan", "core");
    pn_map_set_uint(d, "port", 3);
    pn_map_set_str(d, "kind", "tap");
    s = render("switchd", "port.up", d, "switchd.port");
    check(s && strstr(s, "\"type\":\"port\",\"action\":\"up\",\"actor\":{\"id\":\"core/3\""),
       "a port is its LAN and number", s);
    free(s);

    d = pn_map();
    pn_map_set_str(d, "node", "h1");
    pn_map_set_str(d, "kind", "uml");
    pn_map_set_str(d, "reason", "keepalive missed");
    s = render("agentd", "agent.down", d, "agentd.agent");
    check(s && strstr(s, "\"actor\":{\"id\":\"h1\",\"attributes\":{\"node\":\"h1\",\"kind\":\"uml\","
                      "\"reason\":\"keepalive missed\"}}"),
       "an agent event's actor is its node", s);
    free(s);

    d = pn_map();
    pn_map_set_str(d, "state", "started");
    pn_map_set_uint(d, "pid", 99);
    pn_map_set_str(d, "version", PN_VERSION);
    s = render("cfgdiskd", "daemon.started", d, "cfgdiskd.daemon");
    check(s && strstr(s, "\"type\":\"daemon\",\"action\":\"started\",\"actor\":{\"id\":\"cfgdiskd\""),
       "a daemon event's actor is the daemon", s);
    check(s && strchr(s, '\n') == s + strlen(s) - 1, "one line per event", s);
    free(s);
    return done();
}
