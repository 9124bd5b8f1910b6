/* cd_cache: the content-addressed store of config disks, STATE/cfgdisk/.
 *
 *   <key>.<format>.img   the image; <key> = SHA-256 of the normalised spec,
 *                        the agent binary's digest, the config script and
 *                        the generator version
 *   <key>.meta           name, format, sha256, size, built_ns (text)
 *   <key>.lock           flock()ed while the image is built
 *   tmp/                 staging trees and images being written
 *
 * The same spec gives the same file, and a hit costs one stat (no image or
 * agent is read).  Builds of one key are serialised with flock() across
 * threads and processes, so concurrent requests do the work once; images
 * appear by rename(), so a reader never sees a partial one.  Safe to use
 * from several threads at once.
 */
#ifndef CD_CACHE_H
#define CD_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "pn_val.h"
#include "spec.h"

/* Bump when the image layout changes: new keys (config script changes are
 * part of the key already). */
#define CD_GEN_VERSION "plugnet-cfgdisk-gen-1"

typedef struct cd_cache cd_cache_t;

typedef struct {
    char path[4200];
    char key[65];
    char sha256[65];
    uint64_t size;
    bool cached;
    cd_format_t format;
    uint64_t build_ms;
} cd_result_t;

/* The cache of this user: STATE/cfgdisk (into out, len bytes). */
void cd_cache_default_dir(char *out, size_t len);
/* The agent binary the PLUGNET disk carries: $PLUGNET_AGENT, else
 * plugnet-agent next to this executable (malloc'd; may not exist). */
char *cd_agent_path(void);

/* dir is created when missing.  agent: path of the agent binary or NULL
 * (a missing file means "no agent").  NULL on failure with err set. */
cd_cache_t *cd_cache_new(const char *dir, const char *agent, char *err, size_t errlen);
void cd_cache_destroy(cd_cache_t **c_p);
const char *cd_cache_dir(cd_cache_t *c);

/* The key of sp, and on a hit the result (cached = true): 1 hit, 0 miss, <0 error. */
int cd_cache_lookup(cd_cache_t *c, const cd_spec_t *sp, cd_result_t *res, char *err, size_t errlen);
/* Build (or find) sp's disk.  0 or -errno with err set. */
int cd_cache_build(cd_cache_t *c, const cd_spec_t *sp, cd_result_t *res, char *err, size_t errlen);

/* A result as disk.build's reply data {path, sha256, size, cached, key, format}. */
pn_val_t *cd_result_val(const cd_result_t *res);

/* disk.ls: *disks = array of maps {path, key, sha256, size, format, name, built_ns}. */
int cd_cache_ls(cd_cache_t *c, pn_val_t **disks);
/* disk.gc: remove every disk whose path, key or sha256 is not in keep
 * (an array of strings, or NULL = keep nothing).  *reply = {removed, kept, freed}. */
int cd_cache_gc(cd_cache_t *c, const pn_val_t *keep, pn_val_t **reply);
/* Is keep (disk.gc's arg) absent or an array of strings?  0, or -EINVAL
 * with err naming the offending item. */
int cd_cache_keep_check(const pn_val_t *keep, char *err, size_t errlen);

#endif
