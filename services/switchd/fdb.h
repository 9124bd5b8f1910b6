/* sw_fdb: a LAN's forwarding database (MAC -> port) with aging, a hard
 * cap and fair eviction, after Open vSwitch's mac-learning: when the table
 * is full, the oldest entry of the port holding the most entries goes, so
 * one port flooding random source MACs only ever evicts its own entries
 * once it holds more than anyone else.
 *
 * Ports are small integers 0..SW_FDB_MAX_PORTS-1 chosen by the caller.
 * Time is passed in (ms, monotonic) so tests control it.
 */
#ifndef SW_FDB_H
#define SW_FDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SW_FDB_MAX_PORTS 4096
#define SW_FDB_DEFAULT_CAP 8192
#define SW_FDB_DEFAULT_AGE_MS (300u * 1000u)

typedef struct sw_fdb sw_fdb_t;

sw_fdb_t *sw_fdb_new(size_t cap, uint64_t age_ms);
void sw_fdb_destroy(sw_fdb_t **self_p);

/* Learn (or refresh, or move) mac on port at time now.  Multicast source
 * addresses are never learnt.  Returns 1 when a new entry was made, 0 when
 * an existing one was refreshed or moved, -EINVAL for a bad port. */
int sw_fdb_learn(sw_fdb_t *self, const uint8_t mac[6], unsigned port, uint64_t now);
/* The port mac lives on, or -1 when unknown or aged out. */
int sw_fdb_lookup(sw_fdb_t *self, const uint8_t mac[6], uint64_t now);
/* Forget everything learnt on port (port removed or set down). */
void sw_fdb_flush_port(sw_fdb_t *self, unsigned port);
/* Drop aged entries; returns how many went. */
size_t sw_fdb_expire(sw_fdb_t *self, uint64_t now);

size_t sw_fdb_count(const sw_fdb_t *self);
size_t sw_fdb_port_count(const sw_fdb_t *self, unsigned port);
size_t sw_fdb_cap(const sw_fdb_t *self);
uint64_t sw_fdb_evictions(const sw_fdb_t *self);

/* Visit every entry (for listings). */
typedef void (*sw_fdb_visit_fn)(const uint8_t mac[6], unsigned port, uint64_t age_ms, void *arg);
void sw_fdb_foreach(sw_fdb_t *self, uint64_t now, sw_fdb_visit_fn fn, void *arg);

#endif
