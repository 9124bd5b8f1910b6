/* ag_tree: the byte stream that carries a file or a directory tree with
 * its modes (plugnet cp), shared by the agent and the CLI.
 *
 * A stream is a list of records, each a 24-byte header
 *
 *   0  magic   u32 "PNT1"
 *   4  type    u8  1 file, 2 dir, 3 symlink, 4 end
 *   5  zero    u8
 *   6  pathlen u16 (<= 4096), path relative: "name" or "name/sub/..."
 *   8  mode    u32 (permission bits)
 *  12  size    u64 file bytes, or symlink target bytes
 *  20  zero    u32
 *
 * followed by the path, then size bytes of content, then for files a
 * CRC-32C of the content, so every file is checked end to end.  The
 * first record names the root; an end record closes the stream.
 *
 * The walker produces the stream incrementally (pull, for flow control);
 * the reader consumes it incrementally.  Neither follows a path out of the
 * destination: ".." and absolute paths are refused, as are parents that
 * are symlinks.
 */
#ifndef AG_TREE_H
#define AG_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AG_TREE_MAGIC 0x31544E50u
#define AG_TREE_HDR 24
#define AG_TREE_MAX_PATH 4096
#define AG_TREE_MAX_DEPTH 128

enum { AG_TR_FILE = 1, AG_TR_DIR = 2, AG_TR_LINK = 3, AG_TR_END = 4 };

typedef struct ag_tree_w ag_tree_w_t;
/* NULL with err set when src cannot be read (or is a dir and !recursive). */
ag_tree_w_t *ag_tree_w_new(const char *src, bool recursive, char *err, size_t errlen);
/* Up to cap bytes of stream: > 0 bytes, 0 at the end, or a negative errno
 * (ag_tree_w_error says why, for the user). */
long ag_tree_w_read(ag_tree_w_t *w, uint8_t *buf, size_t cap);
/* The same, and *crc = CRC-32C of the bytes returned, computed in the same
 * pass as the files' own CRCs (a frame's payload CRC for free). */
long ag_tree_w_read_crc(ag_tree_w_t *w, uint8_t *buf, size_t cap, uint32_t *crc);
const char *ag_tree_w_error(const ag_tree_w_t *w);
uint64_t ag_tree_w_bytes(const ag_tree_w_t *w); /* content bytes so far */
void ag_tree_w_free(ag_tree_w_t **w_p);

typedef struct ag_tree_r ag_tree_r_t;
ag_tree_r_t *ag_tree_r_new(const char *dst);
/* 0, or a negative errno with the error set (the stream is then dead). */
int ag_tree_r_feed(ag_tree_r_t *r, const uint8_t *p, size_t n);
/* Are the next n bytes of the stream all file content?  Then the caller
 * may check them in one pass with the file's own CRC: it computes
 * crc = ag_crc32c(0, p, n) (say to verify a frame) and hands it over. */
bool ag_tree_r_in_content(const ag_tree_r_t *r, size_t n);
int ag_tree_r_feed_content(ag_tree_r_t *r, const uint8_t *p, size_t n, uint32_t crc);
/* The stream ended: 0 when it was complete and every file checked out,
 * else a negative errno (-EBADMSG: a file was damaged). */
int ag_tree_r_finish(ag_tree_r_t *r);
const char *ag_tree_r_error(const ag_tree_r_t *r);
uint64_t ag_tree_r_bytes(const ag_tree_r_t *r);
void ag_tree_r_free(ag_tree_r_t **r_p);

#endif
