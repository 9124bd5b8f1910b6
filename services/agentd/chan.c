/* The channel codec, shared with the guest agent (built into libpnagentd). */
#include "guest/ag_chan.c"
