/* cd_ext2pin: owners and times pinned in every inode in use of a real
 * mke2fs -d image (several block groups), and refusals for what it cannot
 * handle.  Uses e2fsprogs (mke2fs, debugfs, e2fsck) as the reference. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../services/cfgdiskd/ext2pin.h"
#include "../../services/cfgdiskd/image.h"
#include "tap.h"

/* check() with what came out shown as a diagnostic when cond fails. */
static void check(int cond, const char *what, const char *got)
{
    if (!ok(cond, "%s", what) && got)
        diag("  got: %s", got);
}

static int sh(const char *fmt, const char *dir)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, fmt, dir, dir, dir, dir, dir, dir, dir, dir);
    return system(cmd);
}

int main(void)
{
    char dir[] = "/tmp/cd_ext2pin.XXXXXX";
    if (!mkdtemp(dir)) {
        printf("1..0 # SKIP no temporary directory\n");
        return 0;
    }
    char img[300], err[512];
    snprintf(img, sizeof img, "%s/img", dir);
    /* A tree owned by nobody with current times, over several block groups. */
    int r = sh("mkdir -p %s/t/a/b && echo x >%s/t/a/b/f && head -c 9000000 /dev/zero >%s/t/big && "
               "chown -R 65534:65534 %s/t && truncate -s 24M %s/img && "
               "PATH=/usr/sbin:/sbin:$PATH MKE2FS_CONFIG=/dev/null mke2fs -q -F -t ext2 "
               "-O none,filetype,sparse_super,large_file -b 1024 -I 256 -N 96 -d %s/t %s/img 2>/dev/null",
               dir);
    check(r == 0, "mke2fs -d makes a multi-group ext2 image from a tree owned by nobody", NULL);
    size_t n = 0;
    r = cd_ext2_pin(img, CD_EPOCH, &n, err, sizeof err);
    /* root, lost+found, a, a/b, a/b/f, big */
    check(r == 0 && n == 6, "every inode in use is pinned (root, lost+found, 4 entries)", err);
    r = sh("PATH=/usr/sbin:/sbin:$PATH; for i in 2 11 12 13 14 15; do debugfs -R \"stat <$i>\" %s/img 2>/dev/null; "
           "done >%s/stat && ! grep -E 'User: +[1-9]|Group: +[1-9]' %s/stat && "
           "test $(grep -c '0x386d4380:00000000' %s/stat) = 24",
           dir);
    check(r == 0, "owners are 0:0 and a, c, m and crtime are 2000-01-01 with no nanoseconds", NULL);
    r = sh("PATH=/usr/sbin:/sbin:$PATH e2fsck -fn %s/img >/dev/null 2>&1", dir);
    check(r == 0, "e2fsck finds the pinned image clean", NULL);

    r = sh("PATH=/usr/sbin:/sbin:$PATH; rm -f %s/img && truncate -s 4M %s/img && "
           "mke2fs -q -F -t ext4 -O metadata_csum %s/img 2>/dev/null", dir);
    r = r == 0 ? cd_ext2_pin(img, CD_EPOCH, &n, err, sizeof err) : -1;
    check(r < 0 && strstr(err, "checksums"), "an ext4 image with metadata checksums is refused", err);
    r = sh("head -c 4096 /dev/urandom >%s/img", dir);
    r = cd_ext2_pin(img, CD_EPOCH, &n, err, sizeof err);
    check(r < 0 && strstr(err, "not an ext2"), "a file that is no ext2 is refused", err);
    r = sh("head -c 100 /dev/zero >%s/img", dir);
    r = cd_ext2_pin(img, CD_EPOCH, &n, err, sizeof err);
    check(r < 0 && strstr(err, "cannot read the superblock"), "a short file is refused", err);
    cd_rmtree(dir);
    return done();
}
