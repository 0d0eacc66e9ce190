/* AF_VSOCK addresses. musl's headers have AF_VSOCK but not
 * linux/vm_sockets.h, so this is struct sockaddr_vm as Linux defines it. */
#pragma once
#include <sys/socket.h>
#if defined(__has_include) && __has_include(<linux/vm_sockets.h>)
#include <linux/vm_sockets.h>
#else
#include <stdint.h>
#define VMADDR_CID_ANY ((unsigned)-1)
#define VMADDR_PORT_ANY ((unsigned)-1)
#define VMADDR_CID_HOST 2
struct sockaddr_vm {
	sa_family_t svm_family;
	unsigned short svm_reserved1;
	unsigned int svm_port;
	unsigned int svm_cid;
	unsigned char svm_flags;
	unsigned char svm_zero[sizeof(struct sockaddr) - sizeof(sa_family_t) - sizeof(unsigned short) -
			       2 * sizeof(unsigned int) - 1];
};
#endif
