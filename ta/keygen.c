/* C_GenerateKeyPair and C_GenerateKey (§5.14): templates through the class rules, the access
 * checks, the mechanism's processing, then the token-set attributes and an all-or-nothing
 * commit. */
#include <string.h>

#include "common/log.h"
#include "mech.h"
#include "processing.h"

/* EC and Ed25519: the curve is given in the public template; the private key carries the same
 * CKA_EC_PARAMS (given again identically, or contributed here). */
static CK_RV ec_share_params(const struct attrs *pub, struct attrs *priv)
{
	const struct attr *pp = attrs_find(pub, CKA_EC_PARAMS);
	const struct attr *kp = attrs_find(priv, CKA_EC_PARAMS);

	if (!pp)
		return CKR_TEMPLATE_INCOMPLETE;
	if (kp)
		return kp->len == pp->len && memcmp(kp->val, pp->val, pp->len) == 0
			       ? CKR_OK
			       : CKR_TEMPLATE_INCONSISTENT;
	return attrs_set(priv, CKA_EC_PARAMS, pp->val, pp->len);
}

/* RSA: a CKA_PUBLIC_EXPONENT in the private template must match the public one. */
static CK_RV rsa_check_exponent(const struct attrs *pub, const struct attrs *priv)
{
	const struct attr *pe = attrs_find(pub, CKA_PUBLIC_EXPONENT);
	const struct attr *ke = attrs_find(priv, CKA_PUBLIC_EXPONENT);

	if (!ke)
		return CKR_OK;
	if (!pe || pe->len != ke->len || memcmp(pe->val, ke->val, ke->len) != 0)
		return CKR_TEMPLATE_INCONSISTENT;
	return CKR_OK;
}

/* The attributes only the token sets, now that the key exists (§4.7, §4.9). */
static CK_RV set_generated(struct attrs *a, CK_MECHANISM_TYPE mech, bool secret)
{
	CK_RV rv = attrs_set_bool(a, CKA_LOCAL, true);

	if (rv == CKR_OK)
		rv = attrs_set_ulong(a, CKA_KEY_GEN_MECHANISM, mech);
	if (rv == CKR_OK && secret)
		rv = attrs_set_bool(a, CKA_ALWAYS_SENSITIVE, attrs_get_bool(a, CKA_SENSITIVE));
	if (rv == CKR_OK && secret)
		rv = attrs_set_bool(a, CKA_NEVER_EXTRACTABLE, !attrs_get_bool(a, CKA_EXTRACTABLE));
	return rv;
}

CK_RV keygen_pair(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m,
		  CK_ATTRIBUTE_PTR pub_tmpl, CK_ULONG pub_n, CK_ATTRIBUTE_PTR priv_tmpl,
		  CK_ULONG priv_n, CK_OBJECT_HANDLE_PTR hpub, CK_OBJECT_HANDLE_PTR hpriv)
{
	const struct mech_info *mi = NULL;
	struct attrs pa = { 0 };
	struct attrs ka = { 0 };
	struct obj *pub = NULL;
	struct obj *priv = NULL;
	struct sess *s = NULL;
	const struct obj *both[2] = { NULL, NULL };
	CK_OBJECT_HANDLE h_pub = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE h_priv = CK_INVALID_HANDLE;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	if (!hpub || !hpriv)
		return CKR_ARGUMENTS_BAD;
	*hpub = CK_INVALID_HANDLE;
	*hpriv = CK_INVALID_HANDLE;
	rv = mech_check(m, CKF_GENERATE_KEY_PAIR, &mi);
	if (rv != CKR_OK)
		goto out;
	rv = attr_from_gen_template(CKO_PUBLIC_KEY, mi->key_type, pub_tmpl, pub_n, &pa);
	if (rv != CKR_OK)
		goto out;
	rv = attr_from_gen_template(CKO_PRIVATE_KEY, mi->key_type, priv_tmpl, priv_n, &ka);
	if (rv != CKR_OK)
		goto out;
	if (mi->family == MECH_FAMILY_EC || mi->family == MECH_FAMILY_EDDSA)
		rv = ec_share_params(&pa, &ka);
	else
		rv = rsa_check_exponent(&pa, &ka);
	if (rv != CKR_OK)
		goto out;
	rv = attr_complete(CKO_PUBLIC_KEY, mi->key_type, &pa);
	if (rv != CKR_OK)
		goto out;
	rv = attr_complete(CKO_PRIVATE_KEY, mi->key_type, &ka);
	if (rv != CKR_OK)
		goto out;
	rv = obj_check_create(s, &pa);
	if (rv != CKR_OK)
		goto out;
	rv = obj_check_create(s, &ka);
	if (rv != CKR_OK)
		goto out;

	/* The generation itself works on pa and ka alone, which no other thread can see: it runs
	 * without the ta lock, so a 4096-bit RSA key (seconds) does not stall every other
	 * client. Afterwards the session and the access checks are looked at again, since
	 * another thread may have closed the session or logged out meanwhile. */
	s = NULL;
	pthread_mutex_unlock(&c->ta->lock);
	switch (mi->family) {
	case MECH_FAMILY_EC:
		rv = proc_ec_generate_pair(&pa, &ka);
		break;
	case MECH_FAMILY_RSA:
		rv = proc_rsa_generate_pair(&pa, &ka);
		break;
	case MECH_FAMILY_EDDSA:
		rv = proc_eddsa_generate_pair(&pa, &ka);
		break;
	default:
		rv = CKR_MECHANISM_INVALID;
		break;
	}
	pthread_mutex_lock(&c->ta->lock);
	if (rv != CKR_OK)
		goto out;
	rv = sess_get(c, hs, &s);
	if (rv == CKR_OK)
		rv = obj_check_create(s, &pa);
	if (rv == CKR_OK)
		rv = obj_check_create(s, &ka);
	if (rv != CKR_OK)
		goto out;
	rv = set_generated(&pa, m->mechanism, false);
	if (rv == CKR_OK)
		rv = set_generated(&ka, m->mechanism, true);
	if (rv != CKR_OK)
		goto out;

	pub = obj_new(c->ta);
	priv = obj_new(c->ta);
	while (pub && priv && priv->oid == pub->oid) {
		obj_free(priv);
		priv = obj_new(c->ta);
	}
	if (!pub || !priv) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	pub->a = pa;
	memset(&pa, 0, sizeof(pa)); /* the object owns the attributes now */
	priv->a = ka;
	memset(&ka, 0, sizeof(ka));
	if (!obj_is_token(pub))
		pub->owner = s;
	if (!obj_is_token(priv))
		priv->owner = s;
	rv = obj_handle(c, pub, &h_pub);
	if (rv == CKR_OK)
		rv = obj_handle(c, priv, &h_priv);
	if (rv != CKR_OK)
		goto out;
	/* Both or neither, even across a crash. */
	both[0] = pub;
	both[1] = priv;
	rv = store_obj_write_group(c->ta, both, 2);
	if (rv != CKR_OK)
		goto out;
	obj_link(c->ta, pub);
	obj_link(c->ta, priv);
	pub = NULL; /* the object list owns them now */
	priv = NULL;
	*hpub = h_pub;
	*hpriv = h_priv;
	rv = CKR_OK;
out:
	obj_free(pub);
	obj_free(priv);
	attrs_free(&pa);
	attrs_free(&ka);
	return rv;
}

CK_RV keygen_secret(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m,
		    CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_OBJECT_HANDLE_PTR ph)
{
	const struct mech_info *mi = NULL;
	struct attrs a = { 0 };
	struct sess *s = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	if (!ph)
		return CKR_ARGUMENTS_BAD;
	*ph = CK_INVALID_HANDLE;
	rv = mech_check(m, CKF_GENERATE, &mi);
	if (rv != CKR_OK)
		goto out;
	rv = attr_from_gen_template(CKO_SECRET_KEY, mi->key_type, tmpl, n, &a);
	if (rv != CKR_OK)
		goto out;
	rv = attr_complete(CKO_SECRET_KEY, mi->key_type, &a);
	if (rv != CKR_OK)
		goto out;
	rv = obj_check_create(s, &a);
	if (rv != CKR_OK)
		goto out;
	rv = proc_secret_generate(m->mechanism, &a);
	if (rv == CKR_OK)
		rv = set_generated(&a, m->mechanism, true);
	if (rv == CKR_OK)
		rv = obj_secret_check_value(&a);
	if (rv != CKR_OK)
		goto out;
	rv = obj_add(c, s, &a, ph); /* takes a */
out:
	attrs_free(&a);
	return rv;
}
