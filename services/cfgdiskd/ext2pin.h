/* cd_ext2pin: make an ext2 image independent of who built it and when.
 *
 * mke2fs -d copies each source file's owner and its atime/ctime (which no
 * one can set on the source) into the image.  cd_ext2_pin() walks the
 * inode bitmaps and sets, in every inode in use (the root, lost+found and
 * what -d made), owner 0:0 and all four times to `epoch` with zero
 * nanoseconds.  It works on the plain ext2 that cd_image makes (no
 * metadata checksums, 32-bit group descriptors) and refuses anything else. */
#ifndef CD_EXT2PIN_H
#define CD_EXT2PIN_H

#include <stddef.h>
#include <stdint.h>

/* 0 or -errno; err says why.  *pinned (may be NULL) = inodes rewritten. */
int cd_ext2_pin(const char *image, uint32_t epoch, size_t *pinned, char *err, size_t errlen);

#endif
