/* cd_render: the text files of a config disk, from a validated spec.
 * Every function returns a malloc'd NUL-terminated string (NULL only when
 * out of memory).  Output depends on nothing but its arguments, so images
 * are reproducible. */
#ifndef CD_RENDER_H
#define CD_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec.h"

/* PLUGNET disk. */
char *cd_render_conf(const cd_spec_t *sp, const char *key, bool has_agent); /* plugnet.conf */
char *cd_render_hosts(const cd_spec_t *sp);                                 /* hosts */
char *cd_render_keys(const cd_spec_t *sp);                                  /* authorized_keys */
const char *cd_config_script(void);                                         /* config (config.sh) */

/* cloud-init NoCloud seed.  agent may be NULL. */
char *cd_render_meta_data(const cd_spec_t *sp, const char *key);
char *cd_render_user_data(const cd_spec_t *sp, const uint8_t *agent, size_t agent_len);
char *cd_render_network_config(const cd_spec_t *sp);

#endif
