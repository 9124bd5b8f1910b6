/* Unit test of cli/topo.c: containerlab-shaped topology files.
 * Good files resolve into the expected nodes, NICs and LANs; every file in
 * tests/data/topo-bad/ fails with exactly the message stored next to it
 * (NAME.clab.yml -> NAME.err). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "topo.h"

static topo_t *parse(const char *text, char *err, size_t errlen)
{
    topo_t *t = NULL;
    if (topo_parse(text, strlen(text), "t.clab.yml", &t, err, errlen) < 0)
        return NULL;
    return t;
}

static const topo_nic_t *nic(const topo_t *t, const char *node, const char *ifname)
{
    const topo_node_t *n = topo_node_find(t, node);
    for (size_t i = 0; n && i < n->n_nics; i++)
        if (!strcmp(n->nics[i].ifname, ifname))
            return &n->nics[i];
    return NULL;
}

static void test_merge(void)
{
    char err[512];
    topo_t *t = parse("name: m\n"
                      "topology:\n"
                      "  defaults:\n"
                      "    kind: uml\n"
                      "    memory: 64MiB\n"
                      "    env: {A: da, B: db}\n"
                      "    exec: [echo defaults]\n"
                      "  kinds:\n"
                      "    uml: {memory: 96M, cpus: 2, env: {B: kb}}\n"
                      "    linux: {exec: [echo linux]}\n"
                      "    qemu: {image: debian, memory: 1GiB}\n"
                      "  nodes:\n"
                      "    h1: {env: {C: nc}}\n"
                      "    h2: {memory: 128MB, exec: [echo one, echo two]}\n"
                      "    r1: {kind: generic_vm, cpus: 4}\n"
                      "    n1: {kind: linux, cmd: sleep infinity, mgmt-ipv4: 172.30.9.9}\n",
                      err, sizeof err);
    ok(t != NULL, "defaults < kinds < node parses (%s)", t ? "" : err);
    if (!t)
        return;
    const topo_node_t *h1 = topo_node_find(t, "h1"), *h2 = topo_node_find(t, "h2"),
                      *r1 = topo_node_find(t, "r1"), *n1 = topo_node_find(t, "n1");
    ok(t->n_nodes == 4 && h1 && h2 && r1 && n1, "four nodes");
    ok(h1->kind == TOPO_UML && h1->memory_mb == 96 && h1->cpus == 2,
       "kinds.uml overrides defaults (mem %llu cpus %u)", (unsigned long long)h1->memory_mb,
       h1->cpus);
    ok(h1->n_env == 3 && !strcmp(h1->env[0].val, "da") && !strcmp(h1->env[1].val, "kb") &&
           !strcmp(h1->env[2].val, "nc"),
       "env merges key by key");
    ok(h1->n_exec == 1 && !strcmp(h1->exec[0].text, "echo defaults") && h1->exec[0].line == 7,
       "exec inherited from defaults, with its line");
    ok(h2->memory_mb == 128 && h2->n_exec == 2 && !strcmp(h2->exec[1].text, "echo two") &&
           h2->exec[1].line == 14,
       "node overrides memory and exec");
    ok(r1->kind == TOPO_QEMU && r1->image && !strcmp(r1->image, "debian") &&
           r1->memory_mb == 1024 && r1->cpus == 4,
       "generic_vm is qemu and takes kinds.qemu");
    ok(n1->kind == TOPO_NS && n1->cmd && !strcmp(n1->cmd, "sleep infinity") &&
           !strcmp(n1->mgmt_ipv4, "172.30.9.9") && n1->n_exec == 1 &&
           !strcmp(n1->exec[0].text, "echo linux"),
       "linux is ns, kinds.linux applies, cmd and mgmt-ipv4 kept");
    ok(t->n_warnings == 0, "no warnings");
    topo_destroy(&t);
    ok(t == NULL, "destroy clears the pointer");
}

static void test_links(void)
{
    char err[512];
    topo_t *t = parse("name: l\n"
                      "topology:\n"
                      "  nodes:\n"
                      "    r2: {kind: qemu}\n"
                      "    r1: {kind: uml}\n"
                      "    longnodename-ab: {kind: ns}\n"
                      "    br1: {kind: bridge}\n"
                      "    br2: {kind: bridge}\n"
                      "  links:\n"
                      "    - endpoints: [\"r2:eth1\", \"r1:eth1\"]\n"
                      "    - endpoints: [\"r1:eth2\", \"longnodename-ab:eth1\"]\n"
                      "      mtu: 9000\n"
                      "    - endpoints: [\"br1:eth9\", \"br2:eth9\"]\n"
                      "    - endpoints: [\"r1:eth3\", \"br2:any\"]\n"
                      "    - type: veth\n"
                      "      endpoints:\n"
                      "        - {node: r2, interface: eth2, mac: \"02:AA:00:00:00:01\", "
                      "ipv4: 10.0.0.2/24}\n"
                      "        - {node: br1, interface: any}\n",
                      err, sizeof err);
    ok(t != NULL, "links parse (%s)", t ? "" : err);
    if (!t)
        return;
    const topo_nic_t *a = nic(t, "r1", "eth1"), *b = nic(t, "r2", "eth1");
    ok(a && b && !strcmp(a->lan, "r1e1-r2e1") && !strcmp(b->lan, "r1e1-r2e1"),
       "a point-to-point link is a LAN named from its ends in canonical order (%s)",
       a ? a->lan : "-");
    const topo_nic_t *c = nic(t, "r1", "eth2"), *d = nic(t, "longnodename-ab", "eth1");
    ok(c && d && !strcmp(c->lan, d->lan) && c->lan[0] == 'l' && strlen(c->lan) == 9 &&
           topo_name_valid(c->lan),
       "a long pair gets a hashed LAN name (%s)", c ? c->lan : "-");
    const topo_lan_t *hl = c ? topo_lan_find(t, c->lan) : NULL;
    ok(hl && hl->mtu == 9000 && !hl->bridge, "the link's mtu is the LAN's");
    const topo_nic_t *e = nic(t, "r1", "eth3"), *f = nic(t, "r2", "eth2");
    ok(e && f && !strcmp(e->lan, "br1") && !strcmp(f->lan, "br1"),
       "linked bridges are one LAN named after the first bridge");
    const topo_lan_t *bl = topo_lan_find(t, "br1");
    ok(bl && bl->bridge && bl->bridges && !strcmp(bl->bridges, "br1,br2") &&
           !topo_lan_find(t, "br2"),
       "the merged LAN lists its bridges");
    ok(f && !strcmp(f->mac, "02:aa:00:00:00:01") && !strcmp(f->ipv4, "10.0.0.2/24"),
       "extended endpoint keeps a normalised MAC and its address");
    const topo_node_t *r1 = topo_node_find(t, "r1");
    ok(r1 && r1->n_nics == 3 && !strcmp(r1->nics[0].ifname, "eth1") &&
           !strcmp(r1->nics[2].ifname, "eth3"),
       "NICs are sorted by interface");
    ok(t->n_lans == 3, "three LANs (%zu)", t->n_lans);
    ok(topo_node_find(t, "br1") == NULL, "bridges are not nodes");
    topo_destroy(&t);

    /* The same link written the other way round gives the same LAN. */
    t = parse("name: l\ntopology:\n  nodes: {r1: {kind: ns}, r2: {kind: ns}}\n"
              "  links: [{endpoints: [\"r1:eth1\", \"r2:eth1\"]}]\n",
              err, sizeof err);
    ok(t && nic(t, "r2", "eth1") && !strcmp(nic(t, "r2", "eth1")->lan, "r1e1-r2e1"),
       "LAN names do not depend on the order of the endpoints");
    topo_destroy(&t);
}

static void test_warnings(void)
{
    char err[512];
    topo_t *t = parse("name: w\n"
                      "prefix: clab\n"
                      "colour: red\n"
                      "topology:\n"
                      "  nodes:\n"
                      "    n1:\n"
                      "      kind: ns\n"
                      "      binds: [/a:/b]\n"
                      "      flavour: x\n",
                      err, sizeof err);
    ok(t != NULL, "unknown keys do not fail");
    if (!t)
        return;
    ok(t->n_warnings == 4, "four warnings (%zu)", t->n_warnings);
    int seen = 0;
    for (size_t i = 0; i < t->n_warnings; i++) {
        if (!strcmp(t->warnings[i], "t.clab.yml:3:1: colour: unknown key, ignored"))
            seen |= 1;
        if (!strcmp(t->warnings[i], "t.clab.yml:9:7: topology.nodes.n1.flavour: unknown key, "
                                    "ignored"))
            seen |= 2;
        if (!strcmp(t->warnings[i], "t.clab.yml:8:7: topology.nodes.n1.binds: containerlab key "
                                    "not supported by plugnet, ignored"))
            seen |= 4;
    }
    ok(seen == 7, "warnings carry file:line:column and the key");
    topo_destroy(&t);
}

static void test_yaml_features(void)
{
    char err[512];
    topo_t *t = parse("name: y\n"
                      "x-base: &base {kind: uml, memory: 200MiB}\n"
                      "topology:\n"
                      "  nodes:\n"
                      "    a: {<<: *base, cpus: 3}\n"
                      "    b:\n"
                      "      <<: *base\n"
                      "      memory: 300MiB\n"
                      "    c:\n"
                      "      kind: ns\n",
                      err, sizeof err);
    ok(t != NULL, "anchors and merge keys (%s)", t ? "" : err);
    if (t) {
        const topo_node_t *a = topo_node_find(t, "a"), *b = topo_node_find(t, "b");
        ok(a && a->kind == TOPO_UML && a->memory_mb == 200 && a->cpus == 3, "merged mapping");
        ok(b && b->memory_mb == 300, "own keys override merged ones");
    }
    topo_destroy(&t);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n = getdelim(&buf, &cap, 0, f);
    fclose(f);
    if (n < 0) {
        free(buf);
        return strdup("");
    }
    while (n > 0 && buf[n - 1] == '\n')
        buf[--n] = 0;
    return buf;
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_bad_files(void)
{
    const char *src = getenv("PLUGNET_SRC");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/data/topo-bad", src ? src : ".");
    DIR *d = opendir(dir);
    ok(d != NULL, "open %s", dir);
    if (!d)
        return;
    char *names[256];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 256) {
        size_t l = strlen(de->d_name);
        if (l > 9 && !strcmp(de->d_name + l - 9, ".clab.yml"))
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmpstr);
    ok(n >= 20, "at least 20 broken topologies (%zu)", n);
    char **seen = calloc(n + 1, sizeof *seen);
    for (size_t i = 0; i < n; i++) {
        char path[1300], errpath[1300], err[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(errpath, sizeof errpath, "%s/%.*s.err", dir, (int)(strlen(names[i]) - 9),
                 names[i]);
        char *text = slurp(path), *want = slurp(errpath);
        topo_t *t = NULL;
        int r = text ? topo_parse(text, strlen(text), names[i], &t, err, sizeof err) : 0;
        ok(text && want && r < 0 && t == NULL && !strcmp(err, want), "%s: %s", names[i],
           r < 0 ? err : "parsed, but should not");
        if (r < 0 && want && strcmp(err, want))
            diag("  expected: %s", want);
        /* Each broken file has its own message. */
        for (size_t j = 0; j < i; j++)
            if (seen[j] && r < 0 && !strcmp(seen[j], err))
                ok(0, "%s gives the same error as %s", names[i], names[j]);
        seen[i] = r < 0 ? strdup(err) : NULL;
        topo_destroy(&t);
        free(text);
        free(want);
    }
    for (size_t i = 0; i < n; i++) {
        free(seen[i]);
        free(names[i]);
    }
    free(seen);
}

static void test_validators(void)
{
    char m[18];
    ok(topo_mac_valid("02:00:0C:22:00:01", m) && !strcmp(m, "02:00:0c:22:00:01"), "mac ok");
    ok(!topo_mac_valid("02:00:0c:22:00", m) && !topo_mac_valid("02-00-0c-22-00-01", m) &&
           !topo_mac_valid("02:00:0c:22:00:0g", m),
       "bad macs refused");
    ok(topo_ipv4_valid("10.0.0.1/24", true) && !topo_ipv4_valid("10.0.0.1", true) &&
           topo_ipv4_valid("10.0.0.1", false) && !topo_ipv4_valid("10.0.0.256/24", true) &&
           !topo_ipv4_valid("10.0.0.1/33", true) && !topo_ipv4_valid("10.0.0.1/", true),
       "ipv4 validation");
    ok(topo_name_valid("a") && topo_name_valid("abcdefghijklmno") &&
           !topo_name_valid("abcdefghijklmnop") && !topo_name_valid("1a") &&
           !topo_name_valid("A") && !topo_name_valid(""),
       "name validation");
    ok(topo_kind_parse("linux") == TOPO_NS && topo_kind_parse("generic_vm") == TOPO_QEMU &&
           topo_kind_parse("docker") < 0,
       "kind aliases");
}

int main(void)
{
    test_validators();
    test_merge();
    test_links();
    test_warnings();
    test_yaml_features();
    test_bad_files();
    return done();
}
