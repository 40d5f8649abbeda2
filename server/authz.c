/*
 * authz: the server's policy and audit log around each call (DESIGN.md "Server model"). Before
 * a call reaches the token core, the peer's identity must hold the call's operation class on the
 * token, and, for calls that name a key or create one, on that key's CKA_LABEL / CKA_ID. After
 * it, the answers that list things the identity may not see are filtered, and key uses,
 * management and admin operations, logins and every refusal are written to the audit log.
 *
 * A refusal answers CKR_ACTION_PROHIBITED (a slot the identity may not see: CKR_SLOT_ID_INVALID,
 * as for any slot not in its slot list). PKCS#11 login and the token's own attribute rules
 * still apply on top: the policy only ever takes rights away.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "audit.h"
#include "dispatch_int.h"
#include "policy.h"

/* What a call needs. */
enum az_kind {
	AZ_FREE,      /* nothing more: its session, or the operation it continues, was checked */
	AZ_SLOT,      /* a call naming the slot: the token must be visible */
	AZ_SLOT_LIST, /* C_GetSlotList: an invisible token is left out */
	AZ_CLASS,     /* the class on the token (no object) */
	AZ_KEY,	      /* the class on the object of field "key" or "object" */
	AZ_CREATE,    /* manage on the new object's template ("template") */
	AZ_KEYPAIR,   /* manage on both templates */
	AZ_COPY,      /* manage on the source and on what the copy will be called */
	AZ_SETATTR,   /* manage on the object, and on its new label / id */
	AZ_WRAP,      /* use on the wrapping key, manage on the key wrapped (it leaves) */
	AZ_UNWRAP,    /* use on the unwrapping / base key; the new key: see az_new_key_class */
	AZ_FIND,      /* read; objects the identity may not read are left out */
};

struct az_rule {
	Teehsm__Request__CallCase call;
	enum az_kind kind;
	unsigned cls;
	int audit; /* a key use, management or admin operation, or a login */
};

#define RQ(c) TEEHSM__REQUEST__CALL_##c

static const struct az_rule az_rules[] = {
	{ RQ(GET_SLOT_LIST), AZ_SLOT_LIST, 0, 0 },
	{ RQ(GET_SLOT_INFO), AZ_SLOT, 0, 0 },
	{ RQ(GET_TOKEN_INFO), AZ_SLOT, 0, 0 },
	{ RQ(GET_MECHANISM_LIST), AZ_SLOT, 0, 0 },
	{ RQ(GET_MECHANISM_INFO), AZ_SLOT, 0, 0 },
	{ RQ(OPEN_SESSION), AZ_SLOT, 0, 0 },
	{ RQ(INIT_TOKEN), AZ_CLASS, POL_ADMIN, 1 },
	{ RQ(INIT_PIN), AZ_CLASS, POL_ADMIN, 1 },
	{ RQ(SET_PIN), AZ_CLASS, POL_ADMIN, 1 },
	{ RQ(CLOSE_SESSION), AZ_FREE, 0, 0 },
	{ RQ(CLOSE_ALL_SESSIONS), AZ_FREE, 0, 0 },
	{ RQ(GET_SESSION_INFO), AZ_FREE, 0, 0 },
	{ RQ(LOGIN), AZ_CLASS, POL_READ, 1 },
	{ RQ(LOGOUT), AZ_FREE, 0, 1 },
	{ RQ(CREATE_OBJECT), AZ_CREATE, POL_MANAGE, 1 },
	{ RQ(COPY_OBJECT), AZ_COPY, POL_MANAGE, 1 },
	{ RQ(DESTROY_OBJECT), AZ_KEY, POL_MANAGE, 1 },
	{ RQ(GET_OBJECT_SIZE), AZ_KEY, POL_READ, 0 },
	{ RQ(GET_ATTRIBUTE_VALUE), AZ_KEY, POL_READ, 0 },
	{ RQ(SET_ATTRIBUTE_VALUE), AZ_SETATTR, POL_MANAGE, 1 },
	{ RQ(FIND_OBJECTS_INIT), AZ_CLASS, POL_READ, 0 },
	{ RQ(FIND_OBJECTS), AZ_FIND, POL_READ, 0 },
	{ RQ(FIND_OBJECTS_FINAL), AZ_FREE, 0, 0 },
	{ RQ(ENCRYPT_INIT), AZ_KEY, POL_USE, 1 },
	{ RQ(DECRYPT_INIT), AZ_KEY, POL_USE, 1 },
	{ RQ(DIGEST_INIT), AZ_CLASS, POL_READ, 0 },
	{ RQ(DIGEST_KEY), AZ_KEY, POL_USE, 1 },
	{ RQ(SIGN_INIT), AZ_KEY, POL_USE, 1 },
	{ RQ(SIGN_RECOVER_INIT), AZ_KEY, POL_USE, 1 },
	{ RQ(VERIFY_INIT), AZ_KEY, POL_USE, 1 },
	{ RQ(VERIFY_RECOVER_INIT), AZ_KEY, POL_USE, 1 },
	{ RQ(GENERATE_KEY), AZ_CREATE, POL_MANAGE, 1 },
	{ RQ(GENERATE_KEY_PAIR), AZ_KEYPAIR, POL_MANAGE, 1 },
	{ RQ(WRAP_KEY), AZ_WRAP, POL_USE, 1 },
	{ RQ(UNWRAP_KEY), AZ_UNWRAP, POL_USE, 1 },
	{ RQ(DERIVE_KEY), AZ_UNWRAP, POL_USE, 1 },
	{ RQ(GENERATE_RANDOM), AZ_CLASS, POL_READ, 0 },
	{ RQ(SEED_RANDOM), AZ_CLASS, POL_READ, 0 },
	/* Every other call continues an operation whose *Init was checked (C_Sign, C_Digest,
	 * C_EncryptUpdate, ...): AZ_FREE. */
};

/* An object's (or a template's) name for the policy and the audit log. */
struct az_name {
	uint8_t *label, *id; /* owned */
	size_t label_len, id_len;
	int has_label, has_id;
};

/* What authz_before learnt, for the audit record. */
struct srv_az {
	const struct az_rule *rule;
	char token[33];
	struct az_name name; /* the object the call is about */
	CK_RV denied_rv;
	const char *denied;
};

static void az_name_clear(struct az_name *n)
{
	free(n->label);
	free(n->id);
	memset(n, 0, sizeof(*n));
}

static const struct az_rule *az_rule_for(Teehsm__Request__CallCase c)
{
	for (size_t i = 0; i < sizeof(az_rules) / sizeof(az_rules[0]); i++)
		if (az_rules[i].call == c)
			return &az_rules[i];
	return NULL;
}

/* The call's own message (the member of the Request oneof). */
static const ProtobufCMessage *az_msg(const Teehsm__Request *q)
{
	const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field(
		&teehsm__request__descriptor, (unsigned)q->call_case);

	if (!fd || fd->type != PROTOBUF_C_TYPE_MESSAGE)
		return NULL;
	return *(const ProtobufCMessage *const *)(const void *)((const char *)q + fd->offset);
}

static const ProtobufCFieldDescriptor *az_field(const ProtobufCMessage *m, const char *name)
{
	return m ? protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name) : NULL;
}

/* A required uint64 field of the call, by name. */
static int az_u64(const Teehsm__Request *q, const char *name, CK_ULONG *out)
{
	const ProtobufCMessage *m = az_msg(q);
	const ProtobufCFieldDescriptor *f = az_field(m, name);

	if (!f || f->type != PROTOBUF_C_TYPE_UINT64 || f->label != PROTOBUF_C_LABEL_REQUIRED)
		return -1;
	*out = ul(*(const uint64_t *)(const void *)((const char *)m + f->offset));
	return 0;
}

/* A repeated Attribute field of the call, by name. */
static int az_template(const Teehsm__Request *q, const char *name, Teehsm__Attribute *const **t,
		       size_t *n)
{
	const ProtobufCMessage *m = az_msg(q);
	const ProtobufCFieldDescriptor *f = az_field(m, name);

	if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE || f->label != PROTOBUF_C_LABEL_REPEATED)
		return -1;
	*n = *(const size_t *)(const void *)((const char *)m + f->quantifier_offset);
	*t = *(Teehsm__Attribute *const *const *)(const void *)((const char *)m + f->offset);
	return 0;
}

/* The call's mechanism, when it names one. */
static int az_mech(const Teehsm__Request *q, CK_ULONG *out)
{
	const ProtobufCMessage *m = az_msg(q);
	const ProtobufCFieldDescriptor *f = az_field(m, "mechanism");
	const Teehsm__Mechanism *mech = NULL;

	if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE)
		return 0;
	mech = *(const Teehsm__Mechanism *const *)(const void *)((const char *)m + f->offset);
	if (!mech)
		return 0;
	*out = ul(mech->type);
	return 1;
}

/* The bytes value of attribute type in a wire template; NULL when absent. */
static const Teehsm__Attribute *az_attr(Teehsm__Attribute *const *t, size_t n, CK_ULONG type)
{
	for (size_t i = 0; i < n; i++)
		if (ul(t[i]->type) == type && t[i]->has_bytes)
			return t[i];
	return NULL;
}

static int az_dup(uint8_t **dst, size_t *dst_len, int *has, const void *src, size_t len)
{
	free(*dst);
	*dst = malloc(len ? len : 1);
	if (!*dst)
		return -1;
	if (len)
		memcpy(*dst, src, len);
	*dst_len = len;
	*has = 1;
	return 0;
}

/* Take the label and id a template gives (each overrides what n held). */
static int az_name_from_template(struct az_name *n, Teehsm__Attribute *const *t, size_t cnt)
{
	const Teehsm__Attribute *a = az_attr(t, cnt, CKA_LABEL);

	if (a && az_dup(&n->label, &n->label_len, &n->has_label, a->bytes.data, a->bytes.len))
		return -1;
	a = az_attr(t, cnt, CKA_ID);
	if (a && az_dup(&n->id, &n->id_len, &n->has_id, a->bytes.data, a->bytes.len))
		return -1;
	return 0;
}

/* Does the template make a token object (CKA_TOKEN true; the default is false)? */
static int az_template_token(Teehsm__Attribute *const *t, size_t cnt)
{
	const Teehsm__Attribute *a = az_attr(t, cnt, CKA_TOKEN);

	return a && a->bytes.len == 1 && a->bytes.data[0] != 0;
}

/* The label and id of object o, as the session s may see it. CKR_OK, or the token's answer
 * (CKR_OBJECT_HANDLE_INVALID, CKR_SESSION_HANDLE_INVALID ...). */
static CK_RV az_name_of(struct srv_peer *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
			struct az_name *n)
{
	CK_ATTRIBUTE t[2] = { { CKA_LABEL, NULL, 0 }, { CKA_ID, NULL, 0 } };
	CK_RV rv;

	az_name_clear(n);
	rv = ta_C_GetAttributeValue(p->tc, s, o, t, 2);
	if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID)
		return rv;
	for (int i = 0; i < 2; i++) {
		if (t[i].ulValueLen == CK_UNAVAILABLE_INFORMATION) {
			t[i].ulValueLen = 0;
			continue;
		}
		t[i].pValue = malloc(t[i].ulValueLen ? t[i].ulValueLen : 1);
		if (!t[i].pValue) {
			rv = CKR_HOST_MEMORY;
			goto out;
		}
	}
	rv = ta_C_GetAttributeValue(p->tc, s, o, t, 2);
	if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID)
		goto out;
	rv = CKR_OK;
	if (t[0].pValue && t[0].ulValueLen != CK_UNAVAILABLE_INFORMATION) {
		n->label = t[0].pValue;
		n->label_len = t[0].ulValueLen;
		n->has_label = 1;
		t[0].pValue = NULL;
	}
	if (t[1].pValue && t[1].ulValueLen != CK_UNAVAILABLE_INFORMATION) {
		n->id = t[1].pValue;
		n->id_len = t[1].ulValueLen;
		n->has_id = 1;
		t[1].pValue = NULL;
	}
out:
	free(t[0].pValue);
	free(t[1].pValue);
	return rv;
}

static bool az_covers_one(const struct srv_peer *p, const struct policy *pol, const char *token,
			  unsigned cls, const struct az_name *n)
{
	return policy_allows_object(pol, &p->auth.id, token, cls, n->has_label ? n->label : NULL,
				    n->has_label ? n->label_len : 0, n->has_id ? n->id : NULL,
				    n->has_id ? n->id_len : 0);
}

/* Does the policy grant cls on the object named n? An object the identity may use or manage it
 * may also find and read: a key cannot be used without being found. */
static bool az_covers(const struct srv_peer *p, const struct policy *pol, const char *token,
		      unsigned cls, const struct az_name *n)
{
	if (az_covers_one(p, pol, token, cls, n))
		return true;
	return cls == POL_READ && (az_covers_one(p, pol, token, POL_USE, n) ||
				   az_covers_one(p, pol, token, POL_MANAGE, n));
}

/* The class the new key of C_UnwrapKey / C_DeriveKey needs: use for a session object (it goes
 * with the session), manage for a token object. */
static unsigned az_new_key_class(Teehsm__Attribute *const *t, size_t cnt)
{
	return az_template_token(t, cnt) ? POL_MANAGE : POL_USE;
}

/* Check an object named by field of the call against cls; its name goes to az->name. */
static CK_RV az_check_object(struct srv_peer *p, const Teehsm__Request *q, const struct policy *pol,
			     struct srv_az *az, const char *field, unsigned cls)
{
	CK_ULONG s = 0, o = 0;
	CK_RV rv;

	if (az_u64(q, "session", &s) || az_u64(q, field, &o))
		return CKR_GENERAL_ERROR;
	rv = az_name_of(p, s, o, &az->name);
	if (rv != CKR_OK)
		return rv; /* the token's own answer: the object is not there for this session */
	return az_covers(p, pol, az->token, cls, &az->name) ? CKR_OK : CKR_ACTION_PROHIBITED;
}

/* The whole check before the call. CKR_OK to go on; any other value is the answer (az->denied
 * says whether the policy refused). */
static CK_RV az_check(struct srv_peer *p, const Teehsm__Request *q, const struct policy *pol,
		      struct srv_az *az)
{
	const struct az_rule *ru = az->rule;
	Teehsm__Attribute *const *t = NULL;
	size_t cnt = 0;
	CK_ULONG slot = 0;
	CK_RV rv = CKR_OK;

	switch (ru->kind) {
	case AZ_FREE:
	case AZ_SLOT_LIST:
		return CKR_OK;
	case AZ_SLOT:
		/* Only the token core's own slot is the policy's business. */
		if (az_u64(q, "slot_id", &slot) || slot != TA_SLOT_ID ||
		    policy_token_visible(pol, &p->auth.id, az->token))
			return CKR_OK;
		az->denied = "token not visible";
		return CKR_SLOT_ID_INVALID;
	case AZ_CLASS:
		/* The read-class calls without an object (login, find, random, digests) need only
		 * a token the identity may see: what it may find is filtered afterwards. */
		if (ru->cls == POL_READ
			    ? !policy_token_visible(pol, &p->auth.id, az->token)
			    : !policy_allows_class(pol, &p->auth.id, az->token, ru->cls))
			rv = CKR_ACTION_PROHIBITED;
		break;
	case AZ_KEY:
		rv = az_check_object(p, q, pol, az, az_field(az_msg(q), "key") ? "key" : "object",
				     ru->cls);
		break;
	case AZ_CREATE:
		if (az_template(q, "template", &t, &cnt) ||
		    az_name_from_template(&az->name, t, cnt))
			return CKR_HOST_MEMORY;
		if (!az_covers(p, pol, az->token, ru->cls, &az->name))
			rv = CKR_ACTION_PROHIBITED;
		break;
	case AZ_KEYPAIR: {
		struct az_name pub = { 0 };
		int ok = 0;

		if (az_template(q, "public_template", &t, &cnt) ||
		    az_name_from_template(&pub, t, cnt)) {
			az_name_clear(&pub);
			return CKR_HOST_MEMORY;
		}
		ok = az_covers(p, pol, az->token, ru->cls, &pub);
		az_name_clear(&pub);
		if (az_template(q, "private_template", &t, &cnt) ||
		    az_name_from_template(&az->name, t, cnt))
			return CKR_HOST_MEMORY;
		if (!ok || !az_covers(p, pol, az->token, ru->cls, &az->name))
			rv = CKR_ACTION_PROHIBITED;
		break;
	}
	case AZ_COPY:
	case AZ_SETATTR:
		rv = az_check_object(p, q, pol, az, "object", ru->cls);
		if (rv != CKR_OK)
			break;
		/* The object as it will be named afterwards. */
		if (az_template(q, "template", &t, &cnt) ||
		    az_name_from_template(&az->name, t, cnt))
			return CKR_HOST_MEMORY;
		if (!az_covers(p, pol, az->token, ru->cls, &az->name))
			rv = CKR_ACTION_PROHIBITED;
		break;
	case AZ_WRAP:
		rv = az_check_object(p, q, pol, az, "key", POL_MANAGE);
		if (rv == CKR_OK)
			rv = az_check_object(p, q, pol, az, "wrapping_key", POL_USE);
		break;
	case AZ_UNWRAP: {
		const char *key = az_field(az_msg(q), "base_key") ? "base_key" : "unwrapping_key";

		rv = az_check_object(p, q, pol, az, key, POL_USE);
		if (rv != CKR_OK)
			break;
		if (az_template(q, "template", &t, &cnt) ||
		    az_name_from_template(&az->name, t, cnt))
			return CKR_HOST_MEMORY;
		if (!az_covers(p, pol, az->token, az_new_key_class(t, cnt), &az->name))
			rv = CKR_ACTION_PROHIBITED;
		break;
	}
	case AZ_FIND:
		return CKR_OK; /* filtered afterwards */
	}
	if (rv == CKR_ACTION_PROHIBITED)
		az->denied = "policy";
	return rv;
}

/* C_FindObjects: leave out what the identity may not read, and ask the token for more so that a
 * short answer still means the search is over. */
static CK_RV az_filter_find(struct srv_peer *p, const Teehsm__Request *q, const struct policy *pol,
			    struct srv_az *az, struct reply *r)
{
	const Teehsm__FindObjectsRequest *a = q->find_objects;
	const CK_ULONG max = out_cap(p, a->max_count, sizeof(uint64_t) + 2);
	CK_ULONG have = r->u.find.n_objects, kept = 0, more = 0;
	CK_RV rv = CKR_OK;

	if (!r->resp.find_objects)
		return r->resp.rv;
	for (;;) {
		const CK_ULONG got = have - kept;

		for (CK_ULONG i = kept; i < have; i++) {
			if (az_name_of(p, ul(a->session), r->ck_ulongs[i], &az->name) == CKR_OK &&
			    az_covers(p, pol, az->token, POL_READ, &az->name))
				r->ck_ulongs[kept++] = r->ck_ulongs[i];
		}
		az_name_clear(&az->name);
		/* The token answered fewer than asked: nothing more to find. */
		if (kept == max || (more && got < more) || (!more && have < max))
			break;
		more = max - kept;
		rv = ta_C_FindObjects(p->tc, ul(a->session), r->ck_ulongs + kept, more, &have);
		if (rv != CKR_OK || have > more)
			break;
		have += kept;
	}
	for (CK_ULONG i = 0; i < kept; i++)
		r->ulongs[i] = codec_ulong_to_wire(r->ck_ulongs[i]);
	r->u.find.n_objects = kept;
	return rv == CKR_OK ? r->resp.rv : rv;
}

static void az_audit(const struct srv_peer *p, const Teehsm__Request *q, const struct srv_az *az,
		     const char *call, CK_RV rv)
{
	struct audit_rec rec;
	char who[256];
	CK_ULONG v = 0;

	memset(&rec, 0, sizeof(rec));
	rec.identity = pol_identity_describe(&p->auth.id, who, sizeof(who));
	rec.transport = p->auth.transport;
	rec.peer = p->auth.addr;
	rec.token = az->token;
	rec.call = call;
	if (az_u64(q, "session", &v) == 0) {
		rec.has_session = 1;
		rec.session = v;
	}
	rec.label = az->name.label;
	rec.label_len = az->name.label_len;
	rec.has_label = az->name.has_label;
	rec.obj_id = az->name.id;
	rec.obj_id_len = az->name.id_len;
	rec.has_obj_id = az->name.has_id;
	rec.has_mech = az_mech(q, &v);
	rec.mech = v;
	rec.rv = rv;
	rec.denied = az->denied;
	audit_write(p->auth.audit, &rec);
}

CK_RV srv_authz_run(struct srv_peer *p, const struct srv_call *call, struct reply *r)
{
	const Teehsm__Request *q = call->q;
	struct srv_az az;
	CK_TOKEN_INFO ti;
	CK_RV rv;
	size_t len = sizeof(ti.label);

	memset(&az, 0, sizeof(az));
	az.rule = az_rule_for(q->call_case);
	if (!az.rule || az.rule->kind == AZ_FREE) {
		rv = call->h->fn(p, q, r);
		if (az.rule && az.rule->audit)
			az_audit(p, q, &az, call->h->name, rv);
		return rv;
	}
	/* The token's label, for token= rules: what C_GetTokenInfo says now. */
	if (ta_C_GetTokenInfo(p->tc, TA_SLOT_ID, &ti) == CKR_OK) {
		while (len > 0 && ti.label[len - 1] == ' ')
			len--;
		memcpy(az.token, ti.label, len);
	}
	rv = az_check(p, q, call->policy, &az);
	if (rv == CKR_OK) {
		rv = call->h->fn(p, q, r);
		if (az.rule->kind == AZ_FIND && rv == CKR_OK) {
			r->resp.rv = rv;
			rv = az_filter_find(p, q, call->policy, &az, r);
		} else if (az.rule->kind == AZ_SLOT_LIST && r->resp.get_slot_list &&
			   !policy_token_visible(call->policy, &p->auth.id, az.token)) {
			/* The one slot of this token core is not there for this identity. */
			r->u.slot_list.out_len = 0;
			r->u.slot_list.n_slots = 0;
		}
	}
	if (az.denied)
		log_info("%s: %s refused (%s)", p->identity, call->h->name, az.denied);
	if (az.rule->audit || az.denied)
		az_audit(p, q, &az, call->h->name, rv);
	az_name_clear(&az.name);
	return rv;
}
