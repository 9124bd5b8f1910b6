/* The cp stream, shared with the guest agent (built into libpnagentd). */
#include "guest/ag_tree.c"
