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

#endif
