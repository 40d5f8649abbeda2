/*
 * audit: the audit log (DESIGN.md "Server model"): one JSON object per line per key use and per
 * management operation, appended to a file. Fields, in this order, absent ones omitted:
 *
 *   {"time":"2026-12-06T15:04:05.123Z","identity":"cn=build-signer","transport":"tls",
 *    "peer":"127.0.0.1:50312","token":"integ-token","call":"C_SignInit","session":3,
 *    "object_label":"release-2026","label_truncated":true,"object_id":"0a1b",
 *    "object_id_truncated":true,"mechanism":"CKM_ECDSA_SHA256","result":"CKR_OK","rv":0,
 *    "denied":"policy"}
 *
 * Strings are escaped so that every line is valid UTF-8 JSON: '"', '\\', control characters and
 * DEL as escapes, bytes that are not part of valid UTF-8 as \u00XX of the byte. Only what is in
 * the record is written: it has no field for a PIN, a key byte or plaintext.
 */
#ifndef TEEHSM_SERVER_AUDIT_H
#define TEEHSM_SERVER_AUDIT_H

#include <stddef.h>
#include <stdint.h>

/* Longest CKA_LABEL / CKA_ID (bytes) written whole; longer ones are cut and flagged with
 * "label_truncated" / "object_id_truncated". Other strings are cut at AUDIT_STR_MAX bytes. Every
 * line therefore fits a fixed buffer. */
#define AUDIT_LABEL_MAX 256
#define AUDIT_ID_MAX	256
#define AUDIT_STR_MAX	1024

/* One audit line. Every pointer may be NULL (field omitted) and belongs to the caller. */
struct audit_rec {
	const char *identity, *transport, *peer, *token, *call;
	int has_session;
	unsigned long session;
	const uint8_t *label; /* raw CKA_LABEL bytes, written as a JSON string */
	size_t label_len;
	int has_label;
	const uint8_t *obj_id; /* CKA_ID, written as lowercase hex */
	size_t obj_id_len;
	int has_obj_id;
	int has_mech;
	unsigned long mech; /* "mechanism": its CKM_ name when known, else "0x%08lx" */
	unsigned long rv; /* "result": its CKR_ name when known, else "0x%08lx"; "rv": the number */
	const char *denied; /* NULL, or why the server refused without asking the token ("policy",
			       "token not visible") */
};

struct audit;

/* Open (create, mode 0600) the audit log at path for appending. fsync_interval_ms 0: every line
 * is fsync'ed before audit_write returns; > 0: a background thread fsyncs at most that often,
 * when lines were written since the last fsync. Returns 0 with *out owning the log, or -1 with
 * *out NULL and a reason naming path in err. */
int audit_open(const char *path, long fsync_interval_ms, struct audit **out, char *err,
	       size_t errlen);

/* Append one line for r with a single write(2) (thread-safe). A failure to write or fsync is
 * logged (at most once a minute) and otherwise ignored. a NULL (no audit log): does nothing. */
void audit_write(struct audit *a, const struct audit_rec *r);

/* Reopen the log's path (after logrotate renamed the file) and continue there; the old file is
 * fsync'ed and closed (by the background thread when there is one). On failure returns -1 with
 * a reason in err and keeps writing to the old file. */
int audit_reopen(struct audit *a, char *err, size_t errlen);

/* Fsync and close the log and stop its thread. Accepts NULL. */
void audit_close(struct audit *a);

#endif
