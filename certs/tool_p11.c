/*
 * The PKCS#11 side of the teehsm command: loading the module, choosing the token, sessions and
 * logins, finding objects and reading attributes, and CK_RV names in words (tool.h).
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "tool.h"

#ifndef TEEHSM_INSTALL_MODULE
#define TEEHSM_INSTALL_MODULE "/usr/local/lib/teehsm/libteehsm.so"
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The CK_RVs an operator meets, with what they mean for this command. */
static const struct {
	CK_RV rv;
	const char *name;
	const char *why;
} rv_table[] = {
	{ CKR_OK, "CKR_OK", NULL },
	{ CKR_CANCEL, "CKR_CANCEL", "the operation was cancelled" },
	{ CKR_HOST_MEMORY, "CKR_HOST_MEMORY", "out of memory" },
	{ CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID", "no such slot (see teehsm info)" },
	{ CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR",
	  "the module or token failed; TEEHSM_DEBUG=1 may say why" },
	{ CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED", "the token could not do it" },
	{ CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD", "the module rejected the arguments" },
	{ CKR_CANT_LOCK, "CKR_CANT_LOCK", "the module cannot do the locking asked for" },
	{ CKR_ATTRIBUTE_READ_ONLY, "CKR_ATTRIBUTE_READ_ONLY",
	  "an attribute may not be set (CKA_TRUSTED needs the SO)" },
	{ CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE", "the attribute is secret" },
	{ CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID",
	  "the token does not know an attribute of the request" },
	{ CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID",
	  "the token refused an attribute value" },
	{ CKR_ACTION_PROHIBITED, "CKR_ACTION_PROHIBITED",
	  "the token's policy does not allow this identity to do that" },
	{ CKR_DATA_INVALID, "CKR_DATA_INVALID", "the token refused the data" },
	{ CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE",
	  "the data is too long or too short for the key" },
	{ CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR",
	  "cannot reach the token: is the server running? (TEEHSM_CONF, TEEHSM_DEBUG=1 shows "
	  "why)" },
	{ CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY", "the token is out of memory or space" },
	{ CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED",
	  "the connection to the token was lost (server restarted or network down); try again" },
	{ CKR_FUNCTION_CANCELED, "CKR_FUNCTION_CANCELED", "the operation was cancelled" },
	{ CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED",
	  "the module does not implement this function" },
	{ CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID", "the key is gone" },
	{ CKR_KEY_SIZE_RANGE, "CKR_KEY_SIZE_RANGE", "the token does not support this key size" },
	{ CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT",
	  "the mechanism does not fit this key's type" },
	{ CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED",
	  "the key's attributes do not allow this use (CKA_SIGN false?)" },
	{ CKR_KEY_UNEXTRACTABLE, "CKR_KEY_UNEXTRACTABLE", "the key cannot leave the token" },
	{ CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID",
	  "the token does not support this mechanism" },
	{ CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID",
	  "the token refused the mechanism's parameters" },
	{ CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID",
	  "the object is gone (removed by someone else?)" },
	{ CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE",
	  "another operation is active in the session" },
	{ CKR_OPERATION_NOT_INITIALIZED, "CKR_OPERATION_NOT_INITIALIZED",
	  "no operation is active" },
	{ CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT",
	  "wrong PIN (repeated failures lock the PIN; check --pin-file or TEEHSM_PIN)" },
	{ CKR_PIN_INVALID, "CKR_PIN_INVALID", "the PIN has characters the token does not accept" },
	{ CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE",
	  "the PIN is too long or too short for the token" },
	{ CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED", "the PIN has expired and must be changed" },
	{ CKR_PIN_LOCKED, "CKR_PIN_LOCKED",
	  "the PIN is locked after too many failures; the SO must reset it" },
	{ CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED", "the session was closed" },
	{ CKR_SESSION_COUNT, "CKR_SESSION_COUNT", "the token has too many open sessions" },
	{ CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID",
	  "the session is gone (connection lost?); try again" },
	{ CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY", "the session is read-only" },
	{ CKR_SESSION_EXISTS, "CKR_SESSION_EXISTS", "a session is open" },
	{ CKR_SESSION_READ_ONLY_EXISTS, "CKR_SESSION_READ_ONLY_EXISTS",
	  "the SO cannot log in while a read-only session is open" },
	{ CKR_SESSION_READ_WRITE_SO_EXISTS, "CKR_SESSION_READ_WRITE_SO_EXISTS",
	  "an SO session is open" },
	{ CKR_SIGNATURE_INVALID, "CKR_SIGNATURE_INVALID", "the signature does not verify" },
	{ CKR_SIGNATURE_LEN_RANGE, "CKR_SIGNATURE_LEN_RANGE",
	  "the signature has the wrong length" },
	{ CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE",
	  "the token wants an attribute the request lacks" },
	{ CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT",
	  "the token refused the combination of attributes" },
	{ CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT", "there is no token in the slot" },
	{ CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED",
	  "the module does not know the token" },
	{ CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED", "the token is write-protected" },
	{ CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN", "already logged in" },
	{ CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN", "this needs a login (a PIN)" },
	{ CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED",
	  "the token has no user PIN yet (initialise the token)" },
	{ CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID",
	  "the token does not know this user type" },
	{ CKR_USER_ANOTHER_ALREADY_LOGGED_IN, "CKR_USER_ANOTHER_ALREADY_LOGGED_IN",
	  "another user (SO or user) is logged in to the token" },
	{ CKR_USER_TOO_MANY_TYPES, "CKR_USER_TOO_MANY_TYPES", "too many users logged in" },
	{ CKR_RANDOM_NO_RNG, "CKR_RANDOM_NO_RNG", "the token has no random number generator" },
	{ CKR_DOMAIN_PARAMS_INVALID, "CKR_DOMAIN_PARAMS_INVALID",
	  "the token refused the key parameters" },
	{ CKR_CURVE_NOT_SUPPORTED, "CKR_CURVE_NOT_SUPPORTED",
	  "the token does not support this curve" },
	{ CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL", "the result did not fit" },
	{ CKR_INFORMATION_SENSITIVE, "CKR_INFORMATION_SENSITIVE", "the information is secret" },
	{ CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED",
	  "the module is not initialised" },
	{ CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED",
	  "the module was initialised already" },
	{ CKR_PIN_TOO_WEAK, "CKR_PIN_TOO_WEAK", "the PIN is too weak" },
	{ CKR_PUBLIC_KEY_INVALID, "CKR_PUBLIC_KEY_INVALID", "the token refused the public key" },
	{ CKR_FUNCTION_REJECTED, "CKR_FUNCTION_REJECTED", "the token rejected the request" },
};

const char *tool_rv_name(CK_RV rv)
{
	for (size_t i = 0; i < ARRAY_SIZE(rv_table); i++)
		if (rv_table[i].rv == rv)
			return rv_table[i].name;
	return NULL;
}

const char *tool_rv_explain(CK_RV rv)
{
	for (size_t i = 0; i < ARRAY_SIZE(rv_table); i++)
		if (rv_table[i].rv == rv)
			return rv_table[i].why;
	return NULL;
}

void tool_p11_err(const struct tool *t, const char *fn, CK_RV rv)
{
	const char *name = tool_rv_name(rv);
	const char *why = tool_rv_explain(rv);

	if (rv >= CKR_VENDOR_DEFINED && !name)
		name = "CKR_VENDOR_DEFINED+";
	tool_err(t, "%s failed: %s (0x%08lx)%s%s", fn, name ? name : "unknown error",
		 (unsigned long)rv, why ? ": " : "", why ? why : "");
}

const char *tool_default_module(const char *opt, char *out, size_t size)
{
	const char *env = getenv("TEEHSM_MODULE");
	char exe[PATH_MAX], cand[PATH_MAX + 32];
	ssize_t n = 0;
	char *slash = NULL;

	if (opt && *opt) {
		snprintf(out, size, "%s", opt);
		return out;
	}
	if (env && *env) {
		snprintf(out, size, "%s", env);
		return out;
	}
	/* Run from a build tree: build/certs/teehsm uses build/client/libteehsm.so. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(cand, sizeof(cand), "%s/../client/libteehsm.so", exe);
			if (access(cand, R_OK) == 0) {
				if (!realpath(cand, out))
					snprintf(out, size, "%s", cand);
				return out;
			}
		}
	}
	snprintf(out, size, "%s", TEEHSM_INSTALL_MODULE);
	return out;
}

/* The label of a token without its padding. */
static void token_label(const CK_TOKEN_INFO *ti, char out[33])
{
	size_t n = sizeof(ti->label);

	memcpy(out, ti->label, n);
	out[n] = '\0';
	while (n && (out[n - 1] == ' ' || out[n - 1] == '\0'))
		out[--n] = '\0';
}

static int load_module(struct tool *t)
{
	CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR) = NULL;
	CK_C_INITIALIZE_ARGS args;
	CK_RV rv = CKR_GENERAL_ERROR;
	const char *e = NULL;

	tool_default_module(t->o.module, t->module_path, sizeof(t->module_path));
	t->dl = dlopen(t->module_path, RTLD_NOW | RTLD_LOCAL);
	if (!t->dl) {
		e = dlerror();
		tool_err(t,
			 "cannot load the PKCS#11 module %s: %s (choose one with --module PATH "
			 "or TEEHSM_MODULE)",
			 t->module_path, e ? e : "unknown error");
		return TOOL_FAIL;
	}
	*(void **)&get_list = dlsym(t->dl, "C_GetFunctionList");
	if (!get_list) {
		tool_err(t, "%s is not a PKCS#11 module (no C_GetFunctionList)", t->module_path);
		return TOOL_FAIL;
	}
	rv = get_list(&t->f);
	if (rv != CKR_OK || !t->f) {
		tool_p11_err(t, "C_GetFunctionList", rv != CKR_OK ? rv : CKR_GENERAL_ERROR);
		return TOOL_FAIL;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = t->f->C_Initialize(&args);
	if (rv != CKR_OK) {
		tool_p11_err(t, "C_Initialize", rv);
		return TOOL_FAIL;
	}
	t->initialized = true;
	return TOOL_OK;
}

struct slot_tok {
	CK_SLOT_ID id;
	char label[33];
	CK_FLAGS flags;
};

/* "'a' (slot 1), 'b' (slot 2)" of the tokens in s. */
static void list_tokens(const struct slot_tok *s, size_t n, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s'%s' (slot %lu%s)", i ? ", " : "",
				      s[i].label, (unsigned long)s[i].id,
				      (s[i].flags & CKF_TOKEN_INITIALIZED) ? ""
									   : ", uninitialised");
}

/* Spec "--token LABEL / --slot ID": the only slot with an (initialised) token by default. */
static int choose_slot(struct tool *t)
{
	CK_SLOT_ID *ids = NULL;
	struct slot_tok *s = NULL;
	CK_ULONG n = 0, cap = 0;
	CK_TOKEN_INFO ti;
	char names[1024];
	size_t ns = 0, pick = 0, hits = 0;
	CK_RV rv = CKR_GENERAL_ERROR;
	int rc = TOOL_FAIL;

	rv = t->f->C_GetSlotList(CK_TRUE, NULL, &n);
	if (rv == CKR_OK && n > TOOL_MAX_OBJECTS) {
		tool_err(t, "the module reports %lu slots", (unsigned long)n);
		goto out;
	}
	if (rv == CKR_OK && n > 0) {
		cap = n;
		ids = calloc(n, sizeof(*ids));
		s = calloc(n, sizeof(*s));
		if (!ids || !s) {
			tool_err(t, "out of memory");
			goto out;
		}
		rv = t->f->C_GetSlotList(CK_TRUE, ids, &n);
		if (rv == CKR_OK && n > cap) {
			tool_err(t, "C_GetSlotList returned %lu slots for %lu places",
				 (unsigned long)n, (unsigned long)cap);
			goto out;
		}
	}
	if (rv != CKR_OK) {
		tool_p11_err(t, "C_GetSlotList", rv);
		goto out;
	}
	for (CK_ULONG i = 0; i < n; i++) {
		rv = t->f->C_GetTokenInfo(ids[i], &ti);
		if (rv != CKR_OK)
			continue; /* removed since, or unreadable: not a candidate */
		s[ns].id = ids[i];
		s[ns].flags = ti.flags;
		token_label(&ti, s[ns].label);
		ns++;
	}
	list_tokens(s, ns, names, sizeof(names));
	if (ns == 0) {
		tool_err(t, "no token present (module %s)", t->module_path);
		goto out;
	}
	if (t->o.has_slot || t->o.token) {
		for (size_t i = 0; i < ns; i++) {
			if (t->o.has_slot && s[i].id != t->o.slot)
				continue;
			if (t->o.token && strcmp(s[i].label, t->o.token) != 0)
				continue;
			pick = i;
			hits++;
		}
		if (hits == 0) {
			if (t->o.has_slot && t->o.token)
				tool_err(t, "slot %lu has no token labelled '%s' (tokens: %s)",
					 (unsigned long)t->o.slot, t->o.token, names);
			else if (t->o.has_slot)
				tool_err(t, "slot %lu has no token (tokens: %s)",
					 (unsigned long)t->o.slot, names);
			else
				tool_err(t, "no token labelled '%s' (tokens: %s)", t->o.token,
					 names);
			goto out;
		}
		if (hits > 1) {
			tool_err(t,
				 "several tokens are labelled '%s' (%s): choose one with --slot ID",
				 t->o.token, names);
			rc = TOOL_USAGE;
			goto out;
		}
	} else {
		/* SoftHSM always offers one more, uninitialised token: that is no choice. */
		for (size_t i = 0; i < ns; i++) {
			if (s[i].flags & CKF_TOKEN_INITIALIZED) {
				pick = i;
				hits++;
			}
		}
		if (hits == 0 && ns == 1)
			hits = 1;
		if (hits != 1) {
			tool_err(t, "%s (%s): choose one with --token LABEL or --slot ID",
				 hits ? "several tokens" : "no initialised token", names);
			rc = hits ? TOOL_USAGE : TOOL_FAIL;
			goto out;
		}
	}
	t->slot = s[pick].id;
	t->token_flags = s[pick].flags;
	memcpy(t->token_label, s[pick].label, sizeof(t->token_label));
	rc = TOOL_OK;
out:
	free(ids);
	free(s);
	return rc;
}

static int open_session(struct tool *t, bool rw)
{
	CK_FLAGS fl = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
	CK_RV rv = t->f->C_OpenSession(t->slot, fl, NULL, NULL, &t->sess);

	if (rv != CKR_OK) {
		t->sess = CK_INVALID_HANDLE;
		tool_p11_err(t, "C_OpenSession", rv);
		return TOOL_FAIL;
	}
	t->rw = rw;
	return TOOL_OK;
}

int tool_open(struct tool *t, bool rw)
{
	int rc = TOOL_FAIL;

	t->sess = CK_INVALID_HANDLE;
	rc = load_module(t);
	if (rc == TOOL_OK)
		rc = choose_slot(t);
	if (rc == TOOL_OK)
		rc = open_session(t, rw);
	return rc;
}

/* Refresh the token flags (PIN counters) before a login. */
static void refresh_flags(struct tool *t)
{
	CK_TOKEN_INFO ti;

	if (t->f->C_GetTokenInfo(t->slot, &ti) == CKR_OK)
		t->token_flags = ti.flags;
}

/* Log in as user type who with a PIN (or, on a protected authentication path with no PIN
 * given, without one). */
static int do_login(struct tool *t, CK_USER_TYPE who, const char *pin, size_t len)
{
	CK_RV rv = t->f->C_Login(t->sess, who, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)len);

	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
		return TOOL_OK;
	tool_p11_err(t, who == CKU_SO ? "C_Login (SO)" : "C_Login", rv);
	return TOOL_FAIL;
}

/* The flags that warn before a login: locked, last try, count low. */
static int check_pin_flags(struct tool *t, bool so)
{
	const CK_FLAGS locked = so ? CKF_SO_PIN_LOCKED : CKF_USER_PIN_LOCKED;
	const CK_FLAGS final = so ? CKF_SO_PIN_FINAL_TRY : CKF_USER_PIN_FINAL_TRY;
	const CK_FLAGS low = so ? CKF_SO_PIN_COUNT_LOW : CKF_USER_PIN_COUNT_LOW;
	const char *who = so ? "SO" : "user";

	refresh_flags(t);
	if (t->token_flags & locked) {
		tool_err(t, "the %s PIN of token '%s' is locked after too many failures%s", who,
			 t->token_label, so ? "" : "; the SO must reset it");
		return TOOL_FAIL;
	}
	if (t->token_flags & final)
		tool_warn(t, "the next wrong %s PIN locks token '%s'", who, t->token_label);
	else if (t->token_flags & low)
		tool_warn(t, "there were wrong %s PINs for token '%s' lately", who, t->token_label);
	return TOOL_OK;
}

static bool protected_path(const struct tool *t, const char *file, const char *env)
{
	const char *e = getenv(env);

	return (t->token_flags & CKF_PROTECTED_AUTHENTICATION_PATH) && !file && !(e && *e);
}

int tool_login_user(struct tool *t)
{
	char prompt[96];
	char err[TOOL_ERR_LEN];
	int rc = TOOL_FAIL;

	if (t->user_in)
		return TOOL_OK;
	rc = check_pin_flags(t, false);
	if (rc != TOOL_OK)
		return rc;
	if (!t->have_pin && protected_path(t, t->o.pin_file, "TEEHSM_PIN")) {
		rc = do_login(t, CKU_USER, NULL, 0);
		t->user_in = rc == TOOL_OK;
		return rc;
	}
	if (!t->have_pin) {
		snprintf(prompt, sizeof(prompt), "User PIN for token '%s': ", t->token_label);
		if (tool_pin_read(t->o.pin_file, "TEEHSM_PIN", prompt, t->pin, sizeof(t->pin),
				  &t->pin_len, err, sizeof(err)) != 0) {
			tool_err(t, "%s", err);
			return TOOL_FAIL;
		}
		t->have_pin = true;
	}
	rc = do_login(t, CKU_USER, t->pin, t->pin_len);
	if (rc != TOOL_OK) {
		/* A wrong PIN is not tried again later. */
		wipe(t->pin, sizeof(t->pin));
		t->pin_len = 0;
		t->have_pin = false;
		return rc;
	}
	t->user_in = true;
	return TOOL_OK;
}

int tool_so_begin(struct tool *t)
{
	char pin[TOOL_PIN_MAX + 1];
	char prompt[96];
	char err[TOOL_ERR_LEN];
	size_t len = 0;
	int rc = TOOL_FAIL;

	/* The SO cannot log in while the user is, nor while a read-only session is open. */
	if (t->sess != CK_INVALID_HANDLE) {
		if (t->user_in)
			(void)t->f->C_Logout(t->sess);
		(void)t->f->C_CloseSession(t->sess);
		t->sess = CK_INVALID_HANDLE;
	}
	t->user_in = false;
	rc = open_session(t, true);
	if (rc != TOOL_OK)
		return rc;
	rc = check_pin_flags(t, true);
	if (rc != TOOL_OK)
		return rc;
	if (protected_path(t, t->o.so_pin_file, "TEEHSM_SO_PIN"))
		return do_login(t, CKU_SO, NULL, 0);
	snprintf(prompt, sizeof(prompt), "SO PIN for token '%s': ", t->token_label);
	if (tool_pin_read(t->o.so_pin_file, "TEEHSM_SO_PIN", prompt, pin, sizeof(pin), &len, err,
			  sizeof(err)) != 0) {
		tool_err(t, "storing a trusted root needs the SO PIN: %s", err);
		rc = TOOL_FAIL;
		goto out;
	}
	rc = do_login(t, CKU_SO, pin, len);
out:
	wipe(pin, sizeof(pin));
	return rc;
}

int tool_so_end(struct tool *t, bool relogin_user)
{
	int rc = TOOL_OK;

	if (t->sess != CK_INVALID_HANDLE) {
		(void)t->f->C_Logout(t->sess);
		(void)t->f->C_CloseSession(t->sess);
		t->sess = CK_INVALID_HANDLE;
	}
	rc = open_session(t, t->rw);
	if (rc == TOOL_OK && relogin_user)
		rc = tool_login_user(t);
	return rc;
}

void tool_close(struct tool *t)
{
	if (t->f && t->sess != CK_INVALID_HANDLE)
		(void)t->f->C_CloseSession(t->sess);
	t->sess = CK_INVALID_HANDLE;
	t->user_in = false;
	if (t->f && t->initialized)
		(void)t->f->C_Finalize(NULL);
	t->initialized = false;
	/* The module is not dlclose'd: leak checkers then still know its symbols, and some
	 * modules do not survive being unloaded. */
	wipe(t->pin, sizeof(t->pin));
	t->pin_len = 0;
	t->have_pin = false;
}

int tool_find(struct tool *t, CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE **out, size_t *count)
{
	CK_OBJECT_HANDLE *hs = NULL, *nh = NULL;
	size_t have = 0, cap = 0;
	CK_ULONG got = 0;
	CK_RV rv = CKR_GENERAL_ERROR;
	int rc = TOOL_FAIL;

	*out = NULL;
	*count = 0;
	rv = t->f->C_FindObjectsInit(t->sess, tmpl, n);
	if (rv != CKR_OK) {
		tool_p11_err(t, "C_FindObjectsInit", rv);
		return TOOL_FAIL;
	}
	for (;;) {
		if (have == cap) {
			cap = cap ? 2 * cap : 64;
			nh = realloc(hs, cap * sizeof(*hs));
			if (!nh) {
				tool_err(t, "out of memory");
				goto out;
			}
			hs = nh;
		}
		rv = t->f->C_FindObjects(t->sess, hs + have, (CK_ULONG)(cap - have), &got);
		if (rv != CKR_OK) {
			tool_p11_err(t, "C_FindObjects", rv);
			goto out;
		}
		if (got == 0)
			break;
		if (got > cap - have) {
			tool_err(t, "C_FindObjects returned %lu handles for %zu places",
				 (unsigned long)got, cap - have);
			goto out;
		}
		have += got;
		if (have > TOOL_MAX_OBJECTS) {
			tool_err(t, "more than %d objects on the token match", TOOL_MAX_OBJECTS);
			goto out;
		}
	}
	*out = hs;
	*count = have;
	hs = NULL; /* the caller owns the array */
	rc = TOOL_OK;
out:
	(void)t->f->C_FindObjectsFinal(t->sess);
	free(hs);
	return rc;
}

static const char *class_name(CK_OBJECT_CLASS cls)
{
	switch (cls) {
	case CKO_PRIVATE_KEY:
		return "private keys";
	case CKO_PUBLIC_KEY:
		return "public keys";
	case CKO_CERTIFICATE:
		return "certificates";
	default:
		return "objects";
	}
}

int tool_find_one(struct tool *t, CK_OBJECT_CLASS cls, const char *label, CK_OBJECT_HANDLE *h)
{
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_LABEL, (void *)label, (CK_ULONG)strlen(label) },
	};
	CK_OBJECT_HANDLE *hs = NULL;
	size_t n = 0;
	int rc = TOOL_FAIL;

	*h = CK_INVALID_HANDLE;
	rc = tool_find(t, tmpl, ARRAY_SIZE(tmpl), &hs, &n);
	if (rc != TOOL_OK)
		return rc;
	if (n == 0) {
		rc = TOOL_NOTFOUND;
	} else if (n > 1) {
		tool_err(t, "%zu %s on the token are labelled '%s'", n, class_name(cls), label);
		rc = TOOL_FAIL;
	} else {
		*h = hs[0];
		rc = TOOL_OK;
	}
	free(hs);
	return rc;
}

int tool_attr(struct tool *t, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, uint8_t **val,
	      size_t *len)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	CK_RV rv = CKR_GENERAL_ERROR;
	uint8_t *p = NULL;
	size_t size = 0;

	*val = NULL;
	*len = 0;
	rv = t->f->C_GetAttributeValue(t->sess, h, &a, 1);
	if (rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
	    (rv == CKR_OK && a.ulValueLen == CK_UNAVAILABLE_INFORMATION))
		return 0;
	if (rv != CKR_OK) {
		tool_p11_err(t, "C_GetAttributeValue", rv);
		return -1;
	}
	if (a.ulValueLen > TOOL_FILE_MAX) {
		tool_err(t, "an attribute of %lu bytes is too large", (unsigned long)a.ulValueLen);
		return -1;
	}
	size = a.ulValueLen;
	p = malloc(size + 1);
	if (!p) {
		tool_err(t, "out of memory");
		return -1;
	}
	a.pValue = p;
	rv = t->f->C_GetAttributeValue(t->sess, h, &a, 1);
	if (rv != CKR_OK || a.ulValueLen > size) {
		free(p);
		if (rv != CKR_OK)
			tool_p11_err(t, "C_GetAttributeValue", rv);
		else
			tool_err(t, "C_GetAttributeValue wrote %lu bytes into %zu",
				 (unsigned long)a.ulValueLen, size);
		return -1;
	}
	p[a.ulValueLen] = 0;
	*val = p;
	*len = a.ulValueLen;
	return 1;
}

int tool_attr_ulong(struct tool *t, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, CK_ULONG *v)
{
	CK_ATTRIBUTE a = { type, v, sizeof(*v) };
	CK_RV rv = t->f->C_GetAttributeValue(t->sess, h, &a, 1);

	if (rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
	    (rv == CKR_OK && a.ulValueLen != sizeof(*v))) {
		*v = 0;
		return 0;
	}
	if (rv != CKR_OK) {
		tool_p11_err(t, "C_GetAttributeValue", rv);
		return -1;
	}
	return 1;
}

int tool_attr_bool(struct tool *t, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, bool *v)
{
	CK_BBOOL b = CK_FALSE;
	CK_ATTRIBUTE a = { type, &b, sizeof(b) };
	CK_RV rv = t->f->C_GetAttributeValue(t->sess, h, &a, 1);

	*v = false;
	if (rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID)
		return 0;
	if (rv != CKR_OK) {
		tool_p11_err(t, "C_GetAttributeValue", rv);
		return -1;
	}
	*v = a.ulValueLen == sizeof(b) && b == CK_TRUE;
	return 0;
}

int tool_set_attr(struct tool *t, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, const void *val,
		  size_t len)
{
	CK_ATTRIBUTE a = { type, (void *)val, (CK_ULONG)len };
	CK_RV rv = t->f->C_SetAttributeValue(t->sess, h, &a, 1);

	if (rv != CKR_OK) {
		tool_p11_err(t, "C_SetAttributeValue", rv);
		return TOOL_FAIL;
	}
	return TOOL_OK;
}

int tool_destroy(struct tool *t, CK_OBJECT_HANDLE h)
{
	CK_RV rv = CKR_OK;

	if (h == CK_INVALID_HANDLE)
		return TOOL_OK;
	rv = t->f->C_DestroyObject(t->sess, h);
	if (rv != CKR_OK) {
		tool_p11_err(t, "C_DestroyObject", rv);
		return TOOL_FAIL;
	}
	return TOOL_OK;
}
