/* The vhost-user protocol (QEMU docs/interop/vhost-user.rst), back-end side. */
#ifndef VHOST_USER_H
#define VHOST_USER_H

#include <stdbool.h>

/* Listens on path (created under a temporary name and renamed, so the
 * socket exists only once it accepts connections). */
int vu_listen(const char *path);
/* Set once QEMU's connection has closed: the process should end;
 * vu_exit_status says with which status. */
extern bool vu_done;
extern int vu_exit_status;
void vu_cleanup(void);

#endif
