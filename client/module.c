/*
 * The module: its function list, C_Initialize/C_Finalize/C_GetInfo/C_GetFunctionList, and the
 * module's global state: the servers of its config (one cli_rpc each) and the session table.
 *
 * Threads: g_lock guards the state below and is never held while talking to a server; a call
 * counts itself busy instead, and C_Finalize waits for the busy calls to end.
 * Fork: the state belongs to the process that called C_Initialize. A forked child sees the
 * module as not initialised until it calls C_Initialize itself, which forgets the parent's
 * connections without a word on them (the parent keeps using them).
 * Messages: only with TEEHSM_DEBUG set, except the reason C_Initialize fails (a config error),
 * which is always printed: without it nobody could tell why the module does not start.
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
#include "cli_sessions.h"
#include "cli_tls.h"
#include "cli_unix.h"
#include "transport.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_idle = PTHREAD_COND_INITIALIZER;
static struct cli_rpc **g_srv; /* one per server; set from C_Initialize to C_Finalize */
static size_t g_nsrv;
static struct cli_sessions g_sessions;
static pid_t g_pid;		   /* the process that called C_Initialize */
static unsigned long g_busy;	   /* calls using g_srv now */
static int g_finalizing;	   /* C_Finalize is waiting for the busy calls */
static struct cli_rpc **g_orphans; /* parent connections a child could not free */
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
	return g_srv && !g_finalizing && g_pid == getpid();
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

CK_RV cli_begin(struct cli_rpc *const **srv, size_t *n)
{
	CK_RV rv = CKR_CRYPTOKI_NOT_INITIALIZED;

	*srv = NULL;
	*n = 0;
	pthread_mutex_lock(&g_lock);
	if (initialized_here()) {
		*srv = g_srv;
		*n = g_nsrv;
		g_busy++;
		rv = CKR_OK;
	}
	pthread_mutex_unlock(&g_lock);
	return rv;
}

void cli_end(void)
{
	pthread_mutex_lock(&g_lock);
	if (--g_busy == 0)
		pthread_cond_broadcast(&g_idle);
	pthread_mutex_unlock(&g_lock);
}

CK_RV cli_session_get(CK_SESSION_HANDLE h, struct cli_session *out)
{
	const struct cli_session *s = NULL;
	CK_RV rv = CKR_SESSION_HANDLE_INVALID;

	pthread_mutex_lock(&g_lock);
	s = cli_sessions_find(&g_sessions, h);
	if (s) {
		*out = *s;
		rv = CKR_OK;
	}
	pthread_mutex_unlock(&g_lock);
	return rv;
}

CK_RV cli_session_add(const struct cli_session *s, CK_SESSION_HANDLE *out)
{
	CK_RV rv = CKR_OK;

	pthread_mutex_lock(&g_lock);
	if (cli_sessions_add(&g_sessions, s, out))
		rv = g_sessions.n >= CLI_MAX_SESSIONS ? CKR_SESSION_COUNT : CKR_HOST_MEMORY;
	pthread_mutex_unlock(&g_lock);
	return rv;
}

void cli_session_forget(CK_SESSION_HANDLE h)
{
	pthread_mutex_lock(&g_lock);
	cli_sessions_remove(&g_sessions, h);
	pthread_mutex_unlock(&g_lock);
}

void cli_session_forget_slot(CK_SLOT_ID slot)
{
	pthread_mutex_lock(&g_lock);
	cli_sessions_remove_slot(&g_sessions, slot);
	pthread_mutex_unlock(&g_lock);
}

static void free_servers(struct cli_rpc **srv, size_t n)
{
	for (size_t i = 0; srv && i < n; i++)
		cli_rpc_free(srv[i]);
	free(srv);
}

/* In a forked child: forget the parent's servers. One a parent thread was using at the fork
 * may be half-written; it is kept (reachable) rather than freed, and its fd stays open here
 * until exit or exec (it is close-on-exec). */
static void forget_parent_servers(void)
{
	size_t kept = 0;

	for (size_t i = 0; i < g_nsrv; i++)
		if (cli_rpc_free_in_child(g_srv[i]))
			g_srv[kept++] = g_srv[i];
	if (kept) {
		g_srv[kept] = NULL; /* g_srv has room for g_nsrv + 1 */
		g_orphans = g_srv;
	} else {
		free(g_srv);
	}
	g_srv = NULL;
	g_nsrv = 0;
	cli_sessions_clear(&g_sessions);
}

/* The transports of the servers TEEHSM_CONF names: CKR_OK with t[0..*n) set (each owned by the
 * caller), or CKR_GENERAL_ERROR with the reason on stderr (CKR_HOST_MEMORY). t has room for
 * CLI_MAX_SERVERS. */
static CK_RV transports_from_conf(struct cli_transport **t, size_t *n)
{
	struct cli_conf *conf = NULL;
	SSL_CTX *ctx = NULL;
	const char *path = getenv("TEEHSM_CONF");
	size_t n_tls = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	*n = 0;
	if (!path || !*path) {
		log_error("TEEHSM_CONF is not set: point it at a client config (see "
			  "deploy/client.conf.example)");
		goto out;
	}
	if (cli_conf_load(path, &conf))
		goto out;
	/* The TLS context (and the files it loads) only when some server is reached over TLS. */
	for (size_t i = 0; i < conf->n_servers; i++)
		n_tls += conf->servers[i].unix_path == NULL;
	if (n_tls) {
		rv = cli_tls_ctx_new(conf, &ctx);
		if (rv != CKR_OK)
			goto out;
	}
	for (*n = 0; *n < conf->n_servers; (*n)++) {
		if (conf->servers[*n].unix_path)
			rv = cli_unix_transport_new(conf, *n, &t[*n]);
		else
			rv = cli_tls_transport_new(conf, *n, ctx, &t[*n]);
		if (rv != CKR_OK)
			goto out;
	}
	rv = CKR_OK;
out:
	if (rv != CKR_OK) {
		for (size_t i = 0; i < *n; i++)
			t[i]->ops->free(t[i]);
		*n = 0;
	}
	SSL_CTX_free(ctx);
	cli_conf_free(conf);
	return rv;
}

/* C_Initialize proper, with g_lock held: on the n (1..CLI_MAX_SERVERS) transports given (owned),
 * or on the TLS transports of TEEHSM_CONF when given is NULL. */
static CK_RV initialize_locked(struct cli_transport *const *given, size_t n)
{
	struct cli_transport *t[CLI_MAX_SERVERS] = { NULL };
	struct cli_rpc **srv = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	for (size_t i = 0; given && i < n; i++)
		t[i] = given[i];
	if (initialized_here()) {
		rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
		goto out;
	}
	if (g_srv)
		forget_parent_servers(); /* a forked child: the connections are the parent's */
	if (!given) {
		rv = transports_from_conf(t, &n);
		if (rv != CKR_OK)
			goto out;
	}
	rv = CKR_HOST_MEMORY;
	srv = calloc(n + 1, sizeof(*srv));
	if (!srv)
		goto out;
	for (size_t i = 0; i < n; i++) {
		srv[i] = cli_rpc_new(t[i]);
		t[i] = NULL; /* the rpc owns it, or freed it */
		if (!srv[i])
			goto out;
	}
	g_srv = srv;
	srv = NULL; /* the module owns it now */
	g_nsrv = n;
	g_pid = getpid();
	g_busy = 0;
	g_finalizing = 0;
	rv = CKR_OK;
out:
	free_servers(srv, n);
	for (size_t i = 0; i < CLI_MAX_SERVERS; i++)
		if (t[i])
			t[i]->ops->free(t[i]);
	return rv;
}

static CK_RV initialize(struct cli_transport *const *t, size_t n)
{
	int debug = getenv("TEEHSM_DEBUG") != NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	pthread_once(&g_atfork_once, register_atfork);
	/* Why C_Initialize fails is always said; the rest only when asked for. */
	log_set_level(debug ? LOG_LVL_DEBUG : LOG_LVL_ERROR);
	pthread_mutex_lock(&g_lock);
	rv = initialize_locked(t, n);
	pthread_mutex_unlock(&g_lock);
	if (!debug)
		log_set_level(LOG_LVL_NONE);
	return rv;
}

CK_RV cli_initialize_with_transports(struct cli_transport *const *t, size_t n)
{
	if (!t)
		return CKR_ARGUMENTS_BAD;
	if (n == 0 || n > CLI_MAX_SERVERS) {
		for (size_t i = 0; i < n; i++)
			t[i]->ops->free(t[i]);
		return CKR_ARGUMENTS_BAD;
	}
	return initialize(t, n);
}

CK_RV cli_initialize_with_transport(struct cli_transport *t)
{
	if (!t)
		return CKR_ARGUMENTS_BAD;
	return initialize(&t, 1);
}

/* ---- §5.4 general-purpose functions ---- */

/* §5.4 C_Initialize: NULL arguments, or CK_C_INITIALIZE_ARGS with no reserved pointer and all
 * four mutex callbacks or none. The module locks with pthreads, and it needs condition
 * variables (threads wait for each other's answers), which the callbacks cannot give: with
 * callbacks and without CKF_OS_LOCKING_OK (the application requires its own locks) the answer
 * is CKR_CANT_LOCK, as the specification provides. The module starts no threads, so
 * CKF_LIBRARY_CANT_CREATE_OS_THREADS costs nothing. */
CK_RV cli_C_Initialize(CK_VOID_PTR pInitArgs)
{
	const CK_C_INITIALIZE_ARGS *a = pInitArgs;

	if (a) {
		int n = !!a->CreateMutex + !!a->DestroyMutex + !!a->LockMutex + !!a->UnlockMutex;

		if (a->pReserved || (n != 0 && n != 4))
			return CKR_ARGUMENTS_BAD;
		if (n == 4 && !(a->flags & CKF_OS_LOCKING_OK))
			return CKR_CANT_LOCK;
	}
	return initialize(NULL, 0);
}

CK_RV cli_C_Finalize(CK_VOID_PTR pReserved)
{
	struct cli_rpc **srv = NULL;
	size_t n = 0;

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
	srv = g_srv;
	n = g_nsrv;
	g_srv = NULL;
	g_nsrv = 0;
	cli_sessions_clear(&g_sessions);
	g_finalizing = 0;
	pthread_mutex_unlock(&g_lock);
	/* Closing the connections is the whole goodbye: the servers end our sessions and login. */
	free_servers(srv, n);
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
