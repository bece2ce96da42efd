/**
 * @file tls_selfsigned.c  A self-signed certificate for wss:// when the
 *                         user gives none (OpenSSL, which libre uses).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "banter/err.h"
#include "transport/server.h"

int bt_tls_selfsigned(const char *path)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	X509_EXTENSION *ext = NULL;
	X509V3_CTX ctx;
	FILE *f = NULL;
	char tmp[600];
	int err = EIO;

	key = EVP_EC_gen("P-256");
	x = X509_new();
	if (!key || !x)
		goto out;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL));
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 365L * 24 * 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"localhost", -1, -1,
				   0);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
				   (const unsigned char *)"banter (self-signed)",
				   -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
				  "DNS:localhost,IP:127.0.0.1,IP:::1");
	if (!ext || !X509_add_ext(x, ext, -1))
		goto out;
	if (!X509_sign(x, key, EVP_sha256()))
		goto out;
	/* written aside and renamed, so a concurrent start never reads
	 * half a file */
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	f = fopen(tmp, "w");
	if (!f) {
		err = bt_err(errno, "cannot create %s for the self-signed "
			     "certificate: %s", path, strerror(errno));
		goto out;
	}
	if (!PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_X509(f, x))
		goto out;
	err = 0;
 out:
	if (f && fclose(f) && !err)
		err = EIO;
	if (f && !err && rename(tmp, path))
		err = bt_err(errno, "cannot create %s: %s", path,
			     strerror(errno));
	if (f && err)
		unlink(tmp);
	if (err == EIO)
		bt_err(EIO, "cannot make a self-signed certificate in %s; "
		       "give one with --cert and --key", path);
	X509_EXTENSION_free(ext);
	X509_free(x);
	EVP_PKEY_free(key);
	return err;
}
