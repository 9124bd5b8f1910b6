/* Every daemon's handler table agrees with the schema: the ops it handles
 * are the ops proto/schema.c gives its service, no more, no fewer, each
 * once; and pn_svc_ops_check notices each way they can disagree.  And the
 * map from a negative errno to a reply's code. */
#include <errno.h>
#include <string.h>

#include "pn_svc.h"
#include "tap.h"

extern const pn_svc_op_t sw_ops[], vm_ops[], cd_ops[], agd_ops[];

static void s_dummy(pn_svc_t *svc, pn_req_t *req) { (void)svc, (void)req; }

static void s_agrees(const char *svc, const pn_svc_op_t *ops)
{
    char err[256] = "";
    ok(pn_svc_ops_check(svc, ops, err, sizeof err) == 0, "%s's table agrees with the schema%s%s", svc,
       err[0] ? ": " : "", err);
}

static void s_refused(const char *what, const pn_svc_op_t *ops, const char *want)
{
    char err[256] = "";
    int r = pn_svc_ops_check("switchd", ops, err, sizeof err);
    ok(r == -EINVAL && strstr(err, want), "%s is refused (%s)", what, err);
}

int main(void)
{
    s_agrees("switchd", sw_ops);
    s_agrees("vmd", vm_ops);
    s_agrees("cfgdiskd", cd_ops);
    s_agrees("agentd", agd_ops);

    /* A table of switchd's ops but one, then with each kind of mistake. */
    pn_svc_op_t t[64];
    size_t n = 0;
    for (const pn_svc_op_t *o = sw_ops; o->op && n + 2 < 64; o++)
        t[n++] = *o;
    t[n] = (pn_svc_op_t){ NULL, NULL, NULL };
    t[n - 1] = (pn_svc_op_t){ NULL, NULL, NULL };
    s_refused("a missing handler", t, "no handler for op");
    t[n - 1] = sw_ops[n - 1];
    t[n] = (pn_svc_op_t){ "switchd", "lan.addd", s_dummy };
    t[n + 1] = (pn_svc_op_t){ NULL, NULL, NULL };
    s_refused("a misspelt op", t, "'lan.addd' is not in the schema");
    t[n] = (pn_svc_op_t){ PN_OP_NODE_ADD, s_dummy };
    s_refused("another daemon's op", t, "belongs to vmd");
    t[n] = (pn_svc_op_t){ PN_OP_LAN_ADD, s_dummy };
    s_refused("an op twice", t, "twice");
    t[n] = (pn_svc_op_t){ "switchd", PN_OPNAME_PING, s_dummy };
    s_refused("ping (the runtime's)", t, "not in the schema");

    /* Where a handler turns a -errno into a reply's code. */
    ok(pn_err_from_errno(0) == PN_OK, "0 is ok");
    ok(pn_err_from_errno(-ENOENT) == PN_ENOTFOUND, "ENOENT is not_found");
    ok(pn_err_from_errno(-EEXIST) == PN_EEXIST, "EEXIST is already_exists");
    ok(pn_err_from_errno(-EBUSY) == PN_EBUSY, "EBUSY is busy");
    ok(pn_err_from_errno(-ETIMEDOUT) == PN_EUNAVAIL, "ETIMEDOUT is unavailable");
    ok(pn_err_from_errno(-EACCES) == PN_EPERM, "EACCES is permission_denied");
    ok(pn_err_from_errno(-EOPNOTSUPP) == PN_EUNSUP, "EOPNOTSUPP is unsupported");
    ok(pn_err_from_errno(-EMSGSIZE) == PN_ETOOLARGE, "EMSGSIZE is too_large");
    ok(pn_err_from_errno(-EINVAL) == PN_EINVAL, "EINVAL is invalid_argument");
    ok(pn_err_from_errno(-EIO) == PN_EINTERNAL, "anything else is internal");
    return done();
}
