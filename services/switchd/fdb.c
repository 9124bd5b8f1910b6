/* The FDB: an open hash table of entries chained by bucket, plus one LRU
 * list per port (oldest at the head) for aging and fair eviction. */
#include "fdb.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry entry_t;
struct entry {
    uint8_t mac[6];
    unsigned port;
    uint64_t seen;
    entry_t *hnext;               /* bucket chain */
    entry_t *lprev, *lnext;       /* the port's LRU list */
};

typedef struct {
    entry_t *head, *tail;         /* head = least recently seen */
    size_t n;
} plist_t;

struct sw_fdb {
    size_t cap, count, nbuckets;
    uint64_t age_ms, evictions;
    entry_t **buckets;
    plist_t *ports;               /* grown on demand */
    size_t nports;
    entry_t *free;                /* recycled entries */
};

static size_t s_hash(const sw_fdb_t *self, const uint8_t mac[6])
{
    /* FNV-1a over the six bytes; the table size is a power of two. */
    uint32_t h = 2166136261u;
    for (int i = 0; i < 6; i++)
        h = (h ^ mac[i]) * 16777619u;
    return h & (self->nbuckets - 1);
}

sw_fdb_t *sw_fdb_new(size_t cap, uint64_t age_ms)
{
    sw_fdb_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->cap = cap ? cap : SW_FDB_DEFAULT_CAP;
    self->age_ms = age_ms ? age_ms : SW_FDB_DEFAULT_AGE_MS;
    self->nbuckets = 64;
    while (self->nbuckets < self->cap)
        self->nbuckets <<= 1;
    self->buckets = calloc(self->nbuckets, sizeof(*self->buckets));
    if (!self->buckets) {
        free(self);
        return NULL;
    }
    return self;
}

void sw_fdb_destroy(sw_fdb_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sw_fdb_t *self = *self_p;
    for (size_t b = 0; b < self->nbuckets; b++) {
        entry_t *e = self->buckets[b];
        while (e) {
            entry_t *n = e->hnext;
            free(e);
            e = n;
        }
    }
    while (self->free) {
        entry_t *n = self->free->hnext;
        free(self->free);
        self->free = n;
    }
    free(self->buckets);
    free(self->ports);
    free(self);
    *self_p = NULL;
}

static int s_port_reserve(sw_fdb_t *self, unsigned port)
{
    if (port >= SW_FDB_MAX_PORTS)
        return -EINVAL;
    if (port < self->nports)
        return 0;
    size_t n = self->nports ? self->nports : 16;
    while (n <= port)
        n *= 2;
    plist_t *p = realloc(self->ports, n * sizeof(*p));
    if (!p)
        return -ENOMEM;
    memset(p + self->nports, 0, (n - self->nports) * sizeof(*p));
    self->ports = p;
    self->nports = n;
    return 0;
}

static void s_list_remove(sw_fdb_t *self, entry_t *e)
{
    plist_t *l = &self->ports[e->port];
    if (e->lprev)
        e->lprev->lnext = e->lnext;
    else
        l->head = e->lnext;
    if (e->lnext)
        e->lnext->lprev = e->lprev;
    else
        l->tail = e->lprev;
    e->lprev = e->lnext = NULL;
    l->n--;
}

static void s_list_append(sw_fdb_t *self, entry_t *e)
{
    plist_t *l = &self->ports[e->port];
    e->lnext = NULL;
    e->lprev = l->tail;
    if (l->tail)
        l->tail->lnext = e;
    else
        l->head = e;
    l->tail = e;
    l->n++;
}

static entry_t *s_find(sw_fdb_t *self, const uint8_t mac[6], entry_t ***link_p)
{
    entry_t **link = &self->buckets[s_hash(self, mac)];
    while (*link) {
        if (memcmp((*link)->mac, mac, 6) == 0) {
            if (link_p)
                *link_p = link;
            return *link;
        }
        link = &(*link)->hnext;
    }
    return NULL;
}

static void s_remove(sw_fdb_t *self, entry_t *e)
{
    entry_t **link;
    entry_t *found = s_find(self, e->mac, &link);
    assert(found == e);
    *link = e->hnext;
    s_list_remove(self, e);
    self->count--;
    e->hnext = self->free;
    self->free = e;
}

/* Evict the oldest entry of the port that holds the most entries. */
static void s_evict_fair(sw_fdb_t *self)
{
    size_t best = 0, bestn = 0;
    for (size_t p = 0; p < self->nports; p++) {
        if (self->ports[p].n > bestn) {
            bestn = self->ports[p].n;
            best = p;
        }
    }
    if (bestn == 0)
        return;
    s_remove(self, self->ports[best].head);
    self->evictions++;
}

int sw_fdb_learn(sw_fdb_t *self, const uint8_t mac[6], unsigned port, uint64_t now)
{
    if (mac[0] & 1)
        return 0; /* group addresses are never a source */
    int r = s_port_reserve(self, port);
    if (r < 0)
        return r;
    entry_t *e = s_find(self, mac, NULL);
    if (e) {
        s_list_remove(self, e);
        e->port = port;
        e->seen = now;
        s_list_append(self, e);
        return 0;
    }
    if (self->count >= self->cap) {
        /* An aged entry of this very port is the cheapest to recycle. */
        plist_t *l = &self->ports[port];
        if (l->head && now - l->head->seen >= self->age_ms)
            s_remove(self, l->head);
        else
            s_evict_fair(self);
    }
    if (self->free) {
        e = self->free;
        self->free = e->hnext;
    } else if (!(e = malloc(sizeof(*e)))) {
        return -ENOMEM;
    }
    memcpy(e->mac, mac, 6);
    e->port = port;
    e->seen = now;
    size_t b = s_hash(self, mac);
    e->hnext = self->buckets[b];
    self->buckets[b] = e;
    s_list_append(self, e);
    self->count++;
    return 1;
}

int sw_fdb_lookup(sw_fdb_t *self, const uint8_t mac[6], uint64_t now)
{
    entry_t *e = s_find(self, mac, NULL);
    if (!e)
        return -1;
    if (now - e->seen >= self->age_ms) {
        s_remove(self, e);
        return -1;
    }
    return (int)e->port;
}

void sw_fdb_flush_port(sw_fdb_t *self, unsigned port)
{
    if (port >= self->nports)
        return;
    while (self->ports[port].head)
        s_remove(self, self->ports[port].head);
}

size_t sw_fdb_expire(sw_fdb_t *self, uint64_t now)
{
    size_t n = 0;
    for (size_t p = 0; p < self->nports; p++) {
        plist_t *l = &self->ports[p];
        while (l->head && now - l->head->seen >= self->age_ms) {
            s_remove(self, l->head);
            n++;
        }
    }
    return n;
}

size_t sw_fdb_count(const sw_fdb_t *self) { return self->count; }
size_t sw_fdb_cap(const sw_fdb_t *self) { return self->cap; }
uint64_t sw_fdb_evictions(const sw_fdb_t *self) { return self->evictions; }

size_t sw_fdb_port_count(const sw_fdb_t *self, unsigned port)
{
    return port < self->nports ? self->ports[port].n : 0;
}

void sw_fdb_foreach(sw_fdb_t *self, uint64_t now, sw_fdb_visit_fn fn, void *arg)
{
    for (size_t p = 0; p < self->nports; p++)
        for (entry_t *e = self->ports[p].head; e; e = e->lnext)
            fn(e->mac, e->port, now - e->seen, arg);
}
