/*
 * PKCS#11 definitions p11-kit's header lacks, shared by every layer that speaks PKCS#11 types
 * (the codec carries them, the token core reads them). Header-only: include after
 * <p11-kit/pkcs11.h>.
 */
#ifndef TEEHSM_COMMON_PKCS11_EXT_H
#define TEEHSM_COMMON_PKCS11_EXT_H

#include <p11-kit/pkcs11.h>

#ifndef CKM_EDDSA
#define CKM_EDDSA 0x1057UL
#endif

/* CK_EDDSA_PARAMS, the parameter of CKM_EDDSA (PKCS#11 3.0 Current Mechanisms §2.3.14):
 * phFlag selects Ed25519ph, pContextData the context (Ed25519ctx/ph). A NULL pParameter means
 * plain Ed25519. */
typedef struct CK_EDDSA_PARAMS {
	CK_BBOOL phFlag;
	CK_ULONG ulContextDataLen;
	CK_BYTE_PTR pContextData;
} CK_EDDSA_PARAMS;
typedef CK_EDDSA_PARAMS *CK_EDDSA_PARAMS_PTR;

/* PKCS#11 3.0 interfaces (PKCS#11 3.0 Base §3.6, §5.4): the types of C_GetInterfaceList and
 * C_GetInterface, which libteehsm.so exports to offer its v2.40 function list. A header that
 * already has them (OASIS 3.0, p11-kit 0.25) defines CKF_INTERFACE_FORK_SAFE along with them. */
#ifndef CKF_INTERFACE_FORK_SAFE
#define CKF_INTERFACE_FORK_SAFE 0x00000001UL

typedef struct CK_INTERFACE {
	CK_CHAR *pInterfaceName;
	CK_VOID_PTR pFunctionList;
	CK_FLAGS flags;
} CK_INTERFACE;
typedef CK_INTERFACE *CK_INTERFACE_PTR;
typedef CK_INTERFACE_PTR *CK_INTERFACE_PTR_PTR;

CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount);
CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
		     CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags);
#endif

#endif
