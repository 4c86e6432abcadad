// GOST R 34.10-2012 (RFC 7091) signatures for the registry rows of kind kGost2012, through the GOST engine
// of Debian's libengine-gost-openssl: its OpenSSL 3 provider (gostprov) has Streebog and Kuznyechik but no
// signatures, so the engine is the one implementation available.
//
// The ENGINE API is deprecated in OpenSSL 3; this file alone suppresses the deprecation warnings.
#define OPENSSL_SUPPRESS_DEPRECATED

#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include <mutex>
#include <string>

#include "internal.h"
#include "m2msec/crypto/signature.h"

namespace m2msec::crypto {
namespace {

}  // namespace

// Loaded once and kept for the life of the process; passed explicitly to every call. Only its ASN.1 key
// methods are registered (OpenSSL needs them to build, encode and decode GOST keys); they cover the GOST key
// types alone, so no other algorithm is routed through the engine.
ENGINE* internal::gost_engine() {
  static std::once_flag once;
  static ENGINE* engine = nullptr;
  std::call_once(once, [] {
    ENGINE* e = ENGINE_by_id("gost");  // loads engines-3/gost.so through the dynamic engine
    if (e != nullptr && ENGINE_init(e) == 1 && ENGINE_register_pkey_asn1_meths(e) == 1) {
      engine = e;
    } else if (e != nullptr) {
      ENGINE_free(e);
    }
  });
  return engine;
}

namespace {

struct GostParams {
  int key_nid;
  int digest_nid;
};

GostParams params_of(const internal::SignatureRow& row) {
  if (row.field_size == 64) return {NID_id_GostR3410_2012_512, NID_id_GostR3411_2012_512};
  return {NID_id_GostR3410_2012_256, NID_id_GostR3411_2012_256};
}

Result<ENGINE*> engine_or_error() {
  ENGINE* e = internal::gost_engine();
  if (e == nullptr) return Error::unsupported("GOST engine (libengine-gost-openssl) could not be loaded");
  return e;
}

bool fits(const internal::SignatureRow& row, const EVP_PKEY* pkey) {
  return pkey != nullptr && EVP_PKEY_get_base_id(pkey) == params_of(row).key_nid;
}

Error wrong_key(const internal::SignatureRow& row) {
  return Error::usage("key does not belong to signature scheme '" + std::string(row.name) + "'");
}

}  // namespace

//= RFC 7091 clause 6.1: key generation on the parameter set of the row (TC26 set A, RFC 7836 Annex A).
Result<PrivateKey> internal::gost_generate(const SignatureRow& row) {
  M2MSEC_ASSIGN_OR_RETURN(ENGINE* e, engine_or_error());
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(params_of(row).key_nid, e));
  EVP_PKEY* pkey = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_ctrl_str(ctx.get(), "paramset", std::string(row.group).c_str()) <= 0 ||
      EVP_PKEY_keygen(ctx.get(), &pkey) != 1) {
    return openssl_error("GOST key generation");
  }
  return PrivateKey(pkey);
}

//= RFC 7091 clause 6.1: the signature is computed over the Streebog hash of the message.
// The octets are those of the engine: s then r, each field_size octets, big-endian (GOST R 34.10-2012 6.1
// step 6 concatenates the vectors of r and s as (r || s) read from the right; the engine emits that order).
Result<Bytes> internal::gost_sign(const SignatureRow& row, const PrivateKey& key, ByteView message) {
  M2MSEC_ASSIGN_OR_RETURN(ENGINE* e, engine_or_error());
  if (!fits(row, key.evp())) return wrong_key(row);
  const EVP_MD* md = ENGINE_get_digest(e, params_of(row).digest_nid);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (md == nullptr || !ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, md, e, mut(key.evp())) != 1) {
    return openssl_error("GOST sign init");
  }
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, non_null(message), message.size()) != 1) {
    return openssl_error("GOST sign");
  }
  Bytes out(len);
  if (EVP_DigestSign(ctx.get(), out.data(), &len, non_null(message), message.size()) != 1) {
    return openssl_error("GOST sign");
  }
  out.resize(len);
  if (out.size() != 2 * row.field_size) return Error::internal("GOST signature of unexpected size");
  return out;
}

Result<void> internal::gost_verify(const SignatureRow& row, const PublicKey& key, ByteView message, ByteView signature) {
  M2MSEC_ASSIGN_OR_RETURN(ENGINE* e, engine_or_error());
  if (!fits(row, key.evp())) return wrong_key(row);
  if (signature.size() != 2 * row.field_size) return Error::crypto("signature verification failed");
  const EVP_MD* md = ENGINE_get_digest(e, params_of(row).digest_nid);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (md == nullptr || !ctx ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, md, e, mut(key.evp())) != 1) {
    return openssl_error("GOST verify init");
  }
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), non_null(message), message.size()) != 1) {
    ERR_clear_error();
    return Error::crypto("signature verification failed");
  }
  return {};
}

}  // namespace m2msec::crypto
