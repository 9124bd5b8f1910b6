/* One op of cfgdiskd run once, without the daemon.  See local.h. */
#include "local.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "ops.h"
#include "pn_json.h"
#include "pn_proto.h"
#include "pn_svc.h"
#include "spec.h"

/* A spec carries at most 64 MiB of content; as JSON, base64 and escapes
 * make that larger, and a spec file may be up to 256 MiB. */
#define LOCAL_MAX_INPUT (512u << 20)

__attribute__((format(printf, 2, 3))) static pn_val_t *s_fail(int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pn_val_t *err = pn_map();
    pn_map_set_str(err, "code", pn_err_name(code));
    pn_map_set_str(err, "msg", msg);
    pn_val_t *reply = pn_map();
    pn_map_set_bool(reply, "ok", false);
    pn_map_set(reply, "err", err);
    return reply;
}

static pn_val_t *s_ok(pn_val_t *data)
{
    pn_val_t *reply = pn_map();
    pn_map_set_bool(reply, "ok", true);
    pn_map_set(reply, "data", data);
    return reply;
}

static pn_val_t *s_build(const pn_val_t *args)
{
    cd_spec_t *sp = NULL;
    char err[512];
    int r = cd_spec_parse(args, NULL, &sp, err, sizeof err);
    if (r < 0)
        return s_fail(cd_err_code(r), "%s", err);
    char dir[4200];
    cd_cache_default_dir(dir, sizeof dir);
    char *agent = cd_agent_path();
    cd_cache_t *c = cd_cache_new(dir, agent, err, sizeof err);
    free(agent);
    pn_val_t *reply;
    cd_result_t res;
    if (!c)
        reply = s_fail(PN_EINTERNAL, "%s", err);
    else if (cd_cache_build(c, sp, &res, err, sizeof err) < 0)
        reply = s_fail(PN_EINTERNAL, "cannot build the disk of %s: %s", sp->name, err);
    else
        reply = s_ok(cd_result_val(&res));
    cd_cache_destroy(&c);
    cd_spec_destroy(&sp);
    return reply;
}

static pn_val_t *s_ls(const pn_val_t *args)
{
    char dir[4200], err[256];
    cd_cache_default_dir(dir, sizeof dir);
    cd_cache_t *c = cd_cache_new(dir, NULL, err, sizeof err);
    if (!c)
        return s_fail(PN_EINTERNAL, "%s", err);
    pn_val_t *data = pn_map(), *disks;
    if (cd_cache_ls(c, &disks) == 0)
        pn_map_set(data, "disks", disks);
    cd_cache_destroy(&c);
    return s_ok(data);
}

static pn_val_t *s_gc(const pn_val_t *args)
{
    char dir[4200], err[256];
    const pn_val_t *keep = pn_get(args, "keep");
    if (cd_cache_keep_check(keep, err, sizeof err) < 0)
        return s_fail(PN_EINVAL, "%s", err);
    cd_cache_default_dir(dir, sizeof dir);
    cd_cache_t *c = cd_cache_new(dir, NULL, err, sizeof err);
    if (!c)
        return s_fail(PN_EINTERNAL, "%s", err);
    pn_val_t *data = NULL;
    int r = cd_cache_gc(c, keep, &data);
    cd_cache_destroy(&c);
    return r < 0 ? s_fail(PN_EINTERNAL, "%s", strerror(-r)) : s_ok(data);
}

static const struct {
    const char *name;
    pn_val_t *(*fn)(const pn_val_t *args);
} s_local_ops[] = {
    { PN_OPNAME(DISK_BUILD), s_build },
    { PN_OPNAME(DISK_LS), s_ls },
    { PN_OPNAME(DISK_GC), s_gc },
    { NULL, NULL },
};

int cd_local_main(int argc, char **argv)
{
    size_t i = 0;
    while (argc == 3 && s_local_ops[i].name && strcmp(s_local_ops[i].name, argv[2]))
        i++;
    if (argc != 3 || !s_local_ops[i].name) {
        fprintf(stderr, "usage: plugnet-cfgdiskd --local disk.build|disk.ls|disk.gc <ARGS.json\n"
                        "Run one op without the daemon: its args as JSON on stdin, the reply as JSON on stdout.\n");
        return 2;
    }
    char *text = NULL, err[256];
    size_t len = 0;
    int r = pn_file_read("/dev/stdin", LOCAL_MAX_INPUT, &text, &len);
    if (r < 0) {
        fprintf(stderr, "plugnet-cfgdiskd: cannot read the args from stdin: %s\n", strerror(-r));
        return 1;
    }
    pn_val_t *args = NULL, *reply;
    if (len && !(args = pn_json_parse(text, len, err, sizeof err)))
        reply = s_fail(PN_EINVAL, "args: not JSON: %s", err);
    else
        reply = s_local_ops[i].fn(args);
    free(text);
    pn_val_free(args);
    pn_val_json(reply, stdout);
    pn_val_free(reply);
    if (putchar('\n') == EOF || fflush(stdout) == EOF) {
        fprintf(stderr, "plugnet-cfgdiskd: cannot write the reply: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}
