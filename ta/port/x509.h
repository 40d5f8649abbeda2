/* X.509 certificate parsing for certificate objects (C_CreateObject of CKC_X_509). */
#ifndef TEEHSM_TA_PORT_X509_H
#define TEEHSM_TA_PORT_X509_H

#include <stddef.h>
#include <stdint.h>

/* The fields of a certificate the token derives its attributes from. Every buffer is owned by
 * the struct (free with port_x509_free). */
struct port_x509 {
	uint8_t *subject; /* DER Name */
	size_t subject_len;
	uint8_t *issuer; /* DER Name */
	size_t issuer_len;
	uint8_t *serial; /* DER INTEGER */
	size_t serial_len;
	uint8_t *spki; /* DER SubjectPublicKeyInfo */
	size_t spki_len;
	char not_before[8]; /* YYYYMMDD, as a CK_DATE */
	char not_after[8];
};

/* Parse the DER certificate der of len bytes (exactly one certificate, nothing trailing) into
 * *out. Returns 0, or -1 (out left empty) for anything that is not a well-formed certificate
 * or whose validity dates do not fit a CK_DATE. */
int port_x509_parse(const uint8_t *der, size_t len, struct port_x509 *out);

/* Free the buffers of x and zero it. Accepts an empty struct. */
void port_x509_free(struct port_x509 *x);

#endif
