/* X.509 parsing over OpenSSL (port/x509.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "port/openssl_util.h"
#include "port/x509.h"

/* i2d into a new heap buffer: 0 or -1. */
#define I2D_DUP(fn, obj, outp, outlen)                                                             \
	do {                                                                                       \
		unsigned char *tmp_ = NULL;                                                        \
		int n_ = fn((obj), &tmp_);                                                         \
		if (n_ <= 0)                                                                       \
			goto fail;                                                                 \
		*(outp) = tmp_;                                                                    \
		*(outlen) = (size_t)n_;                                                            \
	} while (0)

/* An ASN1_TIME as YYYYMMDD. */
static int time_to_date(const ASN1_TIME *t, char out[8])
{
	struct tm tm;
	char s[40];

	memset(&tm, 0, sizeof(tm));
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return -1;
	snprintf(s, sizeof(s), "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	memcpy(out, s, 8);
	return 0;
}

int port_x509_parse(const uint8_t *der, size_t len, struct port_x509 *out)
{
	const unsigned char *p = der;
	X509 *x = NULL;

	memset(out, 0, sizeof(*out));
	if (!der || len == 0 || len > (size_t)LONG_MAX)
		return -1;
	x = d2i_X509(NULL, &p, (long)len);
	if (!x || p != der + len)
		goto fail;
	I2D_DUP(i2d_X509_NAME, X509_get_subject_name(x), &out->subject, &out->subject_len);
	I2D_DUP(i2d_X509_NAME, X509_get_issuer_name(x), &out->issuer, &out->issuer_len);
	I2D_DUP(i2d_ASN1_INTEGER, X509_get0_serialNumber(x), &out->serial, &out->serial_len);
	I2D_DUP(i2d_X509_PUBKEY, X509_get_X509_PUBKEY(x), &out->spki, &out->spki_len);
	if (time_to_date(X509_get0_notBefore(x), out->not_before) != 0 ||
	    time_to_date(X509_get0_notAfter(x), out->not_after) != 0)
		goto fail;
	X509_free(x);
	return 0;
fail:
	X509_free(x);
	port_x509_free(out);
	return port_fail();
}

void port_x509_free(struct port_x509 *x)
{
	OPENSSL_free(x->subject);
	OPENSSL_free(x->issuer);
	OPENSSL_free(x->serial);
	OPENSSL_free(x->spki);
	memset(x, 0, sizeof(*x));
}
