/* §5.6 Session management, forwarded to teehsmd. */
#include <string.h>

#include "cli_calls.h"

CK_RV cli_C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication,
			CK_NOTIFY Notify, CK_SESSION_HANDLE_PTR phSession)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__OpenSessionRequest a = TEEHSM__OPEN_SESSION_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	struct cli_route route = { 0 };
	struct cli_session s = { 0 };
	CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv = cli_check_initialized();

	/* No callback crosses the wire: Notify is accepted and never called, as the spec allows
	 * (a token need not send CKN_SURRENDER). */
	(void)pApplication;
	(void)Notify;
	if (rv != CKR_OK)
		return rv;
	if (!phSession)
		return CKR_ARGUMENTS_BAD;
	a.slot_id = codec_ulong_to_wire(slotID);
	a.flags = codec_ulong_to_wire(flags);
	q.call_case = TEEHSM__REQUEST__CALL_OPEN_SESSION;
	q.open_session = &a;
	rv = cli_call_routed(&q, TEEHSM__RESPONSE__RESULT_OPEN_SESSION, &resp, &route);
	if (rv != CKR_OK)
		goto out;
	s.server = route.server;
	s.slot = route.slot;
	s.conn = route.conn;
	s.remote = resp->open_session->session;
	rv = cli_session_add(&s, &h);
	if (rv != CKR_OK) {
		/* The server has a session nobody can name: close it. */
		Teehsm__CloseSessionRequest c = TEEHSM__CLOSE_SESSION_REQUEST__INIT;
		Teehsm__Response *cresp = NULL;

		c.session = s.remote;
		q.call_case = TEEHSM__REQUEST__CALL_CLOSE_SESSION;
		q.close_session = &c;
		cli_call_server(s.server, s.conn, &q, TEEHSM__RESPONSE__RESULT__NOT_SET, NULL,
				&cresp);
		codec_response_free(cresp);
		goto out;
	}
	*phSession = h;
out:
	codec_response_free(resp);
	return rv;
}

/* A session whose connection is gone is closed already: forgetting it is all there is to do. */
CK_RV cli_C_CloseSession(CK_SESSION_HANDLE hSession)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__CloseSessionRequest a = TEEHSM__CLOSE_SESSION_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	a.session = codec_ulong_to_wire(hSession);
	q.call_case = TEEHSM__REQUEST__CALL_CLOSE_SESSION;
	q.close_session = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp);
	codec_response_free(resp);
	if (rv == CKR_DEVICE_REMOVED)
		rv = CKR_OK;
	if (rv == CKR_OK || rv == CKR_SESSION_HANDLE_INVALID)
		cli_session_forget(hSession);
	return rv;
}

CK_RV cli_C_CloseAllSessions(CK_SLOT_ID slotID)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__CloseAllSessionsRequest a = TEEHSM__CLOSE_ALL_SESSIONS_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	a.slot_id = codec_ulong_to_wire(slotID);
	q.call_case = TEEHSM__REQUEST__CALL_CLOSE_ALL_SESSIONS;
	q.close_all_sessions = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp);
	codec_response_free(resp);
	if (rv == CKR_OK)
		cli_session_forget_slot(slotID);
	return rv;
}

CK_RV cli_C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__GetSessionInfoRequest a = TEEHSM__GET_SESSION_INFO_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	const Teehsm__SessionInfo *w = NULL;
	struct cli_route route = { 0 };
	CK_SESSION_INFO info;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pInfo)
		return CKR_ARGUMENTS_BAD;
	a.session = codec_ulong_to_wire(hSession);
	q.call_case = TEEHSM__REQUEST__CALL_GET_SESSION_INFO;
	q.get_session_info = &a;
	rv = cli_call_routed(&q, TEEHSM__RESPONSE__RESULT_GET_SESSION_INFO, &resp, &route);
	if (rv != CKR_OK)
		goto out;
	w = resp->get_session_info->info;
	memset(&info, 0, sizeof(info));
	/* The session's slot is the one the application opened it in. */
	info.slotID = route.slot;
	if (cli_ulong_from_wire(w->state, &info.state) != CKR_OK ||
	    cli_ulong_from_wire(w->flags, &info.flags) != CKR_OK ||
	    cli_ulong_from_wire(w->device_error, &info.ulDeviceError) != CKR_OK ||
	    cli_slot_from_server(route.server, w->slot_id) != route.slot) {
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	*pInfo = info;
out:
	codec_response_free(resp);
	return rv;
}

CK_RV cli_C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
		  CK_ULONG ulPinLen)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__LoginRequest a = TEEHSM__LOGIN_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	rv = cli_pin_to_wire(&a.has_pin, &a.pin, pPin, ulPinLen);
	if (rv != CKR_OK)
		return rv;
	a.session = codec_ulong_to_wire(hSession);
	a.user_type = codec_ulong_to_wire(userType);
	q.call_case = TEEHSM__REQUEST__CALL_LOGIN;
	q.login = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp);
	codec_response_free(resp);
	return rv;
}

CK_RV cli_C_Logout(CK_SESSION_HANDLE hSession)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__LogoutRequest a = TEEHSM__LOGOUT_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	a.session = codec_ulong_to_wire(hSession);
	q.call_case = TEEHSM__REQUEST__CALL_LOGOUT;
	q.logout = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp);
	codec_response_free(resp);
	return rv;
}
