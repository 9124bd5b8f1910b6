/* vm_ctl: qemu QMP and UML mconsole, one command at a time. */
#ifndef VM_CTL_H
#define VM_CTL_H

#include <stddef.h>

/* Send one QMP command (a JSON object) after the capabilities handshake;
 * 0 when qemu answered "return", else -errno with err set. */
int vm_qmp(const char *path, const char *cmd_json, char *err, size_t errlen, int timeout_ms);
/* Send one mconsole command ("halt", "config eth1=...", "remove eth1");
 * 0 or -errno; reply holds the guest's answer or the error. */
int vm_mconsole(const char *path, const char *cmd, char *reply, size_t replylen, int timeout_ms);

#endif
