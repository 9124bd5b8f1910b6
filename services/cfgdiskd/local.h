/* plugnet-cfgdiskd --local OP: one op run once in this process, without
 * the daemon, for `plugnet disk` when no cfgdiskd runs (or with --local).
 *
 * The op's args come as one JSON object on stdin; the reply goes to stdout
 * as one JSON object in the shape of a bus reply:
 *     {"ok":true,"data":{...}}
 *     {"ok":false,"err":{"code":"invalid_argument","msg":"..."}}
 * The cache is the daemon's (STATE/cfgdisk), shared safely with a running
 * daemon and other one-shot runs; the same spec gives the same bytes. */
#ifndef CD_LOCAL_H
#define CD_LOCAL_H

/* argv: plugnet-cfgdiskd --local OP.  The process exit status: 0 when a
 * reply was written (ok or not), 1 when it could not be, 2 usage. */
int cd_local_main(int argc, char **argv);

#endif
