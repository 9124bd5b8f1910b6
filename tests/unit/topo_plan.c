/* Unit test of cli/topo_plan.c: the diff from a live lab to a topology file
 * and the apply engine's rollback, on in-memory states.  The "live" side is
 * built from an older version of the file, as the daemons would report it
 * after that version went up. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "topo_plan.h"

static topo_t *parse(const char *text)
{
    char err[512];
    topo_t *t = NULL;
    if (topo_parse(text, strlen(text), "t.clab.yml", &t, err, sizeof err) < 0) {
        diag("parse failed: %s", err);
        return NULL;
    }
    return t;
}

/* The live state after `text` went up: every node running, every LAN there,
 * plus the extras; the record owns what the file made. */
static void live_from(const char *text, topo_live_t *live, topo_record_t *rec)
{
    topo_t *t = parse(text);
    memset(live, 0, sizeof *live);
    if (rec)
        memset(rec, 0, sizeof *rec);
    for (size_t i = 0; t && i < t->n_nodes; i++) {
        topo_live_add_node(live, &t->nodes[i], "running");
        if (rec)
            topo_record_add(rec, false, t->nodes[i].name);
    }
    for (size_t i = 0; t && i < t->n_lans; i++) {
        topo_live_add_lan(live, t->lans[i].name);
        if (rec)
            topo_record_add(rec, true, t->lans[i].name);
    }
    topo_live_add_lan(live, "mgmt");
    topo_destroy(&t);
}

/* The plan as one line: "lan.add:a node.add:r1 ..." */
static void plan_str(const topo_plan_t *p, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < p->n && o < len; i++) {
        const topo_step_t *s = &p->steps[i];
        const char *what = s->kind == TOPO_LAN_ADD || s->kind == TOPO_LAN_DEL ? s->lan : s->node;
        o += (size_t)snprintf(buf + o, len - o, "%s%s:%s%s%s", o ? " " : "", topo_step_op(s->kind),
                              what, s->kind == TOPO_NIC_ADD || s->kind == TOPO_NIC_DEL ? "/" : "",
                              s->kind == TOPO_NIC_ADD || s->kind == TOPO_NIC_DEL ? s->nic.ifname
                                                                                 : "");
    }
}

static const char *V1 = "name: lab\n"
                        "topology:\n"
                        "  nodes:\n"
                        "    r1: {kind: uml, memory: 64MiB}\n"
                        "    r2: {kind: qemu}\n"
                        "    h1: {kind: ns}\n"
                        "  links:\n"
                        "    - endpoints: [\"r1:eth1\", \"r2:eth1\"]\n"
                        "    - endpoints: [\"h1:eth1\", \"r1:eth2\"]\n";

static void check_plan(const char *what, const char *want_text, const topo_live_t *live,
                       const topo_record_t *rec, const char *expect)
{
    topo_t *t = parse(want_text);
    topo_plan_t *p = NULL;
    char err[512], got[2048] = "";
    int r = t ? topo_plan_up(t, live, rec, &p, err, sizeof err) : -1;
    if (r == 0)
        plan_str(p, got, sizeof got);
    ok(r == 0 && !strcmp(got, expect), "%s: [%s]", what, r == 0 ? got : err);
    if (r == 0 && strcmp(got, expect))
        diag("  expected: [%s]", expect);
    topo_plan_destroy(&p);
    topo_destroy(&t);
}

static void test_diff(void)
{
    topo_live_t empty = { 0 }, live;
    topo_record_t rec;

    check_plan("from nothing", V1, &empty, NULL,
               "lan.add:r1e1-r2e1 lan.add:h1e1-r1e2 node.add:r1 node.add:r2 node.add:h1 "
               "node.start:r1 node.start:r2 node.start:h1");

    live_from(V1, &live, &rec);
    check_plan("the same file again does nothing", V1, &live, &rec, "");

    check_plan("a new node and link touch only the new node and its peer",
               "name: lab\n"
               "topology:\n"
               "  nodes:\n"
               "    r1: {kind: uml, memory: 64MiB}\n"
               "    r2: {kind: qemu}\n"
               "    h1: {kind: ns}\n"
               "    h2: {kind: ns}\n"
               "  links:\n"
               "    - endpoints: [\"r1:eth1\", \"r2:eth1\"]\n"
               "    - endpoints: [\"h1:eth1\", \"r1:eth2\"]\n"
               "    - endpoints: [\"h2:eth1\", \"r2:eth2\"]\n",
               &live, &rec, "lan.add:h2e1-r2e2 node.add:h2 nic.add:r2/eth2 node.start:h2");

    check_plan("a node that left the file is deleted, with its link",
               "name: lab\n"
               "topology:\n"
               "  nodes:\n"
               "    r1: {kind: uml, memory: 64MiB}\n"
               "    r2: {kind: qemu}\n"
               "  links:\n"
               "    - endpoints: [\"r1:eth1\", \"r2:eth1\"]\n",
               &live, &rec, "node.del:h1 nic.del:r1/eth2 lan.del:h1e1-r1e2");

    check_plan("changed memory recreates that node only",
               "name: lab\n"
               "topology:\n"
               "  nodes:\n"
               "    r1: {kind: uml, memory: 128MiB}\n"
               "    r2: {kind: qemu}\n"
               "    h1: {kind: ns}\n"
               "  links:\n"
               "    - endpoints: [\"r1:eth1\", \"r2:eth1\"]\n"
               "    - endpoints: [\"h1:eth1\", \"r1:eth2\"]\n",
               &live, &rec, "node.del:r1 node.add:r1 node.start:r1");

    check_plan("a NIC moved to a bridge is replugged live",
               "name: lab\n"
               "topology:\n"
               "  nodes:\n"
               "    r1: {kind: uml, memory: 64MiB}\n"
               "    r2: {kind: qemu}\n"
               "    h1: {kind: ns}\n"
               "    sw: {kind: bridge}\n"
               "  links:\n"
               "    - endpoints: [\"r1:eth1\", \"r2:eth1\"]\n"
               "    - endpoints: [\"h1:eth1\", \"sw:any\"]\n"
               "    - endpoints: [\"r1:eth2\", \"sw:any\"]\n",
               &live, &rec,
               "lan.add:sw nic.del:r1/eth2 nic.del:h1/eth1 nic.add:r1/eth2 nic.add:h1/eth1 "
               "lan.del:h1e1-r1e2");

    check_plan("an address added to a NIC replugs it",
               "name: lab\n"
               "topology:\n"
               "  nodes:\n"
               "    r1: {kind: uml, memory: 64MiB}\n"
               "    r2: {kind: qemu}\n"
               "    h1: {kind: ns}\n"
               "  links:\n"
               "    - endpoints: [\"r1:eth1\", \"r2:eth1\"]\n"
               "    - endpoints:\n"
               "        - {node: h1, interface: eth1, ipv4: 10.9.0.1/24}\n"
               "        - {node: r1, interface: eth2}\n",
               &live, &rec, "nic.del:h1/eth1 nic.add:h1/eth1");

    /* A node that is not the lab's is never touched when it is not in the
     * file; one that is in the file with another kind is refused. */
    topo_node_t other = { .name = "manual", .kind = TOPO_UML };
    topo_live_add_node(&live, &other, "running");
    topo_live_add_lan(&live, "manual-lan");
    check_plan("nodes and LANs that are not the lab's stay", V1, &live, &rec, "");

    topo_t *t = parse("name: lab\ntopology:\n  nodes:\n    manual: {kind: ns}\n");
    topo_plan_t *p = NULL;
    char err[512];
    int r = topo_plan_up(t, &live, &rec, &p, err, sizeof err);
    ok(r == -EINVAL && strstr(err, "node 'manual' exists as a uml node and is not part of lab"),
       "a foreign node of another kind is refused: %s", err);
    topo_destroy(&t);

    /* A stopped node of the file is started; its exec will run again. */
    snprintf(live.states[0], sizeof live.states[0], "stopped");
    t = parse(V1);
    r = topo_plan_up(t, &live, &rec, &p, err, sizeof err);
    char got[512] = "";
    if (r == 0)
        plan_str(p, got, sizeof got);
    ok(r == 0 && !strcmp(got, "node.start:r1") && p->n_booted == 1 && !strcmp(p->booted[0], "r1"),
       "a stopped node is started: [%s]", got);
    topo_plan_destroy(&p);

    /* down: the record's nodes and LANs, not the foreign ones, not mgmt. */
    r = topo_plan_down(t, &live, &rec, &p, err, sizeof err);
    got[0] = 0;
    if (r == 0)
        plan_str(p, got, sizeof got);
    ok(r == 0 && !strcmp(got, "node.del:r1 node.del:r2 node.del:h1 lan.del:r1e1-r2e1 "
                              "lan.del:h1e1-r1e2"),
       "down removes the lab only: [%s]", got);
    topo_plan_destroy(&p);
    r = topo_plan_down(t, &live, NULL, &p, err, sizeof err);
    got[0] = 0;
    if (r == 0)
        plan_str(p, got, sizeof got);
    ok(r == 0 && !strcmp(got, "node.del:r1 node.del:r2 node.del:h1 lan.del:r1e1-r2e1 "
                              "lan.del:h1e1-r1e2"),
       "down without a record goes by the file: [%s]", got);
    topo_plan_destroy(&p);
    topo_destroy(&t);
    topo_live_clear(&live);
    topo_record_clear(&rec);
}

/* An executor that keeps a log of what it ran and fails on a chosen step. */
typedef struct {
    char log[2048];
    int fail_on;     /* call number (1-based) that fails */
    int fail_undo;   /* another call number that fails */
    int calls;
} exec_t;

static int fake_run(const topo_step_t *s, void *arg, char *err, size_t errlen)
{
    exec_t *e = arg;
    char d[160];
    e->calls++;
    topo_step_describe(s, d, sizeof d);
    size_t l = strlen(e->log);
    snprintf(e->log + l, sizeof e->log - l, "%s%s", l ? "; " : "", d);
    if (e->calls == e->fail_on || e->calls == e->fail_undo) {
        snprintf(err, errlen, "vmd: busy: no room for %s", s->node[0] ? s->node : s->lan);
        return -EBUSY;
    }
    return 0;
}

static void test_apply(void)
{
    topo_live_t empty = { 0 };
    topo_t *t = parse(V1);
    topo_plan_t *p = NULL;
    char err[512];
    topo_plan_up(t, &empty, NULL, &p, err, sizeof err);

    exec_t e = { .fail_on = 0 };
    int r = topo_plan_apply(p, fake_run, &e, true, err, sizeof err);
    ok(r == 0 && e.calls == 8, "all steps run in order (%d)", e.calls);

    /* The 4th step (add node r2) fails: r1, then both LANs, are undone. */
    e = (exec_t){ .fail_on = 4 };
    r = topo_plan_apply(p, fake_run, &e, true, err, sizeof err);
    ok(r == -EBUSY, "a failing step fails the apply");
    ok(!strcmp(err, "step 4/8 (add node r2 (qemu)): vmd: busy: no room for r2; rolled back 3 "
                    "steps"),
       "the error names the step: %s", err);
    ok(!strcmp(e.log, "add LAN r1e1-r2e1; add LAN h1e1-r1e2; add node r1 (uml); "
                      "add node r2 (qemu); delete node r1; delete LAN h1e1-r1e2; "
                      "delete LAN r1e1-r2e1"),
       "rollback undoes in reverse: %s", e.log);

    /* An undo that fails is reported and the rest is still undone. */
    e = (exec_t){ .fail_on = 4, .fail_undo = 6 };
    r = topo_plan_apply(p, fake_run, &e, true, err, sizeof err);
    ok(r == -EBUSY && strstr(err, "rolled back 2 steps, 1 could not be undone (delete LAN "
                                  "h1e1-r1e2: vmd: busy"),
       "a failed undo is reported: %s", err);
    ok(e.calls == 7, "and the other undos still ran (%d calls)", e.calls);

    /* Without rollback (down), every step is tried. */
    e = (exec_t){ .fail_on = 2 };
    r = topo_plan_apply(p, fake_run, &e, false, err, sizeof err);
    ok(r == -EBUSY && e.calls == 8 && !strstr(err, "rolled back"),
       "without rollback all steps are tried, the first failure reported: %s", err);
    topo_plan_destroy(&p);

    /* Undoing a node deletion recreates and restarts the node. */
    topo_live_t live;
    topo_record_t rec;
    live_from(V1, &live, &rec);
    topo_t *t2 = parse("name: lab\ntopology:\n  nodes:\n    r1: {kind: uml, memory: 64MiB}\n"
                       "    r2: {kind: qemu}\n    h9: {kind: ns}\n"
                       "  links:\n    - endpoints: [\"r1:eth1\", \"r2:eth1\"]\n");
    topo_plan_up(t2, &live, &rec, &p, err, sizeof err);
    e = (exec_t){ .fail_on = 4 };
    char plan[512];
    plan_str(p, plan, sizeof plan);
    r = topo_plan_apply(p, fake_run, &e, true, err, sizeof err);
    ok(r == -EBUSY && strstr(e.log, "; add node h1 (ns); start node h1") &&
           strstr(e.log, "plug r1 eth2 into h1e1-r1e2"),
       "undoing a deletion recreates the node and its NICs: plan [%s] log [%s]", plan, e.log);
    topo_plan_destroy(&p);
    topo_destroy(&t2);
    topo_live_clear(&live);
    topo_record_clear(&rec);
    topo_destroy(&t);
}

int main(void)
{
    test_diff();
    test_apply();
    return done();
}
