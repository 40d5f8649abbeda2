/*
 * dispatch: one request payload in, one framed response out. Every handler has the same shape
 * (STYLE.md §4): take the decoded request, convert and bound what it carries, call the one
 * ta_C_* function, put its outputs in the reply. The codec has already refused malformed bytes;
 * the token core decides every PKCS#11 outcome.
 */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "dispatch_int.h"

static void reply_release(struct reply *r)
{
	free(r->ulongs);
	free(r->ck_ulongs);
	wipe_free(r->bytes, r->bytes_len);
	codec_template_free(r->tmpl, r->tmpl_n);
	codec_attrs_free(&r->wire_attrs);
}

struct srv_peer *srv_peer_new(struct ta *ta, size_t max_frame, const char *identity)
{
	struct srv_peer *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->max_frame = max_frame;
	p->peer_max_frame = max_frame;
	p->identity = strdup(identity ? identity : "?");
	if (!p->identity || ta_client_new(ta, &p->tc) != CKR_OK) {
		srv_peer_free(p);
		return NULL;
	}
	return p;
}

void srv_peer_free(struct srv_peer *p)
{
	if (!p)
		return;
	ta_client_free(p->tc);
	free(p->identity);
	free(p);
}

void srv_peer_set_auth(struct srv_peer *p, const struct srv_auth *auth)
{
	p->auth = *auth;
	p->has_auth = 1;
}

unsigned long srv_peer_sessions(struct srv_peer *p)
{
	return ta_client_session_count(p->tc);
}

size_t srv_peer_max_frame(const struct srv_peer *p)
{
	return p->max_frame < p->peer_max_frame ? p->max_frame : p->peer_max_frame;
}

/* ---- Slot and token management ---- */

static CK_RV h_get_slot_list(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__GetSlotListRequest *a = q->get_slot_list;
	CK_ULONG n = 0;
	CK_RV rv;

	if (a->has_out_len) {
		n = out_cap(p, a->out_len, sizeof(uint64_t) + 2);
		r->ck_ulongs = calloc(n ? n : 1, sizeof(CK_ULONG));
		if (!r->ck_ulongs)
			return CKR_HOST_MEMORY;
	}
	rv = ta_C_GetSlotList(p->tc, a->token_present ? CK_TRUE : CK_FALSE, r->ck_ulongs, &n);
	teehsm__get_slot_list_response__init(&r->u.slot_list);
	r->u.slot_list.out_len = n;
	if (rv == CKR_OK && r->ck_ulongs) {
		r->ulongs = calloc(n ? n : 1, sizeof(uint64_t));
		if (!r->ulongs)
			return CKR_HOST_MEMORY;
		for (CK_ULONG i = 0; i < n; i++)
			r->ulongs[i] = codec_ulong_to_wire(r->ck_ulongs[i]);
		r->u.slot_list.slots = r->ulongs;
		r->u.slot_list.n_slots = n;
	}
	if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL)
		r->resp.get_slot_list = &r->u.slot_list;
	return rv;
}

static void slot_info_to_wire(struct reply *r, const CK_SLOT_INFO *s)
{
	Teehsm__SlotInfo *w = &r->slot_info;

	teehsm__slot_info__init(w);
	codec_fixed_to_wire(&w->slot_description, s->slotDescription, sizeof(s->slotDescription));
	codec_fixed_to_wire(&w->manufacturer_id, s->manufacturerID, sizeof(s->manufacturerID));
	w->flags = codec_ulong_to_wire(s->flags);
	codec_version_to_wire(&r->hw, &s->hardwareVersion);
	codec_version_to_wire(&r->fw, &s->firmwareVersion);
	w->hardware_version = &r->hw;
	w->firmware_version = &r->fw;
}

static CK_RV h_get_slot_info(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	CK_RV rv = ta_C_GetSlotInfo(p->tc, ul(q->get_slot_info->slot_id), &r->ck_slot);

	if (rv != CKR_OK)
		return rv;
	slot_info_to_wire(r, &r->ck_slot);
	teehsm__get_slot_info_response__init(&r->u.slot_info);
	r->u.slot_info.info = &r->slot_info;
	r->resp.get_slot_info = &r->u.slot_info;
	return rv;
}

static void token_info_to_wire(struct reply *r, const CK_TOKEN_INFO *t)
{
	Teehsm__TokenInfo *w = &r->token_info;

	teehsm__token_info__init(w);
	codec_fixed_to_wire(&w->label, t->label, sizeof(t->label));
	codec_fixed_to_wire(&w->manufacturer_id, t->manufacturerID, sizeof(t->manufacturerID));
	codec_fixed_to_wire(&w->model, t->model, sizeof(t->model));
	codec_fixed_to_wire(&w->serial_number, t->serialNumber, sizeof(t->serialNumber));
	codec_fixed_to_wire(&w->utc_time, t->utcTime, sizeof(t->utcTime));
	w->flags = codec_ulong_to_wire(t->flags);
	w->max_session_count = codec_ulong_to_wire(t->ulMaxSessionCount);
	w->session_count = codec_ulong_to_wire(t->ulSessionCount);
	w->max_rw_session_count = codec_ulong_to_wire(t->ulMaxRwSessionCount);
	w->rw_session_count = codec_ulong_to_wire(t->ulRwSessionCount);
	w->max_pin_len = codec_ulong_to_wire(t->ulMaxPinLen);
	w->min_pin_len = codec_ulong_to_wire(t->ulMinPinLen);
	w->total_public_memory = codec_ulong_to_wire(t->ulTotalPublicMemory);
	w->free_public_memory = codec_ulong_to_wire(t->ulFreePublicMemory);
	w->total_private_memory = codec_ulong_to_wire(t->ulTotalPrivateMemory);
	w->free_private_memory = codec_ulong_to_wire(t->ulFreePrivateMemory);
	codec_version_to_wire(&r->hw, &t->hardwareVersion);
	codec_version_to_wire(&r->fw, &t->firmwareVersion);
	w->hardware_version = &r->hw;
	w->firmware_version = &r->fw;
}

static CK_RV h_get_token_info(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	CK_RV rv = ta_C_GetTokenInfo(p->tc, ul(q->get_token_info->slot_id), &r->ck_token);

	if (rv != CKR_OK)
		return rv;
	token_info_to_wire(r, &r->ck_token);
	teehsm__get_token_info_response__init(&r->u.token_info);
	r->u.token_info.info = &r->token_info;
	r->resp.get_token_info = &r->u.token_info;
	return rv;
}

static CK_RV h_get_mechanism_list(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__GetMechanismListRequest *a = q->get_mechanism_list;
	CK_ULONG n = 0;
	CK_RV rv;

	if (a->has_out_len) {
		n = out_cap(p, a->out_len, sizeof(uint64_t) + 2);
		r->ck_ulongs = calloc(n ? n : 1, sizeof(CK_ULONG));
		if (!r->ck_ulongs)
			return CKR_HOST_MEMORY;
	}
	rv = ta_C_GetMechanismList(p->tc, ul(a->slot_id), r->ck_ulongs, &n);
	teehsm__get_mechanism_list_response__init(&r->u.mech_list);
	r->u.mech_list.out_len = n;
	if (rv == CKR_OK && r->ck_ulongs) {
		r->ulongs = calloc(n ? n : 1, sizeof(uint64_t));
		if (!r->ulongs)
			return CKR_HOST_MEMORY;
		for (CK_ULONG i = 0; i < n; i++)
			r->ulongs[i] = codec_ulong_to_wire(r->ck_ulongs[i]);
		r->u.mech_list.mechanisms = r->ulongs;
		r->u.mech_list.n_mechanisms = n;
	}
	if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL)
		r->resp.get_mechanism_list = &r->u.mech_list;
	return rv;
}

static CK_RV h_get_mechanism_info(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__GetMechanismInfoRequest *a = q->get_mechanism_info;
	CK_MECHANISM_INFO info;
	CK_RV rv;

	memset(&info, 0, sizeof(info));
	rv = ta_C_GetMechanismInfo(p->tc, ul(a->slot_id), ul(a->type), &info);
	if (rv != CKR_OK)
		return rv;
	teehsm__mechanism_info__init(&r->mech_info);
	r->mech_info.min_key_size = codec_ulong_to_wire(info.ulMinKeySize);
	r->mech_info.max_key_size = codec_ulong_to_wire(info.ulMaxKeySize);
	r->mech_info.flags = codec_ulong_to_wire(info.flags);
	teehsm__get_mechanism_info_response__init(&r->u.mech_info);
	r->u.mech_info.info = &r->mech_info;
	r->resp.get_mechanism_info = &r->u.mech_info;
	return rv;
}

/* A PIN as the PKCS#11 caller passed it: NULL (protected path) or bytes borrowed from the
 * request, which is wiped when freed. */
static CK_UTF8CHAR_PTR pin_of(int has, const ProtobufCBinaryData *pin, CK_ULONG *len)
{
	*len = has ? pin->len : 0;
	if (!has)
		return NULL;
	return pin->len ? pin->data : (CK_UTF8CHAR_PTR) "";
}

static CK_RV h_init_token(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__InitTokenRequest *a = q->init_token;
	CK_UTF8CHAR label[32];
	CK_UTF8CHAR_PTR pin;
	CK_ULONG pin_len;

	(void)r;
	if (codec_fixed_from_wire(label, sizeof(label), &a->label))
		return CKR_ARGUMENTS_BAD;
	pin = pin_of(a->has_pin, &a->pin, &pin_len);
	return ta_C_InitToken(p->tc, ul(a->slot_id), pin, pin_len, label);
}

static CK_RV h_init_pin(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__InitPinRequest *a = q->init_pin;
	CK_ULONG pin_len;
	CK_UTF8CHAR_PTR pin = pin_of(a->has_pin, &a->pin, &pin_len);

	(void)r;
	return ta_C_InitPIN(p->tc, ul(a->session), pin, pin_len);
}

static CK_RV h_set_pin(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__SetPinRequest *a = q->set_pin;
	CK_ULONG old_len, new_len;
	CK_UTF8CHAR_PTR old_pin = pin_of(a->has_old_pin, &a->old_pin, &old_len);
	CK_UTF8CHAR_PTR new_pin = pin_of(a->has_new_pin, &a->new_pin, &new_len);

	(void)r;
	return ta_C_SetPIN(p->tc, ul(a->session), old_pin, old_len, new_pin, new_len);
}

/* ---- Session management ---- */

static CK_RV h_open_session(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__OpenSessionRequest *a = q->open_session;
	CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv = ta_C_OpenSession(p->tc, ul(a->slot_id), ul(a->flags), &h);

	if (rv != CKR_OK)
		return rv;
	teehsm__open_session_response__init(&r->u.open_session);
	r->u.open_session.session = codec_ulong_to_wire(h);
	r->resp.open_session = &r->u.open_session;
	return rv;
}

static CK_RV h_close_session(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	(void)r;
	return ta_C_CloseSession(p->tc, ul(q->close_session->session));
}

static CK_RV h_close_all_sessions(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	(void)r;
	return ta_C_CloseAllSessions(p->tc, ul(q->close_all_sessions->slot_id));
}

static CK_RV h_get_session_info(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	CK_SESSION_INFO info;
	CK_RV rv;

	memset(&info, 0, sizeof(info));
	rv = ta_C_GetSessionInfo(p->tc, ul(q->get_session_info->session), &info);
	if (rv != CKR_OK)
		return rv;
	teehsm__session_info__init(&r->session_info);
	r->session_info.slot_id = codec_ulong_to_wire(info.slotID);
	r->session_info.state = codec_ulong_to_wire(info.state);
	r->session_info.flags = codec_ulong_to_wire(info.flags);
	r->session_info.device_error = codec_ulong_to_wire(info.ulDeviceError);
	teehsm__get_session_info_response__init(&r->u.session_info);
	r->u.session_info.info = &r->session_info;
	r->resp.get_session_info = &r->u.session_info;
	return rv;
}

static CK_RV h_login(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__LoginRequest *a = q->login;
	CK_ULONG pin_len;
	CK_UTF8CHAR_PTR pin = pin_of(a->has_pin, &a->pin, &pin_len);

	(void)r;
	return ta_C_Login(p->tc, ul(a->session), ul(a->user_type), pin, pin_len);
}

static CK_RV h_logout(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	(void)r;
	return ta_C_Logout(p->tc, ul(q->logout->session));
}

/* ---- Object management ---- */

static CK_RV h_create_object(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__CreateObjectRequest *a = q->create_object;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv = codec_template_from_wire(&r->tmpl, &r->tmpl_n, a->template_, a->n_template_);

	if (rv != CKR_OK)
		return rv;
	rv = ta_C_CreateObject(p->tc, ul(a->session), r->tmpl_n ? r->tmpl : NULL, r->tmpl_n, &h);
	return object_reply(r, rv, h, &r->resp.create_object);
}

static CK_RV h_copy_object(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__CopyObjectRequest *a = q->copy_object;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv = codec_template_from_wire(&r->tmpl, &r->tmpl_n, a->template_, a->n_template_);

	if (rv != CKR_OK)
		return rv;
	rv = ta_C_CopyObject(p->tc, ul(a->session), ul(a->object), r->tmpl_n ? r->tmpl : NULL,
			     r->tmpl_n, &h);
	return object_reply(r, rv, h, &r->resp.copy_object);
}

static CK_RV h_get_object_size(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__GetObjectSizeRequest *a = q->get_object_size;
	CK_ULONG size = 0;
	CK_RV rv = ta_C_GetObjectSize(p->tc, ul(a->session), ul(a->object), &size);

	if (rv != CKR_OK)
		return rv;
	teehsm__get_object_size_response__init(&r->u.object_size);
	r->u.object_size.size = codec_ulong_to_wire(size);
	r->resp.get_object_size = &r->u.object_size;
	return rv;
}

static CK_RV h_set_attribute_value(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__SetAttributeValueRequest *a = q->set_attribute_value;
	CK_RV rv = codec_template_from_wire(&r->tmpl, &r->tmpl_n, a->template_, a->n_template_);

	if (rv != CKR_OK)
		return rv;
	return ta_C_SetAttributeValue(p->tc, ul(a->session), ul(a->object),
				      r->tmpl_n ? r->tmpl : NULL, r->tmpl_n);
}

static CK_RV h_destroy_object(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	(void)r;
	return ta_C_DestroyObject(p->tc, ul(q->destroy_object->session),
				  ul(q->destroy_object->object));
}

static CK_RV h_get_attribute_value(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__GetAttributeValueRequest *a = q->get_attribute_value;
	CK_RV rv;

	rv = codec_query_from_wire(&r->tmpl, &r->tmpl_n, a->template_, a->n_template_,
				   srv_peer_max_frame(p));
	if (rv != CKR_OK)
		return rv;
	rv = ta_C_GetAttributeValue(p->tc, ul(a->session), ul(a->object), r->tmpl, r->tmpl_n);
	/* Only these outcomes fill the template (§5.7); the others leave it undefined. */
	if (rv != CKR_OK && rv != CKR_ATTRIBUTE_SENSITIVE && rv != CKR_ATTRIBUTE_TYPE_INVALID &&
	    rv != CKR_BUFFER_TOO_SMALL)
		return rv;
	if (codec_answer_to_wire(&r->wire_attrs, r->tmpl, r->tmpl_n) != CKR_OK)
		return CKR_GENERAL_ERROR;
	teehsm__get_attribute_value_response__init(&r->u.attrs);
	r->u.attrs.template_ = r->wire_attrs.v;
	r->u.attrs.n_template_ = r->wire_attrs.n;
	r->resp.get_attribute_value = &r->u.attrs;
	return rv;
}

static CK_RV h_find_objects_init(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__FindObjectsInitRequest *a = q->find_objects_init;
	CK_RV rv = codec_template_from_wire(&r->tmpl, &r->tmpl_n, a->template_, a->n_template_);

	if (rv != CKR_OK)
		return rv;
	return ta_C_FindObjectsInit(p->tc, ul(a->session), r->tmpl_n ? r->tmpl : NULL, r->tmpl_n);
}

static CK_RV h_find_objects(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__FindObjectsRequest *a = q->find_objects;
	CK_ULONG max = out_cap(p, a->max_count, sizeof(uint64_t) + 2);
	CK_ULONG n = 0;
	CK_RV rv;

	r->ck_ulongs = calloc(max ? max : 1, sizeof(CK_ULONG));
	if (!r->ck_ulongs)
		return CKR_HOST_MEMORY;
	rv = ta_C_FindObjects(p->tc, ul(a->session), r->ck_ulongs, max, &n);
	if (rv != CKR_OK)
		return rv;
	if (n > max)
		return CKR_GENERAL_ERROR;
	r->ulongs = calloc(n ? n : 1, sizeof(uint64_t));
	if (!r->ulongs)
		return CKR_HOST_MEMORY;
	for (CK_ULONG i = 0; i < n; i++)
		r->ulongs[i] = codec_ulong_to_wire(r->ck_ulongs[i]);
	teehsm__find_objects_response__init(&r->u.find);
	r->u.find.objects = r->ulongs;
	r->u.find.n_objects = n;
	r->resp.find_objects = &r->u.find;
	return rv;
}

static CK_RV h_find_objects_final(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	(void)r;
	return ta_C_FindObjectsFinal(p->tc, ul(q->find_objects_final->session));
}

/* The calls this server answers, by request case: with srv_crypto_handlers (dispatch_crypto.c),
 * the whole protocol surface. */
static const struct srv_handler handlers[] = {
	{ TEEHSM__REQUEST__CALL_GET_SLOT_LIST, TEEHSM__RESPONSE__RESULT_GET_SLOT_LIST,
	  h_get_slot_list, "C_GetSlotList" },
	{ TEEHSM__REQUEST__CALL_GET_SLOT_INFO, TEEHSM__RESPONSE__RESULT_GET_SLOT_INFO,
	  h_get_slot_info, "C_GetSlotInfo" },
	{ TEEHSM__REQUEST__CALL_GET_TOKEN_INFO, TEEHSM__RESPONSE__RESULT_GET_TOKEN_INFO,
	  h_get_token_info, "C_GetTokenInfo" },
	{ TEEHSM__REQUEST__CALL_GET_MECHANISM_LIST, TEEHSM__RESPONSE__RESULT_GET_MECHANISM_LIST,
	  h_get_mechanism_list, "C_GetMechanismList" },
	{ TEEHSM__REQUEST__CALL_GET_MECHANISM_INFO, TEEHSM__RESPONSE__RESULT_GET_MECHANISM_INFO,
	  h_get_mechanism_info, "C_GetMechanismInfo" },
	{ TEEHSM__REQUEST__CALL_INIT_TOKEN, TEEHSM__RESPONSE__RESULT__NOT_SET, h_init_token,
	  "C_InitToken" },
	{ TEEHSM__REQUEST__CALL_INIT_PIN, TEEHSM__RESPONSE__RESULT__NOT_SET, h_init_pin,
	  "C_InitPIN" },
	{ TEEHSM__REQUEST__CALL_SET_PIN, TEEHSM__RESPONSE__RESULT__NOT_SET, h_set_pin, "C_SetPIN" },
	{ TEEHSM__REQUEST__CALL_OPEN_SESSION, TEEHSM__RESPONSE__RESULT_OPEN_SESSION, h_open_session,
	  "C_OpenSession" },
	{ TEEHSM__REQUEST__CALL_CLOSE_SESSION, TEEHSM__RESPONSE__RESULT__NOT_SET, h_close_session,
	  "C_CloseSession" },
	{ TEEHSM__REQUEST__CALL_CLOSE_ALL_SESSIONS, TEEHSM__RESPONSE__RESULT__NOT_SET,
	  h_close_all_sessions, "C_CloseAllSessions" },
	{ TEEHSM__REQUEST__CALL_GET_SESSION_INFO, TEEHSM__RESPONSE__RESULT_GET_SESSION_INFO,
	  h_get_session_info, "C_GetSessionInfo" },
	{ TEEHSM__REQUEST__CALL_LOGIN, TEEHSM__RESPONSE__RESULT__NOT_SET, h_login, "C_Login" },
	{ TEEHSM__REQUEST__CALL_LOGOUT, TEEHSM__RESPONSE__RESULT__NOT_SET, h_logout, "C_Logout" },
	{ TEEHSM__REQUEST__CALL_CREATE_OBJECT, TEEHSM__RESPONSE__RESULT_CREATE_OBJECT,
	  h_create_object, "C_CreateObject" },
	{ TEEHSM__REQUEST__CALL_COPY_OBJECT, TEEHSM__RESPONSE__RESULT_COPY_OBJECT, h_copy_object,
	  "C_CopyObject" },
	{ TEEHSM__REQUEST__CALL_DESTROY_OBJECT, TEEHSM__RESPONSE__RESULT__NOT_SET, h_destroy_object,
	  "C_DestroyObject" },
	{ TEEHSM__REQUEST__CALL_GET_OBJECT_SIZE, TEEHSM__RESPONSE__RESULT_GET_OBJECT_SIZE,
	  h_get_object_size, "C_GetObjectSize" },
	{ TEEHSM__REQUEST__CALL_GET_ATTRIBUTE_VALUE, TEEHSM__RESPONSE__RESULT_GET_ATTRIBUTE_VALUE,
	  h_get_attribute_value, "C_GetAttributeValue" },
	{ TEEHSM__REQUEST__CALL_SET_ATTRIBUTE_VALUE, TEEHSM__RESPONSE__RESULT__NOT_SET,
	  h_set_attribute_value, "C_SetAttributeValue" },
	{ TEEHSM__REQUEST__CALL_FIND_OBJECTS_INIT, TEEHSM__RESPONSE__RESULT__NOT_SET,
	  h_find_objects_init, "C_FindObjectsInit" },
	{ TEEHSM__REQUEST__CALL_FIND_OBJECTS, TEEHSM__RESPONSE__RESULT_FIND_OBJECTS, h_find_objects,
	  "C_FindObjects" },
	{ TEEHSM__REQUEST__CALL_FIND_OBJECTS_FINAL, TEEHSM__RESPONSE__RESULT__NOT_SET,
	  h_find_objects_final, "C_FindObjectsFinal" },
};

static const struct srv_handler *handler_for(Teehsm__Request__CallCase c)
{
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].call == c)
			return &handlers[i];
	for (size_t i = 0; i < srv_crypto_handlers_n; i++)
		if (srv_crypto_handlers[i].call == c)
			return &srv_crypto_handlers[i];
	return NULL;
}

/* The first exchange: agree on a version and on frame caps. */
static enum srv_verdict do_hello(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__Hello *h = q->hello;

	teehsm__hello__init(&r->u.hello);
	r->u.hello.protocol_version = CODEC_PROTOCOL_VERSION;
	r->u.hello.software_version = "teehsm " TEEHSM_VERSION;
	r->u.hello.max_frame = (uint32_t)p->max_frame;
	r->resp.hello = &r->u.hello;
	r->resp.result_case = TEEHSM__RESPONSE__RESULT_HELLO;
	if (h->protocol_version != CODEC_PROTOCOL_VERSION) {
		log_warn("%s: speaks protocol %u (%.64s), this server speaks %u: closing",
			 p->identity, h->protocol_version, h->software_version,
			 CODEC_PROTOCOL_VERSION);
		r->resp.rv = CKR_DEVICE_ERROR;
		return SRV_REPLY_CLOSE;
	}
	if (h->max_frame < CODEC_MIN_MAX_FRAME) {
		log_warn("%s: frame cap %u is below %u: closing", p->identity, h->max_frame,
			 CODEC_MIN_MAX_FRAME);
		r->resp.rv = CKR_DEVICE_ERROR;
		return SRV_REPLY_CLOSE;
	}
	p->peer_max_frame = h->max_frame;
	p->hello_done = 1;
	log_debug("%s: hello from %.64s", p->identity, h->software_version);
	r->resp.rv = CKR_OK;
	return SRV_REPLY;
}

/* The calls of one PKCS#11 session share a lane; every call that names a slot instead (field 1
 * of each call message is `session` or `slot_id`, teehsm.proto) shares lane 0. */
static uint64_t lane_of(const Teehsm__Request *q)
{
	const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field(
		&teehsm__request__descriptor, (unsigned)q->call_case);
	const ProtobufCMessage *sub = NULL;
	const ProtobufCFieldDescriptor *f1 = NULL;

	if (!fd || fd->type != PROTOBUF_C_TYPE_MESSAGE)
		return 0;
	sub = *(const ProtobufCMessage *const *)(const void *)((const char *)q + fd->offset);
	if (!sub)
		return 0;
	f1 = protobuf_c_message_descriptor_get_field(sub->descriptor, 1);
	if (!f1 || f1->type != PROTOBUF_C_TYPE_UINT64 || strcmp(f1->name, "session") != 0)
		return 0;
	return *(const uint64_t *)(const void *)((const char *)sub + f1->offset);
}

/* Pack r into *out: SRV_CLOSE when it does not fit the peer's frame cap. */
static enum srv_verdict pack_reply(struct srv_peer *p, struct reply *r, enum srv_verdict v,
				   uint8_t **out, size_t *out_len)
{
	if (codec_pack_response(&r->resp, srv_peer_max_frame(p), out, out_len)) {
		log_error("%s: response does not fit a frame", p->identity);
		return SRV_CLOSE;
	}
	return v;
}

enum srv_verdict srv_request(struct srv_peer *p, const uint8_t *in, size_t in_len,
			     struct srv_call **call, uint8_t **out, size_t *out_len)
{
	enum srv_verdict verdict = SRV_CLOSE;
	Teehsm__Request *q = NULL;
	const struct srv_handler *h = NULL;
	struct reply r;

	*call = NULL;
	*out = NULL;
	*out_len = 0;
	memset(&r, 0, sizeof(r));
	teehsm__response__init(&r.resp);
	if (in_len > p->max_frame)
		goto out;
	q = codec_unpack_request(in, in_len);
	if (!q) {
		log_warn("%s: malformed request frame (%zu bytes): closing", p->identity, in_len);
		goto out;
	}
	r.resp.id = q->id;
	if (q->call_case == TEEHSM__REQUEST__CALL_HELLO) {
		if (p->hello_done) {
			log_warn("%s: second Hello: closing", p->identity);
			goto out;
		}
		verdict = pack_reply(p, &r, do_hello(p, q, &r), out, out_len);
	} else if (!p->hello_done) {
		log_warn("%s: request before Hello: closing", p->identity);
	} else if ((h = handler_for(q->call_case))) {
		*call = calloc(1, sizeof(**call));
		if (!*call) {
			log_error("%s: out of memory", p->identity);
			goto out;
		}
		(*call)->q = q;
		(*call)->h = h;
		(*call)->lane = lane_of(q);
		q = NULL; /* the call owns it now */
		verdict = SRV_RUN;
	} else {
		/* A call this server does not carry (an older server, a newer client). */
		r.resp.rv = CKR_FUNCTION_NOT_SUPPORTED;
		verdict = pack_reply(p, &r, SRV_REPLY, out, out_len);
	}
out:
	reply_release(&r);
	codec_request_free(q);
	return verdict;
}

uint64_t srv_call_lane(const struct srv_call *call)
{
	return call->lane;
}

void srv_call_set_policy(struct srv_call *call, struct policy *policy)
{
	policy_unref(call->policy);
	call->policy = policy;
}

void srv_call_free(struct srv_call *call)
{
	if (!call)
		return;
	policy_unref(call->policy);
	codec_request_free(call->q);
	free(call);
}

enum srv_verdict srv_call_run(struct srv_peer *p, struct srv_call *call, uint8_t **out,
			      size_t *out_len)
{
	const struct srv_handler *h = call->h;
	enum srv_verdict verdict = SRV_REPLY;
	struct reply r;

	*out = NULL;
	*out_len = 0;
	memset(&r, 0, sizeof(r));
	teehsm__response__init(&r.resp);
	r.resp.id = call->q->id;
	r.resp.rv = p->has_auth ? srv_authz_run(p, call, &r) : h->fn(p, call->q, &r);
	/* The result members of Response share one union: a handler that filled its answer
	 * left a pointer there, and the table names the case it belongs to. */
	if (h->result != TEEHSM__RESPONSE__RESULT__NOT_SET && r.resp.hello)
		r.resp.result_case = h->result;
	log_debug("%s: %s -> 0x%lx", p->identity, h->name, (unsigned long)r.resp.rv);
	verdict = pack_reply(p, &r, verdict, out, out_len);
	reply_release(&r);
	srv_call_free(call);
	return verdict;
}

enum srv_verdict srv_dispatch(struct srv_peer *p, const uint8_t *in, size_t in_len, uint8_t **out,
			      size_t *out_len)
{
	struct srv_call *call = NULL;
	enum srv_verdict v = srv_request(p, in, in_len, &call, out, out_len);

	if (v == SRV_RUN)
		v = srv_call_run(p, call, out, out_len);
	return v;
}
