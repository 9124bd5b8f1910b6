/* cd_image: turn a validated spec into a disk image file, without root.
 *
 *  - PLUGNET: an ext2 file system made by mke2fs -d from a staging tree,
 *    then every inode's owner and times pinned (ext2pin.c), so that the same
 *    spec gives the same bytes whoever builds it and whenever.
 *  - cidata: a vfat file system (mkfs.vfat --invariant, mcopy -m) holding
 *    meta-data, user-data and network-config.
 *
 * The external tools are found in PATH and in /usr/sbin and /sbin (an
 * unprivileged user's PATH often lacks those).
 */
#ifndef CD_IMAGE_H
#define CD_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "spec.h"

/* The fixed time of every timestamp in an image: 2000-01-01T00:00:00Z
 * (FAT cannot store dates before 1980). */
#define CD_EPOCH 946684800

typedef struct {
    const uint8_t *agent;   /* the agent binary, or NULL */
    size_t agent_len;
    const char *key;        /* hex cache key: seeds UUID, hash seed, volume id */
    const char *tmpdir;     /* where staging trees go (same file system as out) */
} cd_image_in_t;

/* Build sp's image into out (created; must not exist).  0 or -errno, with
 * err saying what failed (a tool's own message included). */
int cd_image_build(const cd_spec_t *sp, const cd_image_in_t *in, const char *out, char *err,
                   size_t errlen);

/* Absolute path of a tool, searched in PATH, /usr/sbin, /sbin; NULL if absent. */
const char *cd_tool(const char *name);

/* rm -rf path (no symlinks followed).  0 or -errno. */
int cd_rmtree(const char *path);

#endif
