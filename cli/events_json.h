/* The containerlab events shape for `plugnet events --json` (events_json.c). */
#ifndef PN_CLI_EVENTS_JSON_H
#define PN_CLI_EVENTS_JSON_H

#include <stdio.h>

#include "pn_proto.h"

/* Write one event as one line of JSON:
 * {timestamp, type, action, actor: {id, attributes}, attributes}. */
void cli_event_clab_json(const pn_msg_t *ev, const char *topic, FILE *f);

#endif
