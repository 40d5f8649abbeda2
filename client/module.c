/*
 * The module: its function list, C_Initialize/C_Finalize/C_GetInfo/C_GetFunctionList, and the
 * one piece of global state, the connection of this process to teehsmd.
 *
 * Threads: g_lock guards the state below and is never held while talking to the server; a
 * call counts itself busy instead, and C_Finalize waits for the busy calls to end.
 * Fork: the state belongs to the process that called C_Initialize. A forked child sees the
 * module as not initialised until it calls C_Initialize itself, which forgets the parent's
 * connection without a word on it (the parent keeps using it).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/pkcs11_ext.h"
#include "cli_calls.h"
#include "cli_conf.h"
#include "cli_rpc.h"
#include "cli_tls.h"
#include "transport.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_idle = PTHREAD_COND_INITIALIZER;
static struct cli_rpc *g_rpc;	 /* set from C_Initialize to C_Finalize */
static pid_t g_pid;		 /* the process that called C_Initialize */
static unsigned long g_busy;	 /* calls using g_rpc now */
static int g_finalizing;	 /* C_Finalize is waiting for the busy calls */
static struct cli_rpc *g_orphan; /* a parent's connection a child could not free */
static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

/* ---- fork ---- */

/* g_lock is only held briefly, so fork waits for it: the child then starts with consistent
 * state and an unlocked g_lock. */
static void atfork_prepare(void)
{
	pthread_mutex_lock(&g_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&g_lock);
}

static void atfork_child(void)
{
	/* The threads that were busy in the parent do not exist here. */
	g_busy = 0;
	g_finalizing = 0;
	pthread_cond_init(&g_idle, NULL);
	pthread_mutex_unlock(&g_lock);
}

static void register_atfork(void)
{
	if (pthread_atfork(atfork_prepare, atfork_parent, atfork_child))
		log_error("pthread_atfork failed: fork safety is degraded");
}

static int initialized_here(void)
{
	return g_rpc && !g_finalizing && g_pid == getpid();
}

/* ---- state ---- */

CK_RV cli_check_initialized(void)
{
	CK_RV rv = CKR_CRYPTOKI_NOT_INITIALIZED;

	pthread_mutex_lock(&g_lock);
	if (initialized_here())
		rv = CKR_OK;
	pthread_mutex_unlock(&g_lock);
	return rv;
}

CK_RV cli_call(Teehsm__Request *q, Teehsm__Response__ResultCase want, Teehsm__Response **resp)
{
	struct cli_rpc *rpc = NULL;
	CK_RV rv = CKR_CRYPTOKI_NOT_INITIALIZED;

	*resp = NULL;
	pthread_mutex_lock(&g_lock);
	if (initialized_here()) {
		rpc = g_rpc;
		g_busy++;
	}
	pthread_mutex_unlock(&g_lock);
	if (!rpc)
		return rv;
	rv = cli_rpc_call(rpc, q, want, resp);
	pthread_mutex_lock(&g_lock);
	if (--g_busy == 0)
		pthread_cond_broadcast(&g_idle);
	pthread_mutex_unlock(&g_lock);
	return rv;
}

/* C_Initialize proper, with g_lock held: on transport t (owned), or on the TLS transport the
 * file named by TEEHSM_CONF describes when t is NULL. */
static CK_RV initialize_locked(struct cli_transport *t)
{
	struct cli_conf *conf = NULL;
	struct cli_rpc *rpc = NULL;
	const char *path = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (initialized_here()) {
		rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
		goto out;
	}
	if (g_rpc) {
		/* A forked child: the connection is the parent's. */
		if (cli_rpc_free_in_child(g_rpc))
			/* XXX: a parent thread was mid-call at fork; its state may be half-written,
			 * so it is kept (reachable) rather than freed, and its fd stays open here
			 * until exit or exec (it is close-on-exec). */
			g_orphan = g_rpc;
		g_rpc = NULL;
	}
	if (!t) {
		path = getenv("TEEHSM_CONF");
		if (!path || !*path) {
			log_error("TEEHSM_CONF is not set: point it at a client config (see "
				  "deploy/client.conf.example)");
			goto out;
		}
		if (cli_conf_load(path, &conf))
			goto out;
		rv = cli_tls_transport_new(conf, &t);
		conf = NULL; /* the transport owns it, or freed it */
		if (rv != CKR_OK)
			goto out;
	}
	rpc = cli_rpc_new(t);
	t = NULL; /* rpc owns it, or freed it */
	if (!rpc) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	g_rpc = rpc;
	g_pid = getpid();
	g_busy = 0;
	g_finalizing = 0;
	rv = CKR_OK;
out:
	if (t)
		t->ops->free(t);
	return rv;
}

static CK_RV initialize(struct cli_transport *t)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	pthread_once(&g_atfork_once, register_atfork);
	if (getenv("TEEHSM_DEBUG"))
		log_set_level(LOG_LVL_DEBUG);
	pthread_mutex_lock(&g_lock);
	rv = initialize_locked(t);
	pthread_mutex_unlock(&g_lock);
	return rv;
}

CK_RV cli_initialize_with_transport(struct cli_transport *t)
{
	if (!t)
		return CKR_ARGUMENTS_BAD;
	return initialize(t);
}

/* ---- §5.4 general-purpose functions ---- */

CK_RV cli_C_Initialize(CK_VOID_PTR pInitArgs)
{
	const CK_C_INITIALIZE_ARGS *a = pInitArgs;

	if (a) {
		int n = !!a->CreateMutex + !!a->DestroyMutex + !!a->LockMutex + !!a->UnlockMutex;

		if (a->pReserved || (n != 0 && n != 4))
			return CKR_ARGUMENTS_BAD;
		/* With CKF_OS_LOCKING_OK or without callbacks, the spec lets us lock with the OS
		 * primitives. XXX: with callbacks and no CKF_OS_LOCKING_OK it says we should use
		 * the application's; we use pthreads all the same (we start no threads and every
		 * PKCS#11 host we know runs on pthreads). */
	}
	return initialize(NULL);
}

CK_RV cli_C_Finalize(CK_VOID_PTR pReserved)
{
	struct cli_rpc *rpc = NULL;

	pthread_mutex_lock(&g_lock);
	if (!initialized_here()) {
		pthread_mutex_unlock(&g_lock);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	if (pReserved) {
		pthread_mutex_unlock(&g_lock);
		return CKR_ARGUMENTS_BAD;
	}
	/* New calls now see an uninitialised module; calls under way run to their end. */
	g_finalizing = 1;
	while (g_busy)
		pthread_cond_wait(&g_idle, &g_lock);
	rpc = g_rpc;
	g_rpc = NULL;
	g_finalizing = 0;
	pthread_mutex_unlock(&g_lock);
	/* Closing the connection is the whole goodbye: the server ends our sessions and login. */
	cli_rpc_free(rpc);
	return CKR_OK;
}

static void pad(CK_UTF8CHAR *dst, size_t n, const char *s)
{
	size_t len = strlen(s);

	memset(dst, ' ', n);
	memcpy(dst, s, len < n ? len : n);
}

CK_RV cli_C_GetInfo(CK_INFO_PTR pInfo)
{
	CK_RV rv = cli_check_initialized();
	unsigned major = 0, minor = 0;

	if (rv != CKR_OK)
		return rv;
	if (!pInfo)
		return CKR_ARGUMENTS_BAD;
	memset(pInfo, 0, sizeof(*pInfo));
	pInfo->cryptokiVersion.major = CRYPTOKI_VERSION_MAJOR;
	pInfo->cryptokiVersion.minor = CRYPTOKI_VERSION_MINOR;
	pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), "teehsm");
	pInfo->flags = 0;
	pad(pInfo->libraryDescription, sizeof(pInfo->libraryDescription),
	    "teehsm remote HSM module");
	if (sscanf(TEEHSM_VERSION, "%u.%u", &major, &minor) == 2 && major < 256 && minor < 256) {
		pInfo->libraryVersion.major = (CK_BYTE)major;
		pInfo->libraryVersion.minor = (CK_BYTE)minor;
	}
	return CKR_OK;
}

/* ---- the function list ---- */

static CK_FUNCTION_LIST cli_function_list = {
	.version = { CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR },
	.C_Initialize = cli_C_Initialize,
	.C_Finalize = cli_C_Finalize,
	.C_GetInfo = cli_C_GetInfo,
	.C_GetFunctionList = C_GetFunctionList,
	.C_GetSlotList = cli_C_GetSlotList,
	.C_GetSlotInfo = cli_C_GetSlotInfo,
	.C_GetTokenInfo = cli_C_GetTokenInfo,
	.C_GetMechanismList = cli_C_GetMechanismList,
	.C_GetMechanismInfo = cli_C_GetMechanismInfo,
	.C_InitToken = cli_C_InitToken,
	.C_InitPIN = cli_C_InitPIN,
	.C_SetPIN = cli_C_SetPIN,
	.C_OpenSession = cli_C_OpenSession,
	.C_CloseSession = cli_C_CloseSession,
	.C_CloseAllSessions = cli_C_CloseAllSessions,
	.C_GetSessionInfo = cli_C_GetSessionInfo,
	.C_GetOperationState = cli_C_GetOperationState,
	.C_SetOperationState = cli_C_SetOperationState,
	.C_Login = cli_C_Login,
	.C_Logout = cli_C_Logout,
	.C_CreateObject = cli_C_CreateObject,
	.C_CopyObject = cli_C_CopyObject,
	.C_DestroyObject = cli_C_DestroyObject,
	.C_GetObjectSize = cli_C_GetObjectSize,
	.C_GetAttributeValue = cli_C_GetAttributeValue,
	.C_SetAttributeValue = cli_C_SetAttributeValue,
	.C_FindObjectsInit = cli_C_FindObjectsInit,
	.C_FindObjects = cli_C_FindObjects,
	.C_FindObjectsFinal = cli_C_FindObjectsFinal,
	.C_EncryptInit = cli_C_EncryptInit,
	.C_Encrypt = cli_C_Encrypt,
	.C_EncryptUpdate = cli_C_EncryptUpdate,
	.C_EncryptFinal = cli_C_EncryptFinal,
	.C_DecryptInit = cli_C_DecryptInit,
	.C_Decrypt = cli_C_Decrypt,
	.C_DecryptUpdate = cli_C_DecryptUpdate,
	.C_DecryptFinal = cli_C_DecryptFinal,
	.C_DigestInit = cli_C_DigestInit,
	.C_Digest = cli_C_Digest,
	.C_DigestUpdate = cli_C_DigestUpdate,
	.C_DigestKey = cli_C_DigestKey,
	.C_DigestFinal = cli_C_DigestFinal,
	.C_SignInit = cli_C_SignInit,
	.C_Sign = cli_C_Sign,
	.C_SignUpdate = cli_C_SignUpdate,
	.C_SignFinal = cli_C_SignFinal,
	.C_SignRecoverInit = cli_C_SignRecoverInit,
	.C_SignRecover = cli_C_SignRecover,
	.C_VerifyInit = cli_C_VerifyInit,
	.C_Verify = cli_C_Verify,
	.C_VerifyUpdate = cli_C_VerifyUpdate,
	.C_VerifyFinal = cli_C_VerifyFinal,
	.C_VerifyRecoverInit = cli_C_VerifyRecoverInit,
	.C_VerifyRecover = cli_C_VerifyRecover,
	.C_DigestEncryptUpdate = cli_C_DigestEncryptUpdate,
	.C_DecryptDigestUpdate = cli_C_DecryptDigestUpdate,
	.C_SignEncryptUpdate = cli_C_SignEncryptUpdate,
	.C_DecryptVerifyUpdate = cli_C_DecryptVerifyUpdate,
	.C_GenerateKey = cli_C_GenerateKey,
	.C_GenerateKeyPair = cli_C_GenerateKeyPair,
	.C_WrapKey = cli_C_WrapKey,
	.C_UnwrapKey = cli_C_UnwrapKey,
	.C_DeriveKey = cli_C_DeriveKey,
	.C_SeedRandom = cli_C_SeedRandom,
	.C_GenerateRandom = cli_C_GenerateRandom,
	.C_GetFunctionStatus = cli_C_GetFunctionStatus,
	.C_CancelFunction = cli_C_CancelFunction,
	.C_WaitForSlotEvent = cli_C_WaitForSlotEvent,
};

/* The module's entry points, its only exported symbols (libteehsm.map). All three work before
 * C_Initialize. */
CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
	if (!ppFunctionList)
		return CKR_ARGUMENTS_BAD;
	*ppFunctionList = &cli_function_list;
	return CKR_OK;
}

/* ---- PKCS#11 3.0 interfaces (3.0 Base §5.4) ---- */

/* One interface, the v2.40 list under the standard name. It is not CKF_INTERFACE_FORK_SAFE: a
 * forked child must call C_Initialize again and shares nothing with its parent. */
static CK_CHAR cli_interface_name[] = "PKCS 11";
static CK_INTERFACE cli_interface = {
	.pInterfaceName = cli_interface_name,
	.pFunctionList = &cli_function_list,
	.flags = 0,
};

CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount)
{
	if (!pulCount)
		return CKR_ARGUMENTS_BAD;
	if (!pInterfacesList) {
		*pulCount = 1;
		return CKR_OK;
	}
	if (*pulCount < 1) {
		*pulCount = 1;
		return CKR_BUFFER_TOO_SMALL;
	}
	pInterfacesList[0] = cli_interface;
	*pulCount = 1;
	return CKR_OK;
}

/* NULL name and version mean "the default", which is our one interface. The spec gives
 * CKR_ARGUMENTS_BAD when nothing matches, including flags we cannot honour (any flag). */
CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
		     CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags)
{
	if (!ppInterface)
		return CKR_ARGUMENTS_BAD;
	*ppInterface = NULL;
	if (pInterfaceName &&
	    strcmp((const char *)pInterfaceName, (const char *)cli_interface_name))
		return CKR_ARGUMENTS_BAD;
	if (pVersion && (pVersion->major != cli_function_list.version.major ||
			 pVersion->minor != cli_function_list.version.minor))
		return CKR_ARGUMENTS_BAD;
	if (flags & ~cli_interface.flags)
		return CKR_ARGUMENTS_BAD;
	*ppInterface = &cli_interface;
	return CKR_OK;
}
