/*
 * policy: who may do what on which token and which keys (DESIGN.md "Server model"). Default
 * deny: with no rule, nobody may do anything. Each "allow" entry of the server configuration
 * adds one rule:
 *
 *   allow = IDENTITY CLASSES [token=GLOB] [label=GLOB] [id=HEXGLOB]
 *
 *   IDENTITY  cn:GLOB   the TLS client certificate's subject CN
 *             dns:GLOB  a dNSName of its subjectAltName (matched case-insensitively)
 *             uri:GLOB  a URI of its subjectAltName
 *             uid:N, uid:NAME, gid:N, gid:NAME  the Unix-socket peer's credentials
 *                       (SO_PEERCRED; names are resolved when the policy is loaded)
 *   CLASSES   comma-separated read, use, manage, admin, or all
 *   token=    the token labels the rule applies to (default *)
 *   label=    only objects whose CKA_LABEL matches (objects without a label never match)
 *   id=       only objects whose CKA_ID, in lowercase hex, matches
 *
 * GLOBs are fnmatch(3) patterns with flags 0 (case-sensitive, '*' also matches '/'); dns: adds
 * FNM_CASEFOLD. Fields are separated by blanks; write a blank inside a pattern as "\ " (or match
 * it with '?'). cn:, dns: and uri: rules match only TLS peers, uid: and gid: only Unix-socket
 * peers.
 *
 * A loaded policy is immutable and reference-counted (atomically), so the event loop can swap in
 * a new one on SIGHUP while worker threads still hold the old one. Every query is thread-safe
 * and every query on a NULL policy denies.
 */
#ifndef TEEHSM_SERVER_POLICY_H
#define TEEHSM_SERVER_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;

/* The operation classes a rule grants (a bit set). */
enum pol_class {
	POL_READ = 1u << 0,   /* see tokens and objects, read attributes */
	POL_USE = 1u << 1,    /* sign, decrypt, derive ... with existing keys */
	POL_MANAGE = 1u << 2, /* create, generate, import, destroy, change objects */
	POL_ADMIN = 1u << 3,  /* token administration: C_InitToken, C_InitPIN, C_SetPIN */
};

#define POL_ALL (POL_READ | POL_USE | POL_MANAGE | POL_ADMIN)

/* Who is asking. The strings belong to the caller and need only live for the call. */
struct pol_identity {
	int is_unix;	/* 1: Unix-socket peer (uid, gid set); 0: TLS peer (names set) */
	const char *cn; /* subject CN, NULL when none */
	const char *const *dns;
	size_t n_dns;
	const char *const *uri;
	size_t n_uri;
	unsigned long uid, gid;
};

struct policy;

/* Build a policy from every "allow" entry of c (none: a policy that denies everything). On
 * success returns 0 and *out holds one reference. On failure returns -1, *out is NULL and err
 * says "FILE:LINE: allow: <what is wrong>, not '<value>'". Resolves uid:/gid: names with the
 * password and group databases, so it may block: call it at start-up and on SIGHUP only. */
int policy_load(const struct conf *c, struct policy **out, char *err, size_t errlen);

/* Take one more reference to p; returns p. Accepts NULL (returns NULL). */
struct policy *policy_ref(struct policy *p);

/* Drop one reference to p and free it with the last one. Accepts NULL. */
void policy_unref(struct policy *p);

/* The number of rules in p (0 for NULL). */
size_t policy_rule_count(const struct policy *p);

/* Does a rule matching id grant every class in cls on the token labelled token_label (trailing
 * blanks are ignored), whatever its label=/id= narrowing? For the calls that name no object:
 * token info, sessions, login, C_GenerateRandom, C_InitToken ... A NULL token_label, cls 0 or an
 * unknown class bit deny. */
bool policy_allows_class(const struct policy *p, const struct pol_identity *id,
			 const char *token_label, unsigned cls);

/* Does a rule matching id grant every class in cls on token_label and cover an object with this
 * CKA_LABEL and CKA_ID? label/obj_id NULL (with length 0) mean the object has no such attribute;
 * the label bytes need no NUL terminator, and a label containing a NUL byte never matches a
 * label= pattern. */
bool policy_allows_object(const struct policy *p, const struct pol_identity *id,
			  const char *token_label, unsigned cls, const uint8_t *label,
			  size_t label_len, const uint8_t *obj_id, size_t obj_id_len);

/* May id see the token at all (a rule of any class matching id and token_label)? */
bool policy_token_visible(const struct policy *p, const struct pol_identity *id,
			  const char *token_label);

/* Describe id in one line for logs, e.g. "cn=build-signer" or "uid=1000 gid=1000" (control
 * characters replaced by '?'). Writes into buf (len bytes, truncated if needed) and returns buf. */
const char *pol_identity_describe(const struct pol_identity *id, char *buf, size_t len);

#endif
