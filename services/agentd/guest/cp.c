/* plugnet-agent: file copy (plugnet cp).  A put session feeds the host's
 * ag_tree stream to a reader that writes under the destination; a get
 * session walks the source and sends the stream as DATA on stdout, as far
 * as the host's credit goes. */
#include <string.h>

#include "agent.h"

const char *ga_cp_open(ga_sess_t *s, const char *kind, const char *path, bool recursive, char *ebuf,
                       size_t elen)
{
    if (!path || path[0] != '/')
        return "the path must be absolute";
    if (!strcmp(kind, "put")) {
        s->kind = GA_PUT;
        s->reader = ag_tree_r_new(path);
        return s->reader ? NULL : "out of memory";
    }
    s->kind = GA_GET;
    s->walker = ag_tree_w_new(path, recursive, ebuf, elen);
    return s->walker ? NULL : ebuf;
}

const char *ga_cp_put(ga_sess_t *s, const ag_frame_t *f)
{
    /* A checked frame's pcrc is its payload's CRC: the file's CRC
     * needs no second pass over the bytes. */
    if ((f->checked ? ag_tree_r_feed_content(s->reader, f->payload, f->len, f->pcrc)
                    : ag_tree_r_feed(s->reader, f->payload, f->len)) < 0)
        return ag_tree_r_error(s->reader);
    return NULL;
}

const char *ga_cp_put_end(ga_sess_t *s)
{
    return ag_tree_r_finish(s->reader) < 0 ? ag_tree_r_error(s->reader) : NULL;
}

int ga_cp_get(ga_sess_t *s)
{
    ga_t *a = s->a;
    size_t want = s->credit < AG_CHUNK ? (size_t)s->credit : AG_CHUNK;
    size_t mark;
    if (ag_frame_begin(&a->out, &mark) < 0)
        return 1; /* no room now: try again */
    uint32_t crc;
    long n = ag_tree_w_read_crc(s->walker, a->out.data + mark + AG_HDR, want, &crc);
    if (n <= 0) {
        a->out.len = mark;
        if (n < 0)
            return (int)n;
        ga_send(a, AG_T_EOF, AG_STDOUT, s->sid, NULL, 0);
        return 0;
    }
    a->out.len = mark + AG_HDR + (size_t)n;
    ag_frame_finish_crc(&a->out, mark, AG_T_DATA, AG_STDOUT, s->sid, crc);
    s->credit -= (uint64_t)n;
    return 1;
}
