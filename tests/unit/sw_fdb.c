/* The FDB: learning, moves, aging at 300 s, the cap and fair eviction. */
#include <errno.h>
#include <string.h>

#include "../../services/switchd/fdb.h"
#include "tap.h"

static void mac_of(uint8_t m[6], unsigned port, unsigned i)
{
    m[0] = 0x02; m[1] = (uint8_t)port; m[2] = (uint8_t)(i >> 24); m[3] = (uint8_t)(i >> 16);
    m[4] = (uint8_t)(i >> 8); m[5] = (uint8_t)i;
}

int main(void)
{
    uint8_t a[6] = { 2, 0, 0, 0, 0, 1 }, b[6] = { 2, 0, 0, 0, 0, 2 }, mc[6] = { 1, 0, 0x5e, 0, 0, 1 };
    sw_fdb_t *f = sw_fdb_new(0, 0);
    ok(f && sw_fdb_cap(f) == SW_FDB_DEFAULT_CAP, "default cap %u", SW_FDB_DEFAULT_CAP);
    ok(sw_fdb_lookup(f, a, 0) == -1, "unknown mac misses");
    ok(sw_fdb_learn(f, a, 1, 1000) == 1, "learn a new mac");
    ok(sw_fdb_lookup(f, a, 1000) == 1, "it is found on its port");
    ok(sw_fdb_learn(f, a, 1, 2000) == 0, "learning again refreshes");
    ok(sw_fdb_learn(f, a, 3, 3000) == 0 && sw_fdb_lookup(f, a, 3000) == 3, "a station moves ports");
    ok(sw_fdb_port_count(f, 1) == 0 && sw_fdb_port_count(f, 3) == 1, "per-port counts follow the move");
    ok(sw_fdb_learn(f, mc, 1, 3000) == 0 && sw_fdb_lookup(f, mc, 3000) == -1, "multicast source not learnt");
    ok(sw_fdb_learn(f, b, SW_FDB_MAX_PORTS, 0) == -EINVAL, "bad port refused");

    ok(sw_fdb_lookup(f, a, 3000 + 299999) == 3, "still there at 299.999 s");
    ok(sw_fdb_lookup(f, a, 3000 + 300000) == -1, "aged out at 300 s");
    ok(sw_fdb_count(f) == 0, "aged entry removed");

    sw_fdb_learn(f, a, 1, 0);
    sw_fdb_learn(f, b, 2, 100000);
    ok(sw_fdb_expire(f, 300000) == 1 && sw_fdb_count(f) == 1, "expire sweeps only aged entries");
    sw_fdb_flush_port(f, 2);
    ok(sw_fdb_count(f) == 0, "flush_port forgets a port's entries");
    sw_fdb_destroy(&f);
    ok(f == NULL, "destroy clears the pointer");
    sw_fdb_destroy(&f);

    /* Fair eviction: port 1 and 2 hold a few stations, port 9 floods. */
    f = sw_fdb_new(1000, 0);
    uint8_t m[6];
    for (unsigned i = 0; i < 10; i++) {
        mac_of(m, 1, i); sw_fdb_learn(f, m, 1, 1);
        mac_of(m, 2, i); sw_fdb_learn(f, m, 2, 1);
    }
    for (unsigned i = 0; i < 100000; i++) {
        mac_of(m, 9, i);
        sw_fdb_learn(f, m, 9, 2 + i / 100);
    }
    ok(sw_fdb_count(f) == 1000, "a flood keeps the table at its cap (%zu)", sw_fdb_count(f));
    ok(sw_fdb_port_count(f, 1) == 10 && sw_fdb_port_count(f, 2) == 10,
       "the flood evicted none of the other ports' stations");
    mac_of(m, 1, 3);
    ok(sw_fdb_lookup(f, m, 5000) == 1, "a quiet station is still found");
    mac_of(m, 9, 99999);
    ok(sw_fdb_lookup(f, m, 5000) == 9, "the newest flooded mac is present");
    mac_of(m, 9, 0);
    ok(sw_fdb_lookup(f, m, 5000) == -1, "the oldest flooded mac was evicted");
    ok(sw_fdb_evictions(f) == 100000 + 20 - 1000, "evictions counted (%llu)",
       (unsigned long long)sw_fdb_evictions(f));

    /* Two flooders share the table instead of one flushing the other. */
    for (unsigned i = 0; i < 5000; i++) {
        mac_of(m, 7, i); sw_fdb_learn(f, m, 7, 10000);
    }
    ok(sw_fdb_port_count(f, 7) >= 480 && sw_fdb_port_count(f, 9) >= 480,
       "two flooding ports end up sharing (%zu / %zu)", sw_fdb_port_count(f, 7), sw_fdb_port_count(f, 9));
    sw_fdb_destroy(&f);
    return done();
}
