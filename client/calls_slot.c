/* §5.5 Slot and token management, forwarded to teehsmd. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "cli_calls.h"

static CK_RV slot_info_from_wire(CK_SLOT_INFO *dst, const Teehsm__SlotInfo *w)
{
	CK_SLOT_INFO s;

	memset(&s, 0, sizeof(s));
	if (codec_fixed_from_wire(s.slotDescription, sizeof(s.slotDescription),
				  &w->slot_description) ||
	    codec_fixed_from_wire(s.manufacturerID, sizeof(s.manufacturerID),
				  &w->manufacturer_id) ||
	    cli_ulong_from_wire(w->flags, &s.flags) != CKR_OK ||
	    codec_version_from_wire(&s.hardwareVersion, w->hardware_version) ||
	    codec_version_from_wire(&s.firmwareVersion, w->firmware_version))
		return CKR_DEVICE_ERROR;
	*dst = s;
	return CKR_OK;
}

static CK_RV token_info_from_wire(CK_TOKEN_INFO *dst, const Teehsm__TokenInfo *w)
{
	CK_TOKEN_INFO t;
	const struct {
		uint64_t v;
		CK_ULONG *out;
	} nums[] = {
		{ w->flags, &t.flags },
		{ w->max_session_count, &t.ulMaxSessionCount },
		{ w->session_count, &t.ulSessionCount },
		{ w->max_rw_session_count, &t.ulMaxRwSessionCount },
		{ w->rw_session_count, &t.ulRwSessionCount },
		{ w->max_pin_len, &t.ulMaxPinLen },
		{ w->min_pin_len, &t.ulMinPinLen },
		{ w->total_public_memory, &t.ulTotalPublicMemory },
		{ w->free_public_memory, &t.ulFreePublicMemory },
		{ w->total_private_memory, &t.ulTotalPrivateMemory },
		{ w->free_private_memory, &t.ulFreePrivateMemory },
	};

	memset(&t, 0, sizeof(t));
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (cli_ulong_from_wire(nums[i].v, nums[i].out) != CKR_OK)
			return CKR_DEVICE_ERROR;
	if (codec_fixed_from_wire(t.label, sizeof(t.label), &w->label) ||
	    codec_fixed_from_wire(t.manufacturerID, sizeof(t.manufacturerID),
				  &w->manufacturer_id) ||
	    codec_fixed_from_wire(t.model, sizeof(t.model), &w->model) ||
	    codec_fixed_from_wire(t.serialNumber, sizeof(t.serialNumber), &w->serial_number) ||
	    codec_fixed_from_wire(t.utcTime, sizeof(t.utcTime), &w->utc_time) ||
	    codec_version_from_wire(&t.hardwareVersion, w->hardware_version) ||
	    codec_version_from_wire(&t.firmwareVersion, w->firmware_version))
		return CKR_DEVICE_ERROR;
	*dst = t;
	return CKR_OK;
}

/* The slots of one server in the application's numbering, appended to *list (of *n, room for
 * *cap): CKR_OK, or why the server could not say. Slots the numbering cannot show are left out
 * (logged). */
static CK_RV server_slots(size_t server, CK_BBOOL tokenPresent, CK_SLOT_ID **list, size_t *n,
			  size_t *cap)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__GetSlotListRequest a = TEEHSM__GET_SLOT_LIST_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	const Teehsm__GetSlotListResponse *r = NULL;
	uint64_t room = 16;
	CK_RV rv = CKR_GENERAL_ERROR;

	a.token_present = tokenPresent != CK_FALSE;
	q.call_case = TEEHSM__REQUEST__CALL_GET_SLOT_LIST;
	q.get_slot_list = &a;
	/* Ask for the list with room to spare; a server with more slots says how many. */
	for (int tries = 0; tries < 3; tries++) {
		a.has_out_len = 1;
		a.out_len = room;
		codec_response_free(resp);
		rv = cli_call_server(server, 0, &q, TEEHSM__RESPONSE__RESULT_GET_SLOT_LIST, NULL,
				     &resp);
		if (rv != CKR_BUFFER_TOO_SMALL)
			break;
		if (!resp || resp->result_case != TEEHSM__RESPONSE__RESULT_GET_SLOT_LIST ||
		    resp->get_slot_list->out_len <= room ||
		    resp->get_slot_list->out_len > CODEC_DEFAULT_MAX_FRAME) {
			rv = CKR_DEVICE_ERROR;
			goto out;
		}
		room = resp->get_slot_list->out_len;
	}
	if (rv != CKR_OK)
		goto out;
	r = resp->get_slot_list;
	if (r->out_len != r->n_slots || r->n_slots > room) {
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	for (size_t i = 0; i < r->n_slots; i++) {
		if (!cli_slot_presentable(r->slots[i])) {
			log_error("server %zu reports slot %" PRIu64 ", beyond the %lu this module "
				  "can show per server: left out",
				  server, r->slots[i], (unsigned long)1 << CLI_SLOT_SHIFT);
			continue;
		}
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 8;
			CK_SLOT_ID *v = realloc(*list, c * sizeof(*v));

			if (!v) {
				rv = CKR_HOST_MEMORY;
				goto out;
			}
			*list = v;
			*cap = c;
		}
		(*list)[(*n)++] = cli_slot_from_server(server, r->slots[i]);
	}
	rv = CKR_OK;
out:
	codec_response_free(resp);
	return rv;
}

/* The slots of every server, in the order of the config. A server that cannot be reached
 * contributes none (the others still answer); only when no server answers is the call an
 * error. */
CK_RV cli_C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount)
{
	struct cli_rpc *const *srv = NULL;
	CK_SLOT_ID *list = NULL;
	size_t nsrv = 0, n = 0, cap = 0, answered = 0;
	CK_RV rv = cli_begin(&srv, &nsrv), first_err = CKR_OK;

	if (rv != CKR_OK)
		return rv;
	cli_end(); /* only the count was needed; each call below counts itself */
	if (!pulCount)
		return CKR_ARGUMENTS_BAD;
	for (size_t i = 0; i < nsrv; i++) {
		rv = server_slots(i, tokenPresent, &list, &n, &cap);
		if (rv == CKR_OK) {
			answered++;
		} else {
			if (first_err == CKR_OK)
				first_err = rv;
			log_debug("server %zu: C_GetSlotList: rv 0x%lx: its slots are left out", i,
				  rv);
			if (rv == CKR_HOST_MEMORY || rv == CKR_CRYPTOKI_NOT_INITIALIZED)
				goto out;
		}
	}
	if (!answered) {
		rv = first_err;
		goto out;
	}
	if (pSlotList && *pulCount < n)
		rv = CKR_BUFFER_TOO_SMALL;
	else
		rv = CKR_OK;
	if (rv == CKR_OK && pSlotList && n)
		memcpy(pSlotList, list, n * sizeof(*list));
	*pulCount = n;
out:
	free(list);
	return rv;
}

CK_RV cli_C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__GetSlotInfoRequest a = TEEHSM__GET_SLOT_INFO_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pInfo)
		return CKR_ARGUMENTS_BAD;
	a.slot_id = codec_ulong_to_wire(slotID);
	q.call_case = TEEHSM__REQUEST__CALL_GET_SLOT_INFO;
	q.get_slot_info = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT_GET_SLOT_INFO, &resp);
	if (rv == CKR_OK)
		rv = slot_info_from_wire(pInfo, resp->get_slot_info->info);
	codec_response_free(resp);
	return rv;
}

CK_RV cli_C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__GetTokenInfoRequest a = TEEHSM__GET_TOKEN_INFO_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pInfo)
		return CKR_ARGUMENTS_BAD;
	a.slot_id = codec_ulong_to_wire(slotID);
	q.call_case = TEEHSM__REQUEST__CALL_GET_TOKEN_INFO;
	q.get_token_info = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT_GET_TOKEN_INFO, &resp);
	if (rv == CKR_OK)
		rv = token_info_from_wire(pInfo, resp->get_token_info->info);
	codec_response_free(resp);
	return rv;
}

CK_RV cli_C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList,
			     CK_ULONG_PTR pulCount)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__GetMechanismListRequest a = TEEHSM__GET_MECHANISM_LIST_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	const Teehsm__GetMechanismListResponse *r = NULL;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pulCount)
		return CKR_ARGUMENTS_BAD;
	a.slot_id = codec_ulong_to_wire(slotID);
	cli_out_len_to_wire(&a.has_out_len, &a.out_len, pMechanismList, pulCount);
	q.call_case = TEEHSM__REQUEST__CALL_GET_MECHANISM_LIST;
	q.get_mechanism_list = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT_GET_MECHANISM_LIST, &resp);
	if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL)
		goto out;
	if (resp->result_case != TEEHSM__RESPONSE__RESULT_GET_MECHANISM_LIST) {
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	r = resp->get_mechanism_list;
	if (cli_ulongs_from_wire(rv, pMechanismList, pulCount, r->out_len, r->mechanisms,
				 r->n_mechanisms) != CKR_OK)
		rv = CKR_DEVICE_ERROR;
out:
	codec_response_free(resp);
	return rv;
}

CK_RV cli_C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__GetMechanismInfoRequest a = TEEHSM__GET_MECHANISM_INFO_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	const Teehsm__MechanismInfo *w = NULL;
	CK_MECHANISM_INFO info;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pInfo)
		return CKR_ARGUMENTS_BAD;
	a.slot_id = codec_ulong_to_wire(slotID);
	a.type = codec_ulong_to_wire(type);
	q.call_case = TEEHSM__REQUEST__CALL_GET_MECHANISM_INFO;
	q.get_mechanism_info = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT_GET_MECHANISM_INFO, &resp);
	if (rv != CKR_OK)
		goto out;
	w = resp->get_mechanism_info->info;
	memset(&info, 0, sizeof(info));
	if (cli_ulong_from_wire(w->min_key_size, &info.ulMinKeySize) != CKR_OK ||
	    cli_ulong_from_wire(w->max_key_size, &info.ulMaxKeySize) != CKR_OK ||
	    cli_ulong_from_wire(w->flags, &info.flags) != CKR_OK) {
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	*pInfo = info;
out:
	codec_response_free(resp);
	return rv;
}

CK_RV cli_C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen,
		      CK_UTF8CHAR_PTR pLabel)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__InitTokenRequest a = TEEHSM__INIT_TOKEN_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pLabel)
		return CKR_ARGUMENTS_BAD;
	rv = cli_pin_to_wire(&a.has_pin, &a.pin, pPin, ulPinLen);
	if (rv != CKR_OK)
		return rv;
	a.slot_id = codec_ulong_to_wire(slotID);
	codec_fixed_to_wire(&a.label, pLabel, 32); /* CK_TOKEN_INFO.label: 32 bytes */
	q.call_case = TEEHSM__REQUEST__CALL_INIT_TOKEN;
	q.init_token = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp);
	codec_response_free(resp);
	return rv;
}

CK_RV cli_C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__InitPinRequest a = TEEHSM__INIT_PIN_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	rv = cli_pin_to_wire(&a.has_pin, &a.pin, pPin, ulPinLen);
	if (rv != CKR_OK)
		return rv;
	a.session = codec_ulong_to_wire(hSession);
	q.call_case = TEEHSM__REQUEST__CALL_INIT_PIN;
	q.init_pin = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp);
	codec_response_free(resp);
	return rv;
}

CK_RV cli_C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen,
		   CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__SetPinRequest a = TEEHSM__SET_PIN_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	rv = cli_pin_to_wire(&a.has_old_pin, &a.old_pin, pOldPin, ulOldLen);
	if (rv != CKR_OK)
		return rv;
	rv = cli_pin_to_wire(&a.has_new_pin, &a.new_pin, pNewPin, ulNewLen);
	if (rv != CKR_OK)
		return rv;
	a.session = codec_ulong_to_wire(hSession);
	q.call_case = TEEHSM__REQUEST__CALL_SET_PIN;
	q.set_pin = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp);
	codec_response_free(resp);
	return rv;
}
