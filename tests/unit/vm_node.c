/* vmd's node model: the seed rule, name/number/MAC allocation and the
 * refusal rules of node.add and nic.add, the state machine, and the state
 * files (save, load, and damaged files that must be skipped, never fatal). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../services/vmd/vm.h"
#include "tap.h"

static vm_t vm;
static char tmp[256];

static void vm_clear(vm_t *v)
{
    while (v->nodes) {
        vm_node_t *n = v->nodes;
        v->nodes = n->next;
        vm_node_free(n);
    }
    v->nnodes = 0;
}

static void link_node(vm_t *v, vm_node_t *nd)
{
    nd->next = v->nodes;
    v->nodes = nd;
    v->nnodes++;
}

/* node.add args: "name kind" plus optional settings. */
static pn_val_t *args(const char *name, const char *kind)
{
    pn_val_t *a = pn_map();
    pn_map_set_str(a, "name", name);
    pn_map_set_str(a, "kind", kind);
    pn_map_set(a, "nics", pn_arr());
    return a;
}

static pn_val_t *nic(pn_val_t *a, const char *lan, const char *ifname, const char *mac, const char *ip)
{
    pn_val_t *c = pn_map();
    pn_map_set_str(c, "lan", lan);
    if (ifname)
        pn_map_set_str(c, "ifname", ifname);
    if (mac)
        pn_map_set_str(c, "mac", mac);
    if (ip)
        pn_map_set_str(c, "ip", ip);
    pn_arr_push(pn_get(a, "nics"), c);
    return a;
}

/* Try node.add; on success link the node.  Returns the code; err filled. */
static int add(pn_val_t *a, char *err, size_t errlen, vm_node_t **out)
{
    int code = -1;
    err[0] = 0;
    vm_node_t *nd = vm_node_from_args(&vm, a, &code, err, errlen);
    pn_val_free(a);
    if (nd)
        link_node(&vm, nd);
    if (out)
        *out = nd;
    return nd ? PN_OK : code;
}

static void seed(void)
{
    uint8_t m[6];
    char s[64];
    vm_seed_mac(1234, 1, m);
    pn_mac_format(m, s);
    ok(strcmp(s, "02:00:0c:22:00:01") == 0, "seed MAC of node 1234 eth1 is 02:00:0c:22:00:01 (%s)", s);
    vm_seed_mac(25599, 31, m);
    pn_mac_format(m, s);
    ok(strcmp(s, "02:00:ff:63:00:1f") == 0, "seed MAC of node 25599 eth31 (%s)", s);
    vm_seed_mgmt_ip("172.30", 1234, s, sizeof(s));
    ok(strcmp(s, "172.30.12.34/16") == 0, "management address of node 1234 (%s)", s);
    vm_seed_mgmt_ip("10.7", 5, s, sizeof(s));
    ok(strcmp(s, "10.7.0.5/16") == 0, "with another prefix, node 5 (%s)", s);

    char n[64];
    ok(vm_parse_ip("10.0.0.1/24", n, sizeof(n)) == 0 && strcmp(n, "10.0.0.1/24") == 0, "ip: 10.0.0.1/24");
    ok(vm_parse_ip("fd00::1/64", n, sizeof(n)) == 0, "ip: fd00::1/64");
    static const char *const bad[] = { "10.0.0.1", "10.0.0.1/33", "10.0.0.1/0", "10.0.0.256/24", "x/24",
                                       "10.0.0.1/24x", "fd00::1/129", "/24", "" };
    int nbad = 0;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        nbad += vm_parse_ip(bad[i], n, sizeof(n)) == -EINVAL;
    ok(nbad == (int)(sizeof(bad) / sizeof(bad[0])), "ip: %d malformed addresses refused", nbad);
}

static void allocation(void)
{
    char err[512];
    vm_node_t *a1, *a2, *a3;
    ok(add(nic(args("a1", "uml"), "lan1", NULL, NULL, "10.0.0.1/24"), err, sizeof(err), &a1) == PN_OK,
       "node.add a1: ok");
    ok(a1 && a1->number == 1 && a1->state == VM_DEFINED, "a1 gets number 1, defined");
    ok(a1 && a1->nnics == 2 && strcmp(a1->nics[0].lan, "mgmt") == 0 && strcmp(a1->nics[0].ip, "10.9.0.1/16") == 0,
       "a1: eth0 on mgmt at the seed address");
    ok(a1 && strcmp(a1->nics[1].ifname, "eth1") == 0 && a1->nics[1].mac[3] == 1 && a1->nics[1].mac[5] == 1,
       "a1: its first NIC is eth1 with the seed MAC");
    ok(a1 && a1->mem == 128 && a1->cpus == 1, "a1: UML defaults 128 MiB, 1 cpu");
    ok(add(nic(nic(args("a2", "qemu"), "lan1", NULL, NULL, NULL), "lan2", NULL, NULL, NULL), err, sizeof(err),
           &a2) == PN_OK &&
           a2->number == 2 && a2->mem == 128 && a2->nnics == 3 && strcmp(a2->nics[2].ifname, "eth2") == 0,
       "a2: number 2, qemu default 128 MiB, NICs named eth1, eth2 in order");

    ok(add(args("a1", "ns"), err, sizeof(err), NULL) == PN_EEXIST && strstr(err, "'a1' already exists"),
       "a name in use: already_exists (%s)", err);
    pn_val_t *a = args("b1", "ns");
    pn_map_set_uint(a, "number", 2);
    ok(add(a, err, sizeof(err), NULL) == PN_EEXIST && strstr(err, "number 2 is in use by node 'a2'"),
       "a number in use: already_exists naming its node (%s)", err);
    ok(add(nic(args("b2", "ns"), "lan1", NULL, "02:00:00:01:00:01", NULL), err, sizeof(err), NULL) == PN_EEXIST &&
           strstr(err, "in use by node 'a1'"),
       "a MAC in use: already_exists naming its node (%s)", err);
    ok(add(nic(nic(args("b3", "ns"), "lan1", "eth1", "02:aa:00:00:00:01", NULL), "lan2", "eth2",
               "02:aa:00:00:00:01", NULL),
           err, sizeof(err), NULL) == PN_EEXIST,
       "the same MAC twice in one node: already_exists (%s)", err);

    a = args("b4", "ns");
    pn_map_set_uint(a, "number", 40);
    ok(add(a, err, sizeof(err), &a3) == PN_OK && a3->number == 40, "an explicit free number is taken");
    ok(add(args("b5", "ns"), err, sizeof(err), &a3) == PN_OK && a3->number == 3, "the next node gets the lowest free number (3)");

    /* Refusals that leave nothing behind. */
    unsigned before = vm.nnodes;
    struct {
        pn_val_t *a;
        int code;
        const char *msg;
    } cases[] = {
        { nic(args("c1", "ns"), "lan1", NULL, "03:00:00:00:00:01", NULL), PN_EINVAL, "not a unicast MAC" },
        { nic(args("c2", "ns"), "lan1", NULL, NULL, "10.0.0.1"), PN_EINVAL, "not an address with a prefix" },
        { nic(nic(args("c3", "ns"), "lan1", "eth3", NULL, NULL), "lan2", "eth3", NULL, NULL), PN_EINVAL,
          "eth3 is given twice" },
        { nic(args("c4", "ns"), "mgmt", NULL, NULL, NULL), PN_EINVAL, "eth0 is on mgmt already" },
        { nic(args("c5", "ns"), "lan1", "eth32", NULL, NULL), PN_EINVAL, "eth0..eth31" },
        { NULL, PN_EINVAL, "an ns node has no image" },
        { NULL, PN_EINVAL, "give an absolute path" },
        { NULL, PN_ENOTFOUND, "does not exist" },
        { NULL, PN_EINVAL, "more than half of this host" },
        { NULL, PN_EINVAL, "cmd is for ns nodes" },
        { NULL, PN_EINVAL, "an ns node has no disk to persist" },
        { NULL, PN_EINVAL, "needs eth0 on the management LAN" },
    };
    cases[5].a = args("c6", "ns");
    pn_map_set_str(cases[5].a, "image", "/img");
    cases[6].a = args("c7", "uml");
    pn_map_set_str(cases[6].a, "image", "rel/img");
    cases[7].a = args("c8", "uml");
    pn_map_set_str(cases[7].a, "image", "/nonexistent/plugnet.img");
    cases[8].a = args("c9", "qemu");
    pn_map_set_uint(cases[8].a, "mem", 1u << 30);
    cases[9].a = args("c10", "uml");
    pn_val_t *cmd = pn_arr();
    pn_arr_push(cmd, pn_str("sleep"));
    pn_map_set(cases[9].a, "cmd", cmd);
    cases[10].a = args("c11", "ns");
    pn_map_set_bool(cases[10].a, "persistent", true);
    cases[11].a = args("c12", "uml");
    pn_map_set_bool(cases[11].a, "mgmt", false);
    pn_map_set_str(cases[11].a, "mgmt_ip", "10.1.1.1/16");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int r = add(cases[i].a, err, sizeof(err), NULL);
        ok(r == cases[i].code && strstr(err, cases[i].msg), "refused: %s (%s)", cases[i].msg, err);
    }
    pn_val_t *n33 = args("c13", "ns");
    for (int i = 0; i < 32; i++)
        nic(n33, "lan1", NULL, NULL, NULL);
    ok(add(n33, err, sizeof(err), NULL) == PN_EINVAL && strstr(err, "at most 32 NICs"),
       "refused: a 33rd NIC (%s)", err);
    ok(vm.nnodes == before, "no refused node was kept");

    a = args("d1", "uml");
    pn_map_set_str(a, "mgmt_ip", "10.50.0.9/16");
    vm_node_t *d1;
    ok(add(a, err, sizeof(err), &d1) == PN_OK && strcmp(d1->nics[0].ip, "10.50.0.9/16") == 0,
       "an explicit management address overrides the seed rule's");

    /* The persistent lock. */
    char img[300];
    snprintf(img, sizeof(img), "%s/own.img", tmp);
    int fd = open(img, O_CREAT | O_WRONLY, 0600);
    close(fd);
    a = args("p1", "uml");
    pn_map_set_str(a, "image", img);
    pn_map_set_bool(a, "persistent", true);
    ok(add(a, err, sizeof(err), NULL) == PN_OK, "a persistent node on its own image");
    a = args("p2", "qemu");
    pn_map_set_str(a, "image", img);
    ok(add(a, err, sizeof(err), NULL) == PN_EBUSY && strstr(err, "locked by persistent node 'p1'"),
       "a second user of a persistent image: busy (%s)", err);
    a = args("p3", "uml");
    pn_map_set_bool(a, "persistent", true);
    ok(add(a, err, sizeof(err), NULL) == PN_EBUSY && strstr(err, "in use by node"),
       "persistent on the shared default image: busy (%s)", err);

    /* The node cap. */
    unsigned n = vm.nnodes;
    vm.nnodes = VM_MAX_NODES;
    ok(add(args("e1", "ns"), err, sizeof(err), NULL) == PN_ETOOLARGE, "at %d nodes: too_large (%s)", VM_MAX_NODES, err);
    vm.nnodes = n;

    /* nic.add: the same rules. */
    vm_nic_t c;
    pn_val_t *na = pn_map();
    pn_map_set_str(na, "ifname", "eth1");
    pn_map_set_str(na, "lan", "lan3");
    ok(vm_nic_from_args(&vm, a1, na, &c, err, sizeof(err)) == PN_EEXIST && strstr(err, "has eth1 already"),
       "nic.add of an ifname in use: already_exists (%s)", err);
    pn_map_set_str(na, "ifname", "eth5");
    ok(vm_nic_from_args(&vm, a1, na, &c, err, sizeof(err)) == PN_OK && c.mac[5] == 5 && c.mac[3] == 1,
       "nic.add eth5: the seed MAC 02:00:00:01:00:05");
    pn_map_set_str(na, "mac", "02:00:00:02:00:01");
    ok(vm_nic_from_args(&vm, a1, na, &c, err, sizeof(err)) == PN_EEXIST && strstr(err, "in use by node 'a2'"),
       "nic.add with another node's MAC: already_exists (%s)", err);
    pn_val_free(na);
}

static void states(void)
{
    static const vm_state_t all[] = { VM_DEFINED, VM_STARTING, VM_RUNNING, VM_STOPPING, VM_STOPPED, VM_CRASHED };
    /* from -> to, the allowed ones. */
    static const int allow[6][6] = {
        /*            def st  run stg sto cra */
        /* defined */ { 1, 1, 0, 0, 0, 0 },
        /* starting*/ { 0, 0, 1, 1, 0, 1 },
        /* running */ { 0, 0, 0, 1, 0, 1 },
        /* stopping*/ { 0, 0, 0, 0, 1, 1 },
        /* stopped */ { 0, 1, 0, 0, 0, 0 },
        /* crashed */ { 0, 1, 0, 0, 0, 0 },
    };
    int wrong = 0;
    for (int f = 0; f < 6; f++)
        for (int t = 0; t < 6; t++)
            if (vm_state_allowed(all[f], all[t]) != (bool)allow[f][t]) {
                diag("%s -> %s", vm_state_name(all[f]), vm_state_name(all[t]));
                wrong++;
            }
    ok(!wrong, "the state machine allows exactly its 11 transitions");
    ok(vm_state_live(VM_STARTING) && vm_state_live(VM_RUNNING) && vm_state_live(VM_STOPPING) &&
           !vm_state_live(VM_DEFINED) && !vm_state_live(VM_STOPPED) && !vm_state_live(VM_CRASHED),
       "live states: starting, running, stopping");
    int round = 0;
    for (int i = 0; i < 6; i++)
        round += vm_state_parse(vm_state_name(all[i])) == (int)all[i];
    ok(round == 6 && vm_state_parse("bogus") == -1 && vm_state_parse(NULL) == -1 &&
           strcmp(vm_state_name((vm_state_t)99), "?") == 0,
       "state names round-trip; unknown ones are refused");
    ok(vm_kind_parse("qemu") == VM_QEMU && vm_kind_parse("xen") == -1 && strcmp(vm_kind_name(VM_NS), "ns") == 0,
       "kind names");
}

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char d[600], f[700];
    snprintf(d, sizeof(d), "%s/%s", vm.nodes_dir, dir);
    mkdir(d, 0750);
    snprintf(f, sizeof(f), "%s/%s", d, name);
    int fd = open(f, O_CREAT | O_TRUNC | O_WRONLY, 0640);
    if (fd >= 0) {
        if (n && write(fd, p, n) != (ssize_t)n)
            diag("short write %s", f);
        close(fd);
    }
}

static void save_val(const char *dir, pn_val_t *v)
{
    char d[600], f[700];
    snprintf(d, sizeof(d), "%s/%s", vm.nodes_dir, dir);
    mkdir(d, 0750);
    snprintf(f, sizeof(f), "%s/node.mp", d);
    pn_state_save(f, v);
    pn_val_free(v);
}

static void files(void)
{
    vm_clear(&vm);
    char err[512];
    vm_node_t *g;
    pn_val_t *a = nic(args("good", "uml"), "lan1", NULL, NULL, "10.0.0.1/24");
    pn_map_set_uint(a, "mem", 96);
    pn_map_set_str(a, "script", "echo hi");
    add(a, err, sizeof(err), &g);
    ok(g && vm_node_save(&vm, g) == 0, "a node's state saved");
    a = args("nsn", "ns");
    pn_val_t *cmd = pn_arr();
    pn_arr_push(cmd, pn_str("sleep"));
    pn_arr_push(cmd, pn_str("9"));
    pn_map_set(a, "cmd", cmd);
    vm_node_t *ns;
    add(a, err, sizeof(err), &ns);
    ns->state = VM_CRASHED;
    vm_node_save(&vm, ns);

    /* Damaged and hostile files next to them. */
    char path[700], *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/good/node.mp", vm.nodes_dir);
    pn_file_read(path, 1 << 20, &buf, &len);
    write_file("trunc", "node.mp", buf, len / 2);
    free(buf);
    write_file("junk", "node.mp", "\xde\xad\xbe\xef garbage \xc1\xff", 16);
    write_file("empty", "node.mp", "", 0);
    write_file("nofile", "other", "x", 1);
    write_file("Bad_Dir", "node.mp", "", 0);
    pn_val_t *v = pn_map();
    pn_map_set_str(v, "name", "wrongkind");
    pn_map_set_str(v, "kind", "xen");
    pn_map_set_str(v, "state", "defined");
    pn_map_set_uint(v, "number", 50);
    save_val("wrongkind", v);
    v = pn_map();
    pn_map_set_str(v, "name", "zero");
    pn_map_set_str(v, "kind", "uml");
    pn_map_set_str(v, "state", "defined");
    pn_map_set_uint(v, "number", 0);
    save_val("zero", v);
    v = pn_map();
    pn_map_set_str(v, "name", "twin");
    pn_map_set_str(v, "kind", "uml");
    pn_map_set_str(v, "state", "defined");
    pn_map_set_uint(v, "number", g->number);
    save_val("twin", v);
    v = pn_map();
    pn_map_set_str(v, "name", "other");
    pn_map_set_str(v, "kind", "ns");
    pn_map_set_str(v, "state", "defined");
    pn_map_set_uint(v, "number", 77);
    save_val("elsewhere", v);
    v = pn_map();
    pn_map_set_str(v, "name", "typed");
    pn_map_set_uint(v, "kind", 3);
    pn_map_set(v, "state", pn_arr());
    pn_map_set_str(v, "number", "seven");
    save_val("typed", v);
    /* Sound header, damaged NICs: the node loads with the good NICs only. */
    v = pn_map();
    pn_map_set_str(v, "name", "badnics");
    pn_map_set_str(v, "kind", "uml");
    pn_map_set_str(v, "state", "stopped");
    pn_map_set_uint(v, "number", 60);
    pn_map_set_uint(v, "mem", 0);
    pn_val_t *nics = pn_arr();
    pn_val_t *c = pn_map();
    pn_map_set_str(c, "ifname", "eth1");
    pn_map_set_str(c, "lan", "lan1");
    pn_map_set_str(c, "mac", "02:00:00:3c:00:01");
    pn_map_set_str(c, "ip", "not-an-ip");
    pn_arr_push(nics, c);
    c = pn_map();
    pn_map_set_str(c, "ifname", "eth99");
    pn_map_set_str(c, "lan", "lan1");
    pn_map_set_str(c, "mac", "02:00:00:3c:00:02");
    pn_arr_push(nics, c);
    c = pn_map();
    pn_map_set_str(c, "ifname", "eth1");
    pn_map_set_str(c, "lan", "lan2");
    pn_map_set_str(c, "mac", "02:00:00:3c:00:03");
    pn_arr_push(nics, c);
    pn_arr_push(nics, pn_str("not a map"));
    pn_map_set(v, "nics", nics);
    save_val("badnics", v);

    vm_t back = vm;
    back.nodes = NULL;
    back.nnodes = 0;
    vm_load_all(&back);
    ok(back.nnodes == 3, "load: the 3 sound nodes come back, 11 damaged or hostile entries are skipped (%u)",
       back.nnodes);
    vm_node_t *bg = vm_node_find(&back, "good"), *bn = vm_node_find(&back, "nsn"), *bb = vm_node_find(&back, "badnics");
    ok(bg && bg->kind == VM_UML && bg->number == g->number && bg->mem == 96 && bg->state == VM_DEFINED,
       "load: kind, number, memory and state as saved");
    ok(bg && bg->nnics == 2 && memcmp(bg->nics[1].mac, g->nics[1].mac, 6) == 0 &&
           strcmp(bg->nics[1].ip, "10.0.0.1/24") == 0 && strcmp(bg->nics[0].lan, "mgmt") == 0,
       "load: NICs with their MACs and addresses");
    ok(bg && bg->script && strcmp(bg->script, "echo hi") == 0 && bg->mgmt, "load: the startup script, mgmt");
    ok(bn && bn->state == VM_CRASHED && pn_len(bn->cmd) == 2 && !strcmp(pn_at(bn->cmd, 1)->s.p, "9"),
       "load: an ns node's command and its crashed state");
    ok(bb && bb->nnics == 1 && strcmp(bb->nics[0].lan, "lan1") == 0 && bb->nics[0].ip[0] == 0 && bb->mem == 128,
       "load: bad NICs dropped (bad ifname, a repeated one, not a map), a bad address cleared, mem 0 -> default");
    ok(!vm_node_find(&back, "twin") && !vm_node_find(&back, "other") && !vm_node_find(&back, "zero"),
       "load: a second holder of a number, a name that is not its directory's, number 0: skipped");
    vm_clear(&back);
    vm_load_all(&back);
    ok(back.nnodes == 3, "load again: the same (loading changes nothing)");
    vm_clear(&back);

    vm_t none = vm;
    none.nodes = NULL;
    none.nnodes = 0;
    snprintf(none.nodes_dir, sizeof(none.nodes_dir), "%s/absent", tmp);
    vm_load_all(&none);
    ok(none.nnodes == 0, "load: no nodes directory, no nodes");
}

int main(void)
{
    snprintf(tmp, sizeof(tmp), "/tmp/pn-vm_node.XXXXXX");
    if (!mkdtemp(tmp))
        return 1;
    snprintf(vm.nodes_dir, sizeof(vm.nodes_dir), "%s/nodes", tmp);
    mkdir(vm.nodes_dir, 0750);
    snprintf(vm.mgmt_prefix, sizeof(vm.mgmt_prefix), "10.9");
    snprintf(vm.rootfs, sizeof(vm.rootfs), "/img/root.ext4");
    snprintf(vm.manifest, sizeof(vm.manifest), "/img/manifest");
    pn_log_set_level(-1);
    seed();
    allocation();
    states();
    files();
    vm_clear(&vm);
    char *rm[] = { (char *)"rm", (char *)"-rf", "--", tmp, NULL };
    vm_run_cmd(rm, NULL, NULL, 0);
    return done();
}
