// libcrypto only (no libssl): keys, RSA PKCS#1 v1.5 through the EVP API of OpenSSL 3, base64, SHA-256.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>

// OPENSSL_free is a macro.
static inline void mt_openssl_free(void *p) { OPENSSL_free(p); }
