/* Sessions and login (§5.6). Login state belongs to the client and is shared by all its
 * sessions; session handles are random and unique in the ta, so one client cannot name
 * another's sessions. */
#include <stdlib.h>

#include "core.h"

CK_RV sess_get(struct ta_client *c, CK_SESSION_HANDLE h, struct sess **out)
{
	*out = NULL;
	if (h == CK_INVALID_HANDLE)
		return CKR_SESSION_HANDLE_INVALID;
	for (struct sess *s = c->sessions; s; s = s->next) {
		if (s->h == h) {
			*out = s;
			return CKR_OK;
		}
	}
	return CKR_SESSION_HANDLE_INVALID;
}

bool sess_any_open(const struct ta *ta)
{
	for (const struct ta_client *c = ta->clients; c; c = c->next) {
		if (c->nsess)
			return true;
	}
	return false;
}

static bool sess_handle_used(const struct ta *ta, CK_SESSION_HANDLE h)
{
	for (const struct ta_client *c = ta->clients; c; c = c->next) {
		for (const struct sess *s = c->sessions; s; s = s->next) {
			if (s->h == h)
				return true;
		}
	}
	return false;
}

/* End the login of c: §5.6 C_Logout destroys the client's private session objects, and no
 * operation keeps using a private key. */
static void logout(struct ta_client *c)
{
	c->login = TA_LOGIN_NONE;
	for (struct sess *s = c->sessions; s; s = s->next) {
		op_end_private(c, s);
		obj_destroy_session_objects(c->ta, s, true);
	}
}

/* Unlink session s of c and free it with its session objects; the last one ends the login. */
static void sess_free(struct ta_client *c, struct sess *s)
{
	for (struct sess **pp = &c->sessions; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	c->nsess--;
	if (s->rw)
		c->nrw--;
	find_op_end(&s->find);
	op_end_all(s);
	obj_destroy_session_objects(c->ta, s, false);
	free(s);
	if (c->nsess == 0)
		c->login = TA_LOGIN_NONE;
}

void sess_close_all_of(struct ta_client *c)
{
	while (c->sessions)
		sess_free(c, c->sessions);
}

CK_RV sess_open(struct ta_client *c, CK_SLOT_ID slot, CK_FLAGS flags, CK_SESSION_HANDLE_PTR ph)
{
	struct sess *s = NULL;
	CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
	bool rw = (flags & CKF_RW_SESSION) != 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!ph)
		return CKR_ARGUMENTS_BAD;
	*ph = CK_INVALID_HANDLE;
	rv = token_check_slot(slot);
	if (rv != CKR_OK)
		return rv;
	if (!(flags & CKF_SERIAL_SESSION))
		return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
	if (c->nsess >= c->ta->max_sessions)
		return CKR_SESSION_COUNT;
	if (!rw && c->login == TA_LOGIN_SO)
		return CKR_SESSION_READ_WRITE_SO_EXISTS;
	do {
		rv = ta_random_handle(&h);
		if (rv != CKR_OK)
			return rv;
	} while (sess_handle_used(c->ta, h));
	s = calloc(1, sizeof(*s));
	if (!s)
		return CKR_HOST_MEMORY;
	s->h = h;
	s->c = c;
	s->rw = rw;
	s->next = c->sessions;
	c->sessions = s;
	c->nsess++;
	if (rw)
		c->nrw++;
	*ph = h;
	return CKR_OK;
}

CK_RV sess_close(struct ta_client *c, CK_SESSION_HANDLE h)
{
	struct sess *s = NULL;
	CK_RV rv = sess_get(c, h, &s);

	if (rv != CKR_OK)
		return rv;
	sess_free(c, s);
	return CKR_OK;
}

CK_RV sess_close_all(struct ta_client *c, CK_SLOT_ID slot)
{
	CK_RV rv = token_check_slot(slot);

	if (rv != CKR_OK)
		return rv;
	sess_close_all_of(c);
	return CKR_OK;
}

CK_RV sess_get_info(struct ta_client *c, CK_SESSION_HANDLE h, CK_SESSION_INFO_PTR info)
{
	struct sess *s = NULL;
	CK_RV rv = sess_get(c, h, &s);

	if (rv != CKR_OK)
		return rv;
	if (!info)
		return CKR_ARGUMENTS_BAD;
	info->slotID = TA_SLOT_ID;
	switch (c->login) {
	case TA_LOGIN_USER:
		info->state = s->rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
		break;
	case TA_LOGIN_SO:
		info->state = CKS_RW_SO_FUNCTIONS; /* an SO never has R/O sessions */
		break;
	case TA_LOGIN_NONE:
	default:
		info->state = s->rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
		break;
	}
	info->flags = CKF_SERIAL_SESSION | (s->rw ? CKF_RW_SESSION : 0);
	info->ulDeviceError = 0;
	return CKR_OK;
}

/* C_Login(CKU_CONTEXT_SPECIFIC): re-authenticate for the pending operation of a
 * CKA_ALWAYS_AUTHENTICATE key. */
static CK_RV login_context(struct ta_client *c, struct sess *s, const uint8_t *pin, CK_ULONG len)
{
	struct op *op = op_pending_auth(s);
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!op)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (c->login != TA_LOGIN_USER)
		return CKR_USER_NOT_LOGGED_IN;
	rv = pin_verify(c->ta, false, pin, len);
	if (rv == CKR_OK)
		op->need_auth = false;
	return rv;
}

CK_RV sess_login(struct ta_client *c, CK_SESSION_HANDLE h, CK_USER_TYPE type, const uint8_t *pin,
		 CK_ULONG len)
{
	enum ta_login want = TA_LOGIN_NONE;
	struct sess *s = NULL;
	CK_RV rv = sess_get(c, h, &s);

	if (rv != CKR_OK)
		return rv;
	/* No protected authentication path: the PIN always comes with the call. */
	if (!pin)
		return CKR_ARGUMENTS_BAD;
	switch (type) {
	case CKU_SO:
		want = TA_LOGIN_SO;
		break;
	case CKU_USER:
		want = TA_LOGIN_USER;
		break;
	case CKU_CONTEXT_SPECIFIC:
		return login_context(c, s, pin, len);
	default:
		return CKR_USER_TYPE_INVALID;
	}
	if (c->login == want)
		return CKR_USER_ALREADY_LOGGED_IN;
	if (c->login != TA_LOGIN_NONE)
		return CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
	if (want == TA_LOGIN_SO && c->nrw < c->nsess)
		return CKR_SESSION_READ_ONLY_EXISTS;
	rv = pin_verify(c->ta, want == TA_LOGIN_SO, pin, len);
	if (rv != CKR_OK)
		return rv;
	c->login = want;
	return CKR_OK;
}

CK_RV sess_logout(struct ta_client *c, CK_SESSION_HANDLE h)
{
	struct sess *s = NULL;
	CK_RV rv = sess_get(c, h, &s);

	if (rv != CKR_OK)
		return rv;
	if (c->login == TA_LOGIN_NONE)
		return CKR_USER_NOT_LOGGED_IN;
	logout(c);
	return CKR_OK;
}
