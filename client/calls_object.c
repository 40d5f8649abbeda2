/* §5.7 Object management, forwarded to teehsmd. Templates go through the codec both ways. */
#include "cli_calls.h"

CK_RV cli_C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
			 CK_OBJECT_HANDLE_PTR phObject)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__CreateObjectRequest a = TEEHSM__CREATE_OBJECT_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	struct codec_attrs attrs = { NULL, 0 };
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if ((!pTemplate && ulCount) || !phObject)
		return CKR_ARGUMENTS_BAD;
	rv = codec_template_to_wire(&attrs, pTemplate, ulCount);
	if (rv != CKR_OK)
		goto out;
	a.session = codec_ulong_to_wire(hSession);
	a.template_ = attrs.v;
	a.n_template_ = attrs.n;
	q.call_case = TEEHSM__REQUEST__CALL_CREATE_OBJECT;
	q.create_object = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT_CREATE_OBJECT, &resp);
	rv = cli_object_answer(rv, resp, TEEHSM__RESPONSE__RESULT_CREATE_OBJECT, phObject);
out:
	codec_response_free(resp);
	codec_attrs_free(&attrs);
	return rv;
}

CK_RV cli_C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
		       CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
		       CK_OBJECT_HANDLE_PTR phNewObject)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__CopyObjectRequest a = TEEHSM__COPY_OBJECT_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	struct codec_attrs attrs = { NULL, 0 };
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if ((!pTemplate && ulCount) || !phNewObject)
		return CKR_ARGUMENTS_BAD;
	rv = codec_template_to_wire(&attrs, pTemplate, ulCount);
	if (rv != CKR_OK)
		goto out;
	a.session = codec_ulong_to_wire(hSession);
	a.object = codec_ulong_to_wire(hObject);
	a.template_ = attrs.v;
	a.n_template_ = attrs.n;
	q.call_case = TEEHSM__REQUEST__CALL_COPY_OBJECT;
	q.copy_object = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT_COPY_OBJECT, &resp);
	rv = cli_object_answer(rv, resp, TEEHSM__RESPONSE__RESULT_COPY_OBJECT, phNewObject);
out:
	codec_response_free(resp);
	codec_attrs_free(&attrs);
	return rv;
}

CK_RV cli_C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
			  CK_ULONG_PTR pulSize)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__GetObjectSizeRequest a = TEEHSM__GET_OBJECT_SIZE_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_ULONG size = 0;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pulSize)
		return CKR_ARGUMENTS_BAD;
	a.session = codec_ulong_to_wire(hSession);
	a.object = codec_ulong_to_wire(hObject);
	q.call_case = TEEHSM__REQUEST__CALL_GET_OBJECT_SIZE;
	q.get_object_size = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT_GET_OBJECT_SIZE, &resp);
	if (rv == CKR_OK)
		rv = cli_ulong_from_wire(resp->get_object_size->size, &size);
	if (rv == CKR_OK)
		*pulSize = size;
	codec_response_free(resp);
	return rv;
}

CK_RV cli_C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
			      CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__SetAttributeValueRequest a = TEEHSM__SET_ATTRIBUTE_VALUE_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	struct codec_attrs attrs = { NULL, 0 };
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pTemplate && ulCount)
		return CKR_ARGUMENTS_BAD;
	rv = codec_template_to_wire(&attrs, pTemplate, ulCount);
	if (rv != CKR_OK)
		goto out;
	a.session = codec_ulong_to_wire(hSession);
	a.object = codec_ulong_to_wire(hObject);
	a.template_ = attrs.v;
	a.n_template_ = attrs.n;
	q.call_case = TEEHSM__REQUEST__CALL_SET_ATTRIBUTE_VALUE;
	q.set_attribute_value = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp);
out:
	codec_response_free(resp);
	codec_attrs_free(&attrs);
	return rv;
}

CK_RV cli_C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__DestroyObjectRequest a = TEEHSM__DESTROY_OBJECT_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	a.session = codec_ulong_to_wire(hSession);
	a.object = codec_ulong_to_wire(hObject);
	q.call_case = TEEHSM__REQUEST__CALL_DESTROY_OBJECT;
	q.destroy_object = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp);
	codec_response_free(resp);
	return rv;
}

/* The outcomes of C_GetAttributeValue that come with the template filled in (§5.7). */
static int answer_fills_template(CK_RV rv)
{
	return rv == CKR_OK || rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
	       rv == CKR_BUFFER_TOO_SMALL;
}

CK_RV cli_C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
			      CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__GetAttributeValueRequest a = TEEHSM__GET_ATTRIBUTE_VALUE_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	const Teehsm__GetAttributeValueResponse *r = NULL;
	struct codec_attrs attrs = { NULL, 0 };
	CK_RV crv = CKR_GENERAL_ERROR;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pTemplate && ulCount)
		return CKR_ARGUMENTS_BAD;
	rv = codec_query_to_wire(&attrs, pTemplate, ulCount);
	if (rv != CKR_OK)
		goto out;
	a.session = codec_ulong_to_wire(hSession);
	a.object = codec_ulong_to_wire(hObject);
	a.template_ = attrs.v;
	a.n_template_ = attrs.n;
	q.call_case = TEEHSM__REQUEST__CALL_GET_ATTRIBUTE_VALUE;
	q.get_attribute_value = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT_GET_ATTRIBUTE_VALUE, &resp);
	if (!resp || !answer_fills_template(rv))
		goto out;
	/* The server's rv stands (CKR_ATTRIBUTE_SENSITIVE and friends come with the filled
	 * template), unless the answer cannot be applied to the caller's template. */
	if (resp->result_case != TEEHSM__RESPONSE__RESULT_GET_ATTRIBUTE_VALUE) {
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	r = resp->get_attribute_value;
	crv = codec_answer_from_wire(pTemplate, ulCount, r->template_, r->n_template_);
	/* A template attribute's value could not travel: it is reported unavailable, as an
	 * attribute the object lacks would be, unless another exception is already reported. */
	if (crv == CKR_ATTRIBUTE_TYPE_INVALID && rv == CKR_OK)
		rv = crv;
	else if (crv != CKR_OK && crv != CKR_ATTRIBUTE_TYPE_INVALID)
		rv = CKR_DEVICE_ERROR;
out:
	codec_response_free(resp);
	codec_attrs_free(&attrs);
	return rv;
}

CK_RV cli_C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate,
			    CK_ULONG ulCount)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__FindObjectsInitRequest a = TEEHSM__FIND_OBJECTS_INIT_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	struct codec_attrs attrs = { NULL, 0 };
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pTemplate && ulCount)
		return CKR_ARGUMENTS_BAD;
	rv = codec_template_to_wire(&attrs, pTemplate, ulCount);
	if (rv != CKR_OK)
		goto out;
	a.session = codec_ulong_to_wire(hSession);
	a.template_ = attrs.v;
	a.n_template_ = attrs.n;
	q.call_case = TEEHSM__REQUEST__CALL_FIND_OBJECTS_INIT;
	q.find_objects_init = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp);
out:
	codec_response_free(resp);
	codec_attrs_free(&attrs);
	return rv;
}

CK_RV cli_C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject,
			CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__FindObjectsRequest a = TEEHSM__FIND_OBJECTS_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	const Teehsm__FindObjectsResponse *r = NULL;
	CK_ULONG count = ulMaxObjectCount;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!phObject || !pulObjectCount)
		return CKR_ARGUMENTS_BAD;
	a.session = codec_ulong_to_wire(hSession);
	a.max_count = codec_ulong_to_wire(ulMaxObjectCount);
	q.call_case = TEEHSM__REQUEST__CALL_FIND_OBJECTS;
	q.find_objects = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT_FIND_OBJECTS, &resp);
	if (rv != CKR_OK)
		goto out;
	r = resp->find_objects;
	/* The answer's length is the count: at most what the caller has room for. */
	if (cli_ulongs_from_wire(rv, phObject, &count, r->n_objects, r->objects, r->n_objects) !=
	    CKR_OK) {
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	*pulObjectCount = count;
out:
	codec_response_free(resp);
	return rv;
}

CK_RV cli_C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__FindObjectsFinalRequest a = TEEHSM__FIND_OBJECTS_FINAL_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	a.session = codec_ulong_to_wire(hSession);
	q.call_case = TEEHSM__REQUEST__CALL_FIND_OBJECTS_FINAL;
	q.find_objects_final = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp);
	codec_response_free(resp);
	return rv;
}
