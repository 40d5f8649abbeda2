/*
 * The crash test's child and checker (issue 3, "Sealed store, crash-safe"), through ta.h only.
 *
 *   crash_child STORE_DIR LOGFILE SEED       create and destroy token objects until killed
 *   crash_child --check STORE_DIR LOGFILE    reopen the store and check it against the log
 *
 * The child logs each operation twice, each line fsync'd before it goes on: "begin ..." before
 * the call and the result after it returned CKR_OK. So the log never claims more than the token
 * committed, and at most one operation (the last "begin" without its result) is in flight when
 * the child is killed. Objects are named by label: "k-<id hex>" for both halves of an EC P-256
 * key pair (which also carry CKA_ID = id), "d-<id hex>" for a data object (C_CreateObject, when
 * the token has it). Lines:
 *
 *   begin pair <id>              created pair <id> <CKA_EC_POINT hex>
 *   begin data <id>              created data <id> <sha256 of CKA_VALUE hex>
 *   begin destroy <id> <cls>     destroyed <id> <cls>          (cls: pub, priv or data)
 *   aborted <id>                 (by the checker: the operation in flight did not happen)
 *
 * The checker opens the store with ta_open (which must succeed and leave no temporary, pending
 * or commit file behind), finds every object and demands exactly the logged set, with the one
 * operation in flight either wholly done or not at all: never half a key pair. Every key pair
 * signs (ECDSA-SHA256) and the signature verifies with OpenSSL against the logged public point;
 * every public key has the logged point; every data object has the logged value. It then appends
 * the in-flight operation's outcome to the log, so the next child continues from a resolved log.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include "ta.h"

#define SO_PIN	  "crash-so-pin"
#define USER_PIN  "crash-user-pin"
#define ID_LEN	  8
#define POINT_LEN 67 /* DER OCTET STRING of an uncompressed P-256 point */
#define MAX_LIVE  96 /* the child destroys rather than creates beyond this many objects */
#define LINE_MAX_ 512

static const CK_BYTE p256_params[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static CK_BBOOL yes = CK_TRUE;

enum cls { CLS_PUB = 0, CLS_PRIV, CLS_DATA, CLS_N };
static const char *const cls_names[CLS_N] = { "pub", "priv", "data" };

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "crash_child: FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

#define CK(call)                                                                                   \
	do {                                                                                       \
		CK_RV rv_ = (call);                                                                \
		if (rv_ != CKR_OK)                                                                 \
			die("%s:%d: %s returned 0x%lx", __FILE__, __LINE__, #call, rv_);           \
	} while (0)

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

static bool unhex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return false;
		out[i] = (uint8_t)v;
	}
	return true;
}

/* The value of data object id: deterministic, so the checker can recompute it. */
static void data_value(const uint8_t *id, uint8_t *v)
{
	uint8_t in[10 + ID_LEN];

	memcpy(in, "crash-data", 10);
	memcpy(in + 10, id, ID_LEN);
	SHA256(in, sizeof(in), v);
}

/* --- the token --- */

struct tok {
	struct ta *ta;
	struct ta_client *c;
	CK_SESSION_HANDLE h;
	bool ready; /* initialised, user PIN set, logged in */
};

static void tok_open(struct tok *t, const char *dir, bool may_init)
{
	struct ta_config cfg = { .store_dir = dir, .pin_kdf_iterations = 1000 };
	CK_TOKEN_INFO ti;
	CK_UTF8CHAR label[32];

	memset(t, 0, sizeof(*t));
	CK(ta_open(&cfg, &t->ta));
	CK(ta_client_new(t->ta, &t->c));
	CK(ta_C_GetTokenInfo(t->c, TA_SLOT_ID, &ti));
	if (!(ti.flags & CKF_TOKEN_INITIALIZED)) {
		if (!may_init)
			return;
		memset(label, ' ', sizeof(label));
		memcpy(label, "crash", 5);
		CK(ta_C_InitToken(t->c, TA_SLOT_ID, (CK_UTF8CHAR_PTR)SO_PIN, strlen(SO_PIN),
				  label));
		ti.flags &= ~(CK_FLAGS)CKF_USER_PIN_INITIALIZED;
	}
	CK(ta_C_OpenSession(t->c, TA_SLOT_ID, CKF_SERIAL_SESSION | CKF_RW_SESSION, &t->h));
	if (!(ti.flags & CKF_USER_PIN_INITIALIZED)) {
		if (!may_init)
			return;
		CK(ta_C_Login(t->c, t->h, CKU_SO, (CK_UTF8CHAR_PTR)SO_PIN, strlen(SO_PIN)));
		CK(ta_C_InitPIN(t->c, t->h, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)));
		CK(ta_C_Logout(t->c, t->h));
	}
	CK(ta_C_Login(t->c, t->h, CKU_USER, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)));
	t->ready = true;
}

static void tok_close(struct tok *t)
{
	ta_client_free(t->c);
	ta_close(t->ta);
	memset(t, 0, sizeof(*t));
}

/* One object found in the token. */
struct found {
	CK_OBJECT_HANDLE h;
	uint8_t id[ID_LEN];
	enum cls cls;
};

/* Every object of the token, named by its label; anything else is a failure. */
static size_t tok_list(struct tok *t, struct found **out)
{
	CK_OBJECT_HANDLE hs[64];
	struct found *v = NULL;
	size_t n = 0;
	size_t cap = 0;
	CK_ULONG got = 0;

	CK(ta_C_FindObjectsInit(t->c, t->h, NULL, 0));
	do {
		CK(ta_C_FindObjects(t->c, t->h, hs, 64, &got));
		for (CK_ULONG i = 0; i < got; i++) {
			char label[32] = { 0 };
			CK_OBJECT_CLASS oc = 0;
			CK_ATTRIBUTE a[] = {
				{ CKA_CLASS, &oc, sizeof(oc) },
				{ CKA_LABEL, label, sizeof(label) - 1 },
			};
			struct found f = { .h = hs[i] };

			CK(ta_C_GetAttributeValue(t->c, t->h, hs[i], a, 2));
			label[a[1].ulValueLen] = '\0';
			if (oc == CKO_PUBLIC_KEY)
				f.cls = CLS_PUB;
			else if (oc == CKO_PRIVATE_KEY)
				f.cls = CLS_PRIV;
			else if (oc == CKO_DATA)
				f.cls = CLS_DATA;
			else
				die("object of unexpected class 0x%lx", oc);
			if (strlen(label) != 2 + 2 * ID_LEN || label[1] != '-' ||
			    label[0] != (f.cls == CLS_DATA ? 'd' : 'k') ||
			    !unhex(label + 2, f.id, ID_LEN))
				die("object with unexpected label '%s'", label);
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				v = realloc(v, cap * sizeof(*v));
				if (!v)
					die("out of memory");
			}
			v[n++] = f;
		}
	} while (got > 0);
	CK(ta_C_FindObjectsFinal(t->c, t->h));
	*out = v;
	return n;
}

/* --- the log --- */

static int log_fd = -1;

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...)
{
	char line[LINE_MAX_];
	va_list ap;
	int n = 0;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		die("log line too long");
	line[n++] = '\n';
	if (write(log_fd, line, (size_t)n) != n || fsync(log_fd) != 0)
		die("cannot write the log: %s", strerror(errno));
}

/* --- the child --- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void create_pair(struct tok *t, const uint8_t *id, struct found *pub, struct found *priv)
{
	CK_MECHANISM m = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	char idh[2 * ID_LEN + 1], label[3 + 2 * ID_LEN], ph[2 * POINT_LEN + 1];
	CK_BYTE point[POINT_LEN];
	CK_ATTRIBUTE pa = { CKA_EC_POINT, point, sizeof(point) };

	hex(id, ID_LEN, idh);
	snprintf(label, sizeof(label), "k-%s", idh);
	CK_ATTRIBUTE pt[] = {
		{ CKA_EC_PARAMS, (void *)p256_params, sizeof(p256_params) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_LABEL, label, strlen(label) },
		{ CKA_ID, (void *)id, ID_LEN },
		{ CKA_VERIFY, &yes, sizeof(yes) },
	};
	CK_ATTRIBUTE kt[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },     { CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) }, { CKA_LABEL, label, strlen(label) },
		{ CKA_ID, (void *)id, ID_LEN },	      { CKA_SIGN, &yes, sizeof(yes) },
	};

	log_line("begin pair %s", idh);
	CK(ta_C_GenerateKeyPair(t->c, t->h, &m, pt, 5, kt, 6, &pub->h, &priv->h));
	CK(ta_C_GetAttributeValue(t->c, t->h, pub->h, &pa, 1));
	if (pa.ulValueLen != POINT_LEN)
		die("CKA_EC_POINT of %lu bytes", pa.ulValueLen);
	hex(point, POINT_LEN, ph);
	log_line("created pair %s %s", idh, ph);
	memcpy(pub->id, id, ID_LEN);
	memcpy(priv->id, id, ID_LEN);
	pub->cls = CLS_PUB;
	priv->cls = CLS_PRIV;
}

static void create_data(struct tok *t, const uint8_t *id, struct found *d)
{
	char idh[2 * ID_LEN + 1], label[3 + 2 * ID_LEN], vh[2 * SHA256_DIGEST_LENGTH + 1];
	CK_OBJECT_CLASS oc = CKO_DATA;
	uint8_t value[SHA256_DIGEST_LENGTH], vhash[SHA256_DIGEST_LENGTH];

	hex(id, ID_LEN, idh);
	snprintf(label, sizeof(label), "d-%s", idh);
	data_value(id, value);
	SHA256(value, sizeof(value), vhash);
	hex(vhash, sizeof(vhash), vh);
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &oc, sizeof(oc) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_LABEL, label, strlen(label) },
		{ CKA_APPLICATION, (void *)"crash test", 10 },
		{ CKA_VALUE, value, sizeof(value) },
	};

	log_line("begin data %s", idh);
	CK(ta_C_CreateObject(t->c, t->h, tmpl, 6, &d->h));
	log_line("created data %s %s", idh, vh);
	memcpy(d->id, id, ID_LEN);
	d->cls = CLS_DATA;
}

static void destroy(struct tok *t, const struct found *f)
{
	char idh[2 * ID_LEN + 1];

	hex(f->id, ID_LEN, idh);
	log_line("begin destroy %s %s", idh, cls_names[f->cls]);
	CK(ta_C_DestroyObject(t->c, t->h, f->h));
	log_line("destroyed %s %s", idh, cls_names[f->cls]);
}

static int run_child(const char *dir, const char *logfile, const char *seed)
{
	struct tok t;
	struct found *live = NULL;
	size_t n = 0;
	bool have_create = false;
	CK_OBJECT_HANDLE ho = CK_INVALID_HANDLE;

	rng_state = strtoull(seed, NULL, 10) ^ ((uint64_t)getpid() << 32);
	log_fd = open(logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (log_fd < 0)
		die("cannot open %s: %s", logfile, strerror(errno));
	tok_open(&t, dir, true);
	n = tok_list(&t, &live);
	live = realloc(live, (MAX_LIVE + n + 2) * sizeof(*live));
	if (!live)
		die("out of memory");
	/* C_CreateObject exists when an empty template is refused for what it is. */
	have_create = ta_C_CreateObject(t.c, t.h, NULL, 0, &ho) != CKR_FUNCTION_NOT_SUPPORTED;
	fprintf(stderr, "crash_child: %zu objects, C_CreateObject %s\n", n,
		have_create ? "supported" : "not supported");
	for (;;) {
		uint64_t r = rnd() % 100;
		uint8_t id[ID_LEN];

		if (n >= MAX_LIVE || (n > 8 && r < 40)) {
			size_t i = (size_t)(rnd() % n);
			struct found gone = live[i];

			destroy(&t, &gone);
			live[i] = live[--n];
			/* Mostly the other half of a key pair goes too, as its own operation. */
			for (size_t j = 0; j < n && gone.cls != CLS_DATA && r % 4; j++) {
				if (memcmp(live[j].id, gone.id, ID_LEN) == 0) {
					destroy(&t, &live[j]);
					live[j] = live[--n];
					break;
				}
			}
			continue;
		}
		for (size_t i = 0; i < ID_LEN; i++)
			id[i] = (uint8_t)rnd();
		if (have_create && r % 4 == 0) {
			create_data(&t, id, &live[n]);
			n++;
		} else {
			create_pair(&t, id, &live[n], &live[n + 1]);
			n += 2;
		}
	}
	/* not reached: the test kills the child */
}

/* --- the checker --- */

/* What the log says about one id. */
struct ent {
	uint8_t id[ID_LEN];
	bool is_pair;
	bool has[CLS_N];	  /* present according to the log */
	uint8_t val[POINT_LEN];	  /* pair: the public point; data: sha256 of the value */
	struct found *obj[CLS_N]; /* what the token has */
};

struct model {
	struct ent *v;
	size_t n, cap;
	/* The operation in flight: a "begin" without its result. */
	bool pending;
	int op; /* 'p' pair, 'd' data, 'x' destroy */
	uint8_t op_id[ID_LEN];
	enum cls op_cls;
};

static struct ent *model_find(struct model *m, const uint8_t *id)
{
	for (size_t i = 0; i < m->n; i++) {
		if (memcmp(m->v[i].id, id, ID_LEN) == 0)
			return &m->v[i];
	}
	return NULL;
}

static struct ent *model_add(struct model *m, const uint8_t *id, bool is_pair)
{
	struct ent *e = model_find(m, id);

	if (e) {
		if (e->has[CLS_PUB] || e->has[CLS_PRIV] || e->has[CLS_DATA])
			die("log: id created twice");
		memset(e, 0, sizeof(*e));
	} else {
		if (m->n == m->cap) {
			m->cap = m->cap ? 2 * m->cap : 256;
			m->v = realloc(m->v, m->cap * sizeof(*m->v));
			if (!m->v)
				die("out of memory");
		}
		e = &m->v[m->n++];
		memset(e, 0, sizeof(*e));
	}
	memcpy(e->id, id, ID_LEN);
	e->is_pair = is_pair;
	return e;
}

static enum cls cls_parse(const char *s)
{
	for (int i = 0; i < CLS_N; i++) {
		if (strcmp(s, cls_names[i]) == 0)
			return (enum cls)i;
	}
	die("log: bad class '%s'", s);
}

/* Apply one complete log line. */
static void model_line(struct model *m, char *line, size_t lineno)
{
	char *w[4] = { 0 };
	size_t nw = 0;
	uint8_t id[ID_LEN];

	for (char *tok = strtok(line, " "); tok && nw < 4; tok = strtok(NULL, " "))
		w[nw++] = tok;
	if (nw < 2)
		die("log line %zu: malformed", lineno);
	if (strcmp(w[0], "begin") == 0) {
		if (m->pending)
			die("log line %zu: begin with an operation still in flight", lineno);
		if (nw < 3 || !unhex(w[2], m->op_id, ID_LEN))
			die("log line %zu: malformed", lineno);
		if (strcmp(w[1], "pair") == 0 || strcmp(w[1], "data") == 0) {
			m->op = w[1][0];
		} else if (strcmp(w[1], "destroy") == 0 && nw == 4) {
			m->op = 'x';
			m->op_cls = cls_parse(w[3]);
		} else {
			die("log line %zu: malformed", lineno);
		}
		m->pending = true;
		return;
	}
	if (!m->pending)
		die("log line %zu: a result without a begin", lineno);
	m->pending = false;
	if (strcmp(w[0], "aborted") == 0)
		return;
	if (strcmp(w[0], "created") == 0 && nw == 4 && unhex(w[2], id, ID_LEN) &&
	    memcmp(id, m->op_id, ID_LEN) == 0 && w[1][0] == m->op) {
		struct ent *e = model_add(m, id, m->op == 'p');

		if (e->is_pair) {
			if (!unhex(w[3], e->val, POINT_LEN))
				die("log line %zu: malformed point", lineno);
			e->has[CLS_PUB] = e->has[CLS_PRIV] = true;
		} else {
			if (!unhex(w[3], e->val, SHA256_DIGEST_LENGTH))
				die("log line %zu: malformed hash", lineno);
			e->has[CLS_DATA] = true;
		}
		return;
	}
	if (strcmp(w[0], "destroyed") == 0 && nw == 3 && unhex(w[1], id, ID_LEN) &&
	    memcmp(id, m->op_id, ID_LEN) == 0 && m->op == 'x' && cls_parse(w[2]) == m->op_cls) {
		struct ent *e = model_find(m, id);

		if (!e || !e->has[m->op_cls])
			die("log line %zu: destroyed an object that did not exist", lineno);
		e->has[m->op_cls] = false;
		return;
	}
	die("log line %zu: does not match its begin", lineno);
}

/* Read the log, dropping a last line cut short by the kill (it was never complete, so nothing
 * relies on it), and leave log_fd open for appending the resolution. */
static void model_read(struct model *m, const char *logfile)
{
	FILE *f = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len = 0;
	off_t good = 0;
	size_t lineno = 0;

	memset(m, 0, sizeof(*m));
	f = fopen(logfile, "r");
	if (!f) {
		if (errno != ENOENT)
			die("cannot read %s: %s", logfile, strerror(errno));
	} else {
		while ((len = getline(&line, &cap, f)) > 0) {
			if (line[len - 1] != '\n')
				break;
			line[len - 1] = '\0';
			good += len;
			model_line(m, line, ++lineno);
		}
		free(line);
		fclose(f);
	}
	log_fd = open(logfile, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (log_fd < 0 || ftruncate(log_fd, good) != 0 || lseek(log_fd, 0, SEEK_END) != good)
		die("cannot open %s: %s", logfile, strerror(errno));
}

static bool verify_p256(const uint8_t *q, const uint8_t *hash, const uint8_t *sig)
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *kctx = NULL;
	EVP_PKEY_CTX *vctx = NULL;
	EVP_PKEY *pkey = NULL;
	ECDSA_SIG *es = NULL;
	unsigned char *der = NULL;
	int der_len = 0;
	bool ok = false;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)"prime256v1", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)q, 65);
	params[2] = OSSL_PARAM_construct_end();
	kctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!kctx || EVP_PKEY_fromdata_init(kctx) != 1 ||
	    EVP_PKEY_fromdata(kctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	es = ECDSA_SIG_new();
	if (!es || ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL)) != 1)
		goto out;
	der_len = i2d_ECDSA_SIG(es, &der);
	if (der_len <= 0)
		goto out;
	vctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!vctx || EVP_PKEY_verify_init(vctx) != 1)
		goto out;
	ok = EVP_PKEY_verify(vctx, der, (size_t)der_len, hash, 32) == 1;
out:
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	EVP_PKEY_CTX_free(vctx);
	EVP_PKEY_CTX_free(kctx);
	EVP_PKEY_free(pkey);
	return ok;
}

/* Check that the objects of e the token has are intact; for an object created in flight, fill
 * in e->val from the token. */
static void check_ent(struct tok *t, struct ent *e, bool fill)
{
	char idh[2 * ID_LEN + 1];

	hex(e->id, ID_LEN, idh);
	if (e->obj[CLS_PUB]) {
		CK_BYTE point[POINT_LEN + 1];
		CK_BYTE id[ID_LEN + 1];
		CK_ATTRIBUTE a[] = {
			{ CKA_EC_POINT, point, sizeof(point) },
			{ CKA_ID, id, sizeof(id) },
		};

		CK(ta_C_GetAttributeValue(t->c, t->h, e->obj[CLS_PUB]->h, a, 2));
		if (a[0].ulValueLen != POINT_LEN || a[1].ulValueLen != ID_LEN ||
		    memcmp(id, e->id, ID_LEN) != 0)
			die("public key %s: wrong CKA_EC_POINT or CKA_ID", idh);
		if (fill)
			memcpy(e->val, point, POINT_LEN);
		else if (memcmp(point, e->val, POINT_LEN) != 0)
			die("public key %s: CKA_EC_POINT differs from the log", idh);
	}
	if (e->obj[CLS_PRIV]) {
		CK_MECHANISM m = { CKM_ECDSA_SHA256, NULL, 0 };
		CK_BYTE data[] = "crash test: the key still signs";
		CK_BYTE sig[64], hash[32];
		CK_ULONG sig_len = sizeof(sig);
		CK_BYTE id[ID_LEN + 1];
		CK_ATTRIBUTE a = { CKA_ID, id, sizeof(id) };

		CK(ta_C_GetAttributeValue(t->c, t->h, e->obj[CLS_PRIV]->h, &a, 1));
		if (a.ulValueLen != ID_LEN || memcmp(id, e->id, ID_LEN) != 0)
			die("private key %s: wrong CKA_ID", idh);
		CK(ta_C_SignInit(t->c, t->h, &m, e->obj[CLS_PRIV]->h));
		CK(ta_C_Sign(t->c, t->h, data, sizeof(data), sig, &sig_len));
		SHA256(data, sizeof(data), hash);
		/* The logged point: the private key must match it even if its public half is
		 * gone. */
		if (sig_len != 64 || !verify_p256(e->val + 2, hash, sig))
			die("private key %s: signature does not verify with the logged public key",
			    idh);
	}
	if (e->obj[CLS_DATA]) {
		CK_BYTE v[SHA256_DIGEST_LENGTH + 1];
		uint8_t want[SHA256_DIGEST_LENGTH], h[SHA256_DIGEST_LENGTH];
		CK_ATTRIBUTE a = { CKA_VALUE, v, sizeof(v) };

		CK(ta_C_GetAttributeValue(t->c, t->h, e->obj[CLS_DATA]->h, &a, 1));
		data_value(e->id, want);
		if (a.ulValueLen != sizeof(want) || memcmp(v, want, sizeof(want)) != 0)
			die("data object %s: wrong CKA_VALUE", idh);
		SHA256(v, sizeof(want), h);
		if (fill)
			memcpy(e->val, h, sizeof(h));
		else if (memcmp(h, e->val, sizeof(h)) != 0)
			die("data object %s: CKA_VALUE differs from the log", idh);
	}
}

/* ta_open must have finished or undone every interrupted write. */
static void check_no_leftovers(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de = NULL;

	if (!d)
		die("cannot list %s", dir);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, ".tmp.", 5) == 0 || strncmp(de->d_name, "pend-", 5) == 0 ||
		    strcmp(de->d_name, "commit") == 0)
			die("ta_open left %s in the store", de->d_name);
	}
	closedir(d);
}

static int run_check(const char *dir, const char *logfile)
{
	struct model m;
	struct tok t;
	struct found *objs = NULL;
	struct ent *pe = NULL;
	size_t n = 0, pairs = 0, halves = 0, data = 0;
	char idh[2 * ID_LEN + 1], vh[2 * POINT_LEN + 1];
	const char *outcome = "none";

	model_read(&m, logfile);
	if (m.pending)
		outcome = m.op == 'x' ? "not destroyed" : "not created";
	tok_open(&t, dir, false);
	check_no_leftovers(dir);
	if (t.ready)
		n = tok_list(&t, &objs);
	/* Match what the token has against the log, by id and class. */
	for (size_t i = 0; i < n; i++) {
		struct ent *e = model_find(&m, objs[i].id);
		bool in_flight_create =
			m.pending && m.op != 'x' && memcmp(objs[i].id, m.op_id, ID_LEN) == 0;

		hex(objs[i].id, ID_LEN, idh);
		if (!e && in_flight_create)
			e = model_add(&m, objs[i].id, m.op == 'p');
		if (!e)
			die("object %s %s is in the token but not in the log", idh,
			    cls_names[objs[i].cls]);
		if (e->obj[objs[i].cls])
			die("object %s %s is in the token twice", idh, cls_names[objs[i].cls]);
		e->obj[objs[i].cls] = &objs[i];
	}
	if (m.pending)
		pe = model_find(&m, m.op_id);
	for (size_t i = 0; i < m.n; i++) {
		struct ent *e = &m.v[i];
		bool fill = false;

		hex(e->id, ID_LEN, idh);
		if (e == pe && m.op == 'x') {
			/* Destroyed or not: either is fine, the rest must be exact. */
			outcome = e->obj[m.op_cls] ? "not destroyed" : "destroyed";
			e->has[m.op_cls] = e->obj[m.op_cls] != NULL;
		} else if (e == pe) {
			/* Created wholly or not at all. */
			bool any = e->obj[CLS_PUB] || e->obj[CLS_PRIV] || e->obj[CLS_DATA];

			outcome = any ? "created" : "not created";
			if (m.op == 'p')
				e->has[CLS_PUB] = e->has[CLS_PRIV] = any;
			else
				e->has[CLS_DATA] = any;
			fill = any;
		}
		for (int k = 0; k < CLS_N; k++) {
			if (e->has[k] && !e->obj[k])
				die("object %s %s is in the log but not in the token%s", idh,
				    cls_names[k], e == pe ? " (half a key pair)" : "");
			if (!e->has[k] && e->obj[k])
				die("object %s %s is in the token but the log says it is gone%s",
				    idh, cls_names[k], e == pe ? " (half a key pair)" : "");
		}
		check_ent(&t, e, fill);
		if (e->obj[CLS_PUB] && e->obj[CLS_PRIV])
			pairs++;
		else if (e->obj[CLS_PUB] || e->obj[CLS_PRIV])
			halves++;
		else if (e->obj[CLS_DATA])
			data++;
	}
	/* The outcome of the operation in flight, for the next child. */
	if (m.pending) {
		hex(m.op_id, ID_LEN, idh);
		if (m.op == 'x' && pe && !pe->has[m.op_cls])
			log_line("destroyed %s %s", idh, cls_names[m.op_cls]);
		else if (m.op != 'x' && pe && (pe->has[CLS_PUB] || pe->has[CLS_DATA])) {
			hex(pe->val, m.op == 'p' ? POINT_LEN : SHA256_DIGEST_LENGTH, vh);
			log_line("created %s %s %s", m.op == 'p' ? "pair" : "data", idh, vh);
		} else {
			log_line("aborted %s", idh);
		}
	}
	printf("checked %zu objects: %zu key pairs, %zu half-destroyed pairs, %zu data objects; "
	       "in flight: %s\n",
	       n, pairs, halves, data, m.pending ? outcome : "none");
	free(objs);
	free(m.v);
	close(log_fd);
	tok_close(&t);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--check") == 0)
		return run_check(argv[2], argv[3]);
	if (argc == 4 && argv[1][0] != '-')
		return run_child(argv[1], argv[2], argv[3]);
	fprintf(stderr, "usage: crash_child STORE_DIR LOGFILE SEED\n"
			"       crash_child --check STORE_DIR LOGFILE\n");
	return 2;
}
