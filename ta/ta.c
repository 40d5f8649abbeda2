/* Opening and closing the core, clients, and small helpers shared by the modules. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "core.h"
#include "port/rng.h"

CK_RV ta_random_handle(CK_ULONG *out)
{
	uint32_t v = 0;

	do {
		if (port_rng_bytes(&v, sizeof(v)) != 0)
			return CKR_FUNCTION_FAILED;
	} while (v == 0);
	*out = v;
	return CKR_OK;
}

void ta_pad(uint8_t *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	memset(dst, ' ', len);
	memcpy(dst, src, n < len ? n : len);
}

CK_RV ta_open(const struct ta_config *cfg, struct ta **out)
{
	struct ta *ta = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!out)
		return CKR_ARGUMENTS_BAD;
	*out = NULL;
	if (!cfg || !cfg->store_dir)
		return CKR_ARGUMENTS_BAD;
	/* PIN records keep the iteration count in 32 bits. */
	if (cfg->pin_kdf_iterations > UINT32_MAX) {
		log_error("ta: pin_kdf_iterations too large");
		return CKR_ARGUMENTS_BAD;
	}
	ta = calloc(1, sizeof(*ta));
	if (!ta)
		return CKR_HOST_MEMORY;
	if (pthread_mutex_init(&ta->lock, NULL) != 0) {
		free(ta);
		return CKR_CANT_LOCK;
	}
	ta->pin_iter = cfg->pin_kdf_iterations ? cfg->pin_kdf_iterations : TA_DEFAULT_PIN_ITER;
	ta->max_fails = cfg->max_pin_failures ? cfg->max_pin_failures : TA_DEFAULT_MAX_FAIL;
	ta->max_sessions = cfg->max_sessions ? cfg->max_sessions : TA_DEFAULT_MAX_SESS;
	rv = store_open(ta, cfg);
	if (rv != CKR_OK) {
		log_error("ta: cannot open the store at %s", cfg->store_dir);
		ta_close(ta);
		return rv;
	}
	*out = ta;
	return CKR_OK;
}

void ta_close(struct ta *ta)
{
	if (!ta)
		return;
	if (ta->clients) {
		log_warn("ta: closing with clients still open");
		while (ta->clients)
			ta_client_free(ta->clients);
	}
	obj_free_all(ta);
	find_index_free(ta);
	store_close(ta);
	wipe(&ta->tok, sizeof(ta->tok));
	pthread_mutex_destroy(&ta->lock);
	free(ta);
}

CK_RV ta_client_new(struct ta *ta, struct ta_client **out)
{
	struct ta_client *c = NULL;

	if (!out)
		return CKR_ARGUMENTS_BAD;
	*out = NULL;
	if (!ta)
		return CKR_ARGUMENTS_BAD;
	c = calloc(1, sizeof(*c));
	if (!c)
		return CKR_HOST_MEMORY;
	c->ta = ta;
	pthread_mutex_lock(&ta->lock);
	c->next = ta->clients;
	ta->clients = c;
	pthread_mutex_unlock(&ta->lock);
	*out = c;
	return CKR_OK;
}

unsigned long ta_client_session_count(struct ta_client *c)
{
	unsigned long n = 0;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->ta->lock);
	n = c->nsess;
	pthread_mutex_unlock(&c->ta->lock);
	return n;
}

void ta_client_free(struct ta_client *c)
{
	struct ta *ta = NULL;

	if (!c)
		return;
	ta = c->ta;
	pthread_mutex_lock(&ta->lock);
	sess_close_all_of(c);
	for (struct ta_client **pp = &ta->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	obj_handles_free(c);
	pthread_mutex_unlock(&ta->lock);
	free(c);
}
