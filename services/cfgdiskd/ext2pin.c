/* Pinning the owners and times of an ext2 image's inodes.  See ext2pin.h.
 * On-disk layout (little endian), from the ext2 documentation:
 *   superblock at byte 1024: s_inodes_count @0, s_blocks_count @4,
 *   s_first_data_block @20, s_log_block_size @24, s_blocks_per_group @32,
 *   s_inodes_per_group @40, s_magic @56 (0xEF53), s_rev_level @76,
 *   s_first_ino @84, s_inode_size @88 (u16), s_feature_incompat @96,
 *   s_feature_ro_compat @100.
 *   group descriptors (32 bytes) in the block after the superblock's:
 *   bg_inode_bitmap @4, bg_inode_table @8.
 *   inode: i_uid @2 (u16), i_atime @8, i_ctime @12, i_mtime @16, i_gid @24
 *   (u16), l_i_uid_high @120 (u16), l_i_gid_high @122 (u16); past 128:
 *   i_extra_isize @128 (u16), i_ctime_extra @132, i_mtime_extra @136,
 *   i_atime_extra @140, i_crtime @144, i_crtime_extra @148. */
#include "ext2pin.h"
#include "pn_svc.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RO_COMPAT_GDT_CSUM 0x0010u
#define RO_COMPAT_METADATA_CSUM 0x0400u
#define INCOMPAT_64BIT 0x0080u
#define INCOMPAT_META_BG 0x0010u

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static int s_pread(int fd, void *buf, size_t n, uint64_t off)
{
    return pn_io_all(fd, buf, n, (int64_t)off, false);
}

static int s_pwrite(int fd, void *buf, size_t n, uint64_t off)
{
    return pn_io_all(fd, buf, n, (int64_t)off, true);
}

/* Set the owner and times of one inode (isz bytes). */
static void s_pin(uint8_t *ino, uint32_t isz, uint32_t epoch)
{
    put16(ino + 2, 0);
    put32(ino + 8, epoch);
    put32(ino + 12, epoch);
    put32(ino + 16, epoch);
    put16(ino + 24, 0);
    put16(ino + 120, 0);
    put16(ino + 122, 0);
    if (isz <= 128)
        return;
    uint32_t end = 128 + le16(ino + 128); /* the extra fields actually in use */
    if (end > isz)
        end = isz;
    if (end >= 136)
        put32(ino + 132, 0);
    if (end >= 140)
        put32(ino + 136, 0);
    if (end >= 144)
        put32(ino + 140, 0);
    if (end >= 148)
        put32(ino + 144, epoch);
    if (end >= 152)
        put32(ino + 148, 0);
}

int cd_ext2_pin(const char *image, uint32_t epoch, size_t *pinned, char *err, size_t errlen)
{
    int fd = open(image, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int e = -errno;
        snprintf(err, errlen, "cannot open %s: %s", image, strerror(errno));
        return e;
    }
    uint8_t sb[1024];
    uint8_t *bitmap = NULL, *table = NULL;
    size_t count = 0;
    int r = s_pread(fd, sb, sizeof sb, 1024);
    if (r) {
        snprintf(err, errlen, "cannot read the superblock of %s: %s", image, strerror(-r));
        goto out;
    }
    uint32_t inodes = le32(sb + 0), blocks = le32(sb + 4), first_data = le32(sb + 20);
    uint32_t log_bs = le32(sb + 24), bpg = le32(sb + 32), ipg = le32(sb + 40);
    uint32_t rev = le32(sb + 76), incompat = le32(sb + 96), ro_compat = le32(sb + 100);
    uint32_t first_ino = rev >= 1 ? le32(sb + 84) : 11;
    uint32_t isz = rev >= 1 ? le16(sb + 88) : 128;
    r = -EINVAL;
    if (le16(sb + 56) != 0xEF53 || log_bs > 6 || !bpg || !ipg || isz < 128 || (isz & (isz - 1)) ||
        first_ino < 3) {
        snprintf(err, errlen, "%s is not an ext2 file system this code knows", image);
        goto out;
    }
    if ((ro_compat & (RO_COMPAT_GDT_CSUM | RO_COMPAT_METADATA_CSUM)) ||
        (incompat & (INCOMPAT_64BIT | INCOMPAT_META_BG))) {
        snprintf(err, errlen, "%s has checksums or 64-bit descriptors, which this code does not update", image);
        goto out;
    }
    uint32_t bs = 1024u << log_bs;
    if (isz > bs || blocks <= first_data) {
        snprintf(err, errlen, "%s has an inconsistent superblock", image);
        goto out;
    }
    uint32_t groups = (blocks - first_data + bpg - 1) / bpg;
    if ((uint64_t)groups * ipg != inodes || ipg > 8u * bs) {
        snprintf(err, errlen, "%s: %u groups of %u inodes do not make %u", image, groups, ipg, inodes);
        goto out;
    }
    uint64_t gdt = (uint64_t)(first_data + 1) * bs;
    bitmap = malloc(bs);
    table = malloc((size_t)ipg * isz);
    if (!bitmap || !table) {
        r = -ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (uint32_t g = 0; g < groups; g++) {
        uint8_t gd[32];
        if ((r = s_pread(fd, gd, sizeof gd, gdt + (uint64_t)g * 32)) ||
            (r = s_pread(fd, bitmap, bs, (uint64_t)le32(gd + 4) * bs)) ||
            (r = s_pread(fd, table, (size_t)ipg * isz, (uint64_t)le32(gd + 8) * bs))) {
            snprintf(err, errlen, "cannot read group %u of %s: %s", g, image, strerror(-r));
            goto out;
        }
        bool dirty = false;
        for (uint32_t i = 0; i < ipg; i++) {
            uint32_t ino = g * ipg + i + 1;
            if (!(bitmap[i / 8] & (1u << (i % 8))) || (ino != 2 && ino < first_ino))
                continue;
            s_pin(table + (size_t)i * isz, isz, epoch);
            dirty = true;
            count++;
        }
        if (dirty && (r = s_pwrite(fd, table, (size_t)ipg * isz, (uint64_t)le32(gd + 8) * bs))) {
            snprintf(err, errlen, "cannot write group %u of %s: %s", g, image, strerror(-r));
            goto out;
        }
    }
    r = 0;
    if (pinned)
        *pinned = count;
out:
    free(bitmap);
    free(table);
    if (close(fd) < 0 && !r) {
        r = -errno;
        snprintf(err, errlen, "cannot close %s: %s", image, strerror(errno));
    }
    return r;
}
