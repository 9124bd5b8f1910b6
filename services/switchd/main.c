/* plugnet-switchd: the userspace Ethernet switch.  Wires the service
 * skeleton, the ops table and the once-a-second tick; restores LANs. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sw.h"

static void s_status(pn_svc_t *svc, pn_val_t *data)
{
    sw_t *sw = pn_svc_user(svc);
    unsigned ports = 0;
    for (sw_lan_t *l = sw->lans; l; l = l->next)
        ports += l->nlive;
    pn_map_set_uint(data, "lans", sw->nlans);
    pn_map_set_uint(data, "ports", ports);
}

static void s_stop(pn_svc_t *svc)
{
    /* Close every port so VDE clients see their control stream end and
     * taps disappear; LANs stay in STATE for the next start. */
    sw_lans_stop(pn_svc_user(svc));
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    sw_t *sw = calloc(1, sizeof(*sw));
    if (!sw)
        return 1;
    /* The batch slots: reserved once, touched only as frames need them. */
    sw->slots = mmap(NULL, (size_t)SW_BATCH * SW_SLOT, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    sw->arena = mmap(NULL, SW_ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (sw->slots == MAP_FAILED || sw->arena == MAP_FAILED) {
        free(sw);
        return 1;
    }
    pn_svc_t *svc = pn_svc_new("switchd", sw_ops, sw);
    if (!svc) {
        free(sw);
        return 1;
    }
    sw->svc = svc;
    sw->loop = pn_svc_loop(svc);
    pn_svc_set_status_fn(svc, s_status);
    pn_svc_set_stop_fn(svc, s_stop);
    if (pn_svc_start(svc, argc, argv) < 0) {
        /* Another switchd runs, or a socket could not be bound: nothing
         * of ours was made yet. */
        pn_svc_destroy(&svc);
        munmap(sw->slots, (size_t)SW_BATCH * SW_SLOT);
        munmap(sw->arena, SW_ARENA);
        free(sw);
        return 1;
    }
    sw_fdstore_load(sw);
    sw_lans_restore(sw);
    sw_lans_adopt(sw);
    sw->tick = pn_loop_add_timer(sw->loop, 1000, true, sw_tick, sw);
    int rc = pn_svc_run(svc);
    sw_lans_free(sw);
    if (sw->tick)
        pn_loop_del_timer(sw->loop, sw->tick);
    if (sw->watch_timer)
        pn_loop_del_timer(sw->loop, sw->watch_timer);
    pn_svc_destroy(&svc);
    munmap(sw->slots, (size_t)SW_BATCH * SW_SLOT);
    munmap(sw->arena, SW_ARENA);
    free(sw);
    return rc;
}
