#include "m2msec/crypto/signature.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>
#include <climits>
#include <memory>
#include <string>

#include "internal.h"

namespace m2msec::crypto {
namespace {

using internal::SignatureKind;
using internal::SignatureRow;

// The registry rows of the signature family. Rows of kind kGost2012 ("gost2012-256", "gost2012-512") are
// implemented in gost_signature.cpp.
constexpr std::array<SignatureRow, 10> kSignatures{{
    // FIPS 186-4 clause 6 ECDSA; curves P-256 / P-384 / P-521 (SEC 2 secp256r1 / secp384r1 / secp521r1).
    {"ecdsa-p256-sha256", SignatureKind::kEcdsa, AlgorithmSet::kDefault, "EC", "prime256v1", "SHA2-256", 32},
    {"ecdsa-p384-sha384", SignatureKind::kEcdsa, AlgorithmSet::kDefault, "EC", "secp384r1", "SHA2-384", 48},
    {"ecdsa-p521-sha512", SignatureKind::kEcdsa, AlgorithmSet::kDefault, "EC", "secp521r1", "SHA2-512", 66},
    // RFC 5639 clause 3.4 curve brainpoolP256r1.
    {"ecdsa-brainpoolp256r1-sha256", SignatureKind::kEcdsa, AlgorithmSet::kDefault, "EC", "brainpoolP256r1",
     "SHA2-256", 32},
    // RFC 8032 clause 5.1: pure Ed25519 (no pre-hash, no context).
    {"ed25519", SignatureKind::kEd25519, AlgorithmSet::kDefault, "ED25519", "", "", 32},
    // GOST R 34.10-2012 (RFC 7091) with Streebog (RFC 6986), on the TC26 parameter sets A (RFC 7836
    // Annex A.2): the engine's paramset names "TCA" (256-bit) and "A" (512-bit).
    {"gost2012-256", SignatureKind::kGost2012, AlgorithmSet::kGost, "gost2012_256", "TCA", "md_gost12_256", 32},
    {"gost2012-512", SignatureKind::kGost2012, AlgorithmSet::kGost, "gost2012_512", "A", "md_gost12_512", 64},
    // RFC 8017 clause 8.2 RSASSA-PKCS1-v1_5 (JOSE RS256 / RS384 / RS512, RFC 7518 clause 3.3).
    {"rsa-pkcs1-sha256", SignatureKind::kRsaPkcs1, AlgorithmSet::kDefault, "RSA", "", "SHA2-256", 0},
    {"rsa-pkcs1-sha384", SignatureKind::kRsaPkcs1, AlgorithmSet::kDefault, "RSA", "", "SHA2-384", 0},
    {"rsa-pkcs1-sha512", SignatureKind::kRsaPkcs1, AlgorithmSet::kDefault, "RSA", "", "SHA2-512", 0},
}};

// The GOST dispatch below is compiled only once the table holds a kGost2012 row, so this file links
// without gost_signature.cpp until that file adds its rows (and then requires it).
constexpr bool has_gost_rows() {
  for (const auto& row : kSignatures) {
    if (row.kind == SignatureKind::kGost2012) return true;
  }
  return false;
}
constexpr bool kHasGostRows = has_gost_rows();

using internal::BnPtr;
using internal::EcGroupPtr;
using internal::group_of;
using internal::mut;
using internal::ParamBldPtr;
using internal::ParamPtr;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct EcPointFree {
  void operator()(EC_POINT* p) const { EC_POINT_free(p); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using EcPointPtr = std::unique_ptr<EC_POINT, EcPointFree>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;

Result<BioPtr> memory_bio(std::string_view text) {
  if (text.size() > static_cast<std::size_t>(INT_MAX)) return Error::usage("PEM text too long");
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) return internal::openssl_error("BIO_new_mem_buf");
  return bio;
}

// The contents of a memory BIO.
ByteView bio_contents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return {reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(len)};
}

// Refuses every passphrase prompt: only unencrypted PKCS#8 is read.
int no_password(char*, int, int, void*) { return -1; }

const SignatureRow& row_of(std::size_t row) { return kSignatures[row]; }

// The scheme's key type and curve (the check verify and sign make before using a key).
bool key_fits(const SignatureRow& row, const EVP_PKEY* pkey) {
  switch (row.kind) {
    case SignatureKind::kEcdsa: return internal::is_ec_key_on(pkey, row.group);
    case SignatureKind::kEd25519: return EVP_PKEY_is_a(pkey, "ED25519") == 1;
    case SignatureKind::kGost2012: return false;  // checked by gost_signature.cpp
    case SignatureKind::kRsaPkcs1: return EVP_PKEY_is_a(pkey, "RSA") == 1;  // size: internal::check_rsa_key
  }
  return false;
}

Error wrong_key(const SignatureRow& row) {
  return Error::usage("key does not belong to signature scheme '" + std::string(row.name) + "' (type or curve)");
}

Error verification_failed() {
  ERR_clear_error();
  return Error::crypto("signature verification failed");
}

// X9.62 Ecdsa-Sig-Value (DER) -> r || s, each left-padded to field_size octets (IEEE P1363 / RFC 7518 3.4).
Result<Bytes> der_to_raw(ByteView der, std::size_t field_size) {
  const unsigned char* p = der.data();
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return internal::openssl_error("d2i_ECDSA_SIG");
  Bytes out(2 * field_size);
  const int n = static_cast<int>(field_size);
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out.data(), n) != n ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out.data() + field_size, n) != n) {
    return Error::internal("ECDSA signature component larger than the field");
  }
  return out;
}

// r || s -> DER. A raw signature of the wrong length is a bad signature.
Result<Bytes> raw_to_der(ByteView raw, std::size_t field_size) {
  if (raw.size() != 2 * field_size) return verification_failed();
  const int n = static_cast<int>(field_size);
  BnPtr r(BN_bin2bn(raw.data(), n, nullptr));
  BnPtr s(BN_bin2bn(raw.data() + field_size, n, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig) return internal::openssl_error("ECDSA_SIG_new");
  if (ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return internal::openssl_error("ECDSA_SIG_set0");
  r.release();  // now owned by sig
  s.release();
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return internal::openssl_error("i2d_ECDSA_SIG");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

}  // namespace

// ---- PublicKey ----

PublicKey::PublicKey(const PublicKey& other) : m_pkey(other.m_pkey) {
  if (m_pkey != nullptr) EVP_PKEY_up_ref(m_pkey);
}

PublicKey& PublicKey::operator=(const PublicKey& other) {
  if (this != &other) {
    if (other.m_pkey != nullptr) EVP_PKEY_up_ref(other.m_pkey);
    EVP_PKEY_free(m_pkey);
    m_pkey = other.m_pkey;
  }
  return *this;
}

PublicKey::PublicKey(PublicKey&& other) noexcept : m_pkey(other.m_pkey) { other.m_pkey = nullptr; }

PublicKey& PublicKey::operator=(PublicKey&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(m_pkey);
    m_pkey = other.m_pkey;
    other.m_pkey = nullptr;
  }
  return *this;
}

PublicKey::~PublicKey() { EVP_PKEY_free(m_pkey); }

namespace {
// SEC 1 v2 clause 3.2.2.1: an EC public key must be a point of the curve's prime-order subgroup. Every
// curve m2msec accepts (SEC 2 P-256/384/521, RFC 5639 brainpool) has cofactor 1, so a finite point on the
// curve is in that subgroup: the quick check (on the curve, not infinity) is the whole check, without
// the scalar multiplication by the order that EVP_PKEY_public_check adds.
Result<PublicKey> checked_public(internal::PkeyPtr pkey) {
  if (EVP_PKEY_is_a(pkey.get(), "EC") == 1) {
    internal::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!ctx || EVP_PKEY_public_check_quick(ctx.get()) != 1) {
      ERR_clear_error();
      return Error::usage("EC public key is not a valid point of its curve");
    }
  }
  return PublicKey(pkey.release());
}
}  // namespace

Result<PublicKey> PublicKey::from_der(ByteView der) {
  if (der.size() > static_cast<std::size_t>(LONG_MAX)) return Error::usage("public key DER too long");
  const unsigned char* p = der.data();
  internal::PkeyPtr pkey(d2i_PUBKEY_ex(nullptr, &p, static_cast<long>(der.size()), nullptr, nullptr));
  if (!pkey) {
    ERR_clear_error();
    return Error::usage("not a SubjectPublicKeyInfo of a supported key type");
  }
  if (p != der.data() + der.size()) return Error::usage("trailing octets after SubjectPublicKeyInfo");
  return checked_public(std::move(pkey));
}

Result<PublicKey> PublicKey::from_pem(std::string_view pem) {
  M2MSEC_ASSIGN_OR_RETURN(BioPtr bio, memory_bio(pem));
  internal::PkeyPtr pkey(PEM_read_bio_PUBKEY_ex(bio.get(), nullptr, no_password, nullptr, nullptr, nullptr));
  if (!pkey) {
    ERR_clear_error();
    return Error::usage("not a PEM public key (-----BEGIN PUBLIC KEY-----) of a supported type");
  }
  return checked_public(std::move(pkey));
}

Result<Bytes> PublicKey::to_der() const {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(m_pkey, &der);
  if (len <= 0) return internal::openssl_error("i2d_PUBKEY");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

Result<std::string> PublicKey::to_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), m_pkey) != 1) return internal::openssl_error("PEM_write_bio_PUBKEY");
  return std::string(as_text(bio_contents(bio.get())));
}

// The raw public key of any EC or Ed25519 EVP_PKEY (a private one included: it holds its public part).
static Result<Bytes> raw_public(const EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(internal::mut(pkey), "ED25519") == 1) {
    Bytes out(32);
    std::size_t len = out.size();
    if (EVP_PKEY_get_raw_public_key(internal::mut(pkey), out.data(), &len) != 1 || len != out.size()) {
      return internal::openssl_error("EVP_PKEY_get_raw_public_key");
    }
    return out;
  }
  if (EVP_PKEY_is_a(internal::mut(pkey), "EC") != 1) return Error::unsupported("no raw form for this public key type");
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(internal::mut(pkey), OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0, &len) != 1) {
    return internal::openssl_error("EVP_PKEY_get_octet_string_param(pub)");
  }
  Bytes point(len);
  if (EVP_PKEY_get_octet_string_param(internal::mut(pkey), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(), &len) != 1) {
    return internal::openssl_error("EVP_PKEY_get_octet_string_param(pub)");
  }
  point.resize(len);
  if (!point.empty() && point[0] == 0x04) return point;
  // A key read from a compressed point keeps that form: re-encode it uncompressed.
  char curve[80];
  if (EVP_PKEY_get_group_name(internal::mut(pkey), curve, sizeof curve, nullptr) != 1) {
    return internal::openssl_error("EVP_PKEY_get_group_name");
  }
  EcGroupPtr group = group_of(curve);
  EcPointPtr q(group ? EC_POINT_new(group.get()) : nullptr);
  if (!q || EC_POINT_oct2point(group.get(), q.get(), point.data(), point.size(), nullptr) != 1) {
    return internal::openssl_error("EC_POINT_oct2point");
  }
  Bytes out(EC_POINT_point2oct(group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, nullptr, 0, nullptr));
  if (out.empty() ||
      EC_POINT_point2oct(group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, out.data(), out.size(), nullptr) !=
          out.size()) {
    return internal::openssl_error("EC_POINT_point2oct");
  }
  return out;
}

Result<Bytes> PublicKey::raw() const { return raw_public(m_pkey); }

// ---- PrivateKey ----

Result<Bytes> PrivateKey::public_raw() const { return raw_public(m_pkey); }

PrivateKey::PrivateKey(PrivateKey&& other) noexcept : m_pkey(other.m_pkey) { other.m_pkey = nullptr; }

PrivateKey& PrivateKey::operator=(PrivateKey&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(m_pkey);
    m_pkey = other.m_pkey;
    other.m_pkey = nullptr;
  }
  return *this;
}

PrivateKey::~PrivateKey() { EVP_PKEY_free(m_pkey); }

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem) {
  // RFC 7468 clause 10: unencrypted PKCS#8 has the label "PRIVATE KEY". Legacy forms ("EC PRIVATE
  // KEY") and encrypted keys are refused.
  constexpr std::string_view kBegin = "-----BEGIN PRIVATE KEY-----";
  const std::size_t start = pem.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos || pem.substr(start, kBegin.size()) != kBegin) {
    return Error::usage("not an unencrypted PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----)");
  }
  M2MSEC_ASSIGN_OR_RETURN(BioPtr bio, memory_bio(pem));
  internal::PkeyPtr pkey(PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, no_password, nullptr, nullptr, nullptr));
  if (!pkey) {
    ERR_clear_error();
    return Error::usage("PKCS#8 private key could not be decoded (malformed or unsupported key type)");
  }
  return PrivateKey(pkey.release());
}

Result<SecretBytes> PrivateKey::to_pem() const {
  // A secure-memory BIO: its buffer is wiped when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), m_pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return internal::openssl_error("PEM_write_bio_PrivateKey");
  }
  return SecretBytes::copy_of(bio_contents(bio.get()));
}

Result<PublicKey> PrivateKey::public_key() const {
  // Through SubjectPublicKeyInfo: works for every key type with an encoder, and the result holds no
  // private part.
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(m_pkey, &der);
  if (len <= 0) return internal::openssl_error("i2d_PUBKEY");
  const unsigned char* p = der;
  internal::PkeyPtr pub(d2i_PUBKEY_ex(nullptr, &p, len, nullptr, nullptr));
  OPENSSL_free(der);
  if (!pub) return internal::openssl_error("d2i_PUBKEY");
  return PublicKey(pub.release());
}

// ---- shared key helpers (internal.h) ----

int internal::curve_nid(std::string_view curve) {
  const std::string name(curve);
  int nid = OBJ_sn2nid(name.c_str());
  if (nid == NID_undef) nid = EC_curve_nist2nid(name.c_str());
  return nid;
}

internal::EcGroupPtr internal::group_of(std::string_view curve) {
  const int nid = curve_nid(curve);
  return EcGroupPtr(nid == NID_undef ? nullptr : EC_GROUP_new_by_curve_name(nid));
}

Result<PrivateKey> internal::generate_key(std::string_view key_type, std::string_view group) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, std::string(key_type).c_str(), nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) return openssl_error("EVP_PKEY_keygen_init");
  if (!group.empty() && EVP_PKEY_CTX_set_group_name(ctx.get(), std::string(group).c_str()) != 1) {
    return openssl_error("EVP_PKEY_CTX_set_group_name");
  }
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &pkey) != 1) return openssl_error("EVP_PKEY_generate");
  return PrivateKey(pkey);
}

bool internal::is_ec_key_on(const EVP_PKEY* pkey, std::string_view curve) {
  if (EVP_PKEY_is_a(pkey, "EC") != 1) return false;
  char name[80];
  if (EVP_PKEY_get_group_name(pkey, name, sizeof name, nullptr) != 1) {
    ERR_clear_error();
    return false;  // explicit curve parameters: never accepted as a named curve
  }
  const int nid = curve_nid(name);
  return nid != NID_undef && nid == curve_nid(curve);
}

namespace {
// An EC key from OpenSSL parameters (group name, optional private scalar, public point).
Result<internal::PkeyPtr> ec_from_data(std::string_view curve, const BIGNUM* d, ByteView point, int selection) {
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  const std::string name(curve);
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, name.c_str(), 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1 ||
      (d != nullptr && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d) != 1)) {
    return internal::openssl_error("OSSL_PARAM_BLD");
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  internal::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return internal::openssl_error("EVP_PKEY_fromdata_init");
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &pkey, selection, params.get()) != 1) {
    ERR_clear_error();
    return Error::usage("not a valid point of curve " + name);
  }
  return internal::PkeyPtr(pkey);
}
}  // namespace

Result<PublicKey> internal::ec_public_key_from_point(std::string_view curve, std::size_t field_size, ByteView point) {
  // SEC 1 v2 clause 2.3.3: uncompressed point 04 || X || Y, each coordinate field_size octets.
  if (point.size() != 1 + 2 * field_size || point[0] != 0x04) {
    return Error::usage("EC public key must be an uncompressed point of " + std::to_string(1 + 2 * field_size) +
                        " octets");
  }
  M2MSEC_ASSIGN_OR_RETURN(PkeyPtr pkey, ec_from_data(curve, nullptr, point, EVP_PKEY_PUBLIC_KEY));
  return checked_public(std::move(pkey));
}

Result<PrivateKey> internal::ec_private_key_from_scalar(std::string_view curve, std::size_t field_size, ByteView d) {
  if (d.size() != field_size) {
    return Error::usage("EC private key must be " + std::to_string(field_size) + " octets");
  }
  EcGroupPtr group = group_of(curve);
  if (!group) return Error::unsupported("unknown curve " + std::string(curve));
  BnPtr scalar(BN_secure_new());
  if (!scalar || BN_bin2bn(d.data(), static_cast<int>(d.size()), scalar.get()) == nullptr) {
    return openssl_error("BN_bin2bn");
  }
  // SEC 1 v2 clause 3.2.1: the private key is an integer in [1, n-1].
  if (BN_is_zero(scalar.get()) || BN_cmp(scalar.get(), EC_GROUP_get0_order(group.get())) >= 0) {
    return Error::usage("EC private key out of range [1, n-1]");
  }
  EcPointPtr q(EC_POINT_new(group.get()));
  if (!q || EC_POINT_mul(group.get(), q.get(), scalar.get(), nullptr, nullptr, nullptr) != 1) {
    return openssl_error("EC_POINT_mul");
  }
  Bytes point(1 + 2 * field_size);
  if (EC_POINT_point2oct(group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, point.data(), point.size(), nullptr) !=
      point.size()) {
    return openssl_error("EC_POINT_point2oct");
  }
  M2MSEC_ASSIGN_OR_RETURN(PkeyPtr pkey, ec_from_data(curve, scalar.get(), point, EVP_PKEY_KEYPAIR));
  return PrivateKey(pkey.release());
}

// ---- SignatureScheme ----

Result<SignatureScheme> SignatureScheme::named(std::string_view name) {
  for (std::size_t i = 0; i < kSignatures.size(); ++i) {
    if (kSignatures[i].name != name) continue;
    M2MSEC_TRY(load_algorithm_set(kSignatures[i].set));
    return SignatureScheme(i);
  }
  return Error::unsupported("unknown signature scheme '" + std::string(name) + "'");
}

std::string_view SignatureScheme::name() const { return row_of(m_row).name; }
AlgorithmSet SignatureScheme::algorithm_set() const { return row_of(m_row).set; }

Result<PrivateKey> SignatureScheme::generate() const {
  const SignatureRow& row = row_of(m_row);
  if constexpr (kHasGostRows) {
    if (row.kind == SignatureKind::kGost2012) return internal::gost_generate(row);
  }
  if (row.kind == SignatureKind::kRsaPkcs1) return internal::generate_rsa_key(internal::kRsaMinBits);
  return internal::generate_key(row.key_type, row.group);
}

Result<PrivateKey> SignatureScheme::private_key_from_raw(ByteView raw) const {
  const SignatureRow& row = row_of(m_row);
  switch (row.kind) {
    case SignatureKind::kEcdsa: return internal::ec_private_key_from_scalar(row.group, row.field_size, raw);
    case SignatureKind::kEd25519: {
      // RFC 8032 clause 5.1.5: the private key is 32 octets of (random) seed.
      if (raw.size() != row.field_size) return Error::usage("Ed25519 private key must be 32 octets");
      EVP_PKEY* pkey = EVP_PKEY_new_raw_private_key_ex(nullptr, "ED25519", nullptr, raw.data(), raw.size());
      if (pkey == nullptr) return internal::openssl_error("EVP_PKEY_new_raw_private_key_ex");
      return PrivateKey(pkey);
    }
    case SignatureKind::kGost2012:
    case SignatureKind::kRsaPkcs1: break;  // RSA: rsa.h builds keys from their components
  }
  return Error::unsupported("no raw private key form for '" + std::string(row.name) + "'");
}

Result<PublicKey> SignatureScheme::public_key_from_raw(ByteView raw) const {
  const SignatureRow& row = row_of(m_row);
  switch (row.kind) {
    case SignatureKind::kEcdsa: return internal::ec_public_key_from_point(row.group, row.field_size, raw);
    case SignatureKind::kEd25519: {
      if (raw.size() != row.field_size) return Error::usage("Ed25519 public key must be 32 octets");
      EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, raw.data(), raw.size());
      if (pkey == nullptr) return internal::openssl_error("EVP_PKEY_new_raw_public_key_ex");
      return PublicKey(pkey);
    }
    case SignatureKind::kGost2012:
    case SignatureKind::kRsaPkcs1: break;
  }
  return Error::unsupported("no raw public key form for '" + std::string(row.name) + "'");
}

// ---- sign / verify ----

namespace {
Result<void> check_encoding(const SignatureRow& row, SignatureEncoding encoding) {
  // RSA: both encodings are the plain signature octets (signature.h).
  if (row.kind != SignatureKind::kEcdsa && row.kind != SignatureKind::kRsaPkcs1 &&
      encoding != SignatureEncoding::kRaw) {
    return Error::usage("signature scheme '" + std::string(row.name) + "' has no DER form: use kRaw");
  }
  return {};
}

const char* digest_of(const SignatureRow& row, std::string& storage) {
  if (row.digest.empty()) return nullptr;  // Ed25519 hashes internally (RFC 8032 clause 5.1.6)
  storage = std::string(row.digest);
  return storage.c_str();
}

// The key checks sign and verify make: type and curve, and for RSA the modulus size.
Result<void> check_key(const SignatureRow& row, const EVP_PKEY* pkey) {
  if (!key_fits(row, pkey)) return wrong_key(row);
  if (row.kind == SignatureKind::kRsaPkcs1) return internal::check_rsa_key(pkey);
  return {};
}

// RSA rows pad with RSASSA-PKCS1-v1_5 (RFC 8017 clause 8.2; OpenSSL's default, set explicitly).
Result<void> set_padding(const SignatureRow& row, EVP_PKEY_CTX* pctx) {
  if (row.kind == SignatureKind::kRsaPkcs1 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
    return internal::openssl_error("EVP_PKEY_CTX_set_rsa_padding");
  }
  return {};
}
}  // namespace

Result<Bytes> sign(const SignatureScheme& scheme, const PrivateKey& key, ByteView message,
                   SignatureEncoding encoding) {
  const SignatureRow& row = row_of(scheme.m_row);
  M2MSEC_TRY(check_encoding(row, encoding));
  if constexpr (kHasGostRows) {
    if (row.kind == SignatureKind::kGost2012) return internal::gost_sign(row, key, message);
  }
  M2MSEC_TRY(check_key(row, key.evp()));

  internal::MdCtxPtr ctx(EVP_MD_CTX_new());
  std::string digest;
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestSignInit_ex(ctx.get(), &pctx, digest_of(row, digest), nullptr, nullptr,
                                    mut(key.evp()), nullptr) != 1) {
    return internal::openssl_error("EVP_DigestSignInit_ex");
  }
  M2MSEC_TRY(set_padding(row, pctx));
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, internal::non_null(message), message.size()) != 1) {
    return internal::openssl_error("EVP_DigestSign(size)");
  }
  Bytes out(len);
  if (EVP_DigestSign(ctx.get(), out.data(), &len, internal::non_null(message), message.size()) != 1) {
    return internal::openssl_error("EVP_DigestSign");
  }
  out.resize(len);
  if (row.kind == SignatureKind::kEcdsa && encoding == SignatureEncoding::kRaw) {
    return der_to_raw(out, row.field_size);
  }
  return out;
}

Result<void> verify(const SignatureScheme& scheme, const PublicKey& key, ByteView message, ByteView signature,
                    SignatureEncoding encoding) {
  const SignatureRow& row = row_of(scheme.m_row);
  M2MSEC_TRY(check_encoding(row, encoding));
  if constexpr (kHasGostRows) {
    if (row.kind == SignatureKind::kGost2012) return internal::gost_verify(row, key, message, signature);
  }
  M2MSEC_TRY(check_key(row, key.evp()));

  // OpenSSL's ECDSA verification refuses DER that is not the one canonical encoding (re-encodes and
  // compares), so kDer accepts exactly one form per signature.
  Bytes der;
  if (row.kind == SignatureKind::kEcdsa && encoding == SignatureEncoding::kRaw) {
    M2MSEC_ASSIGN_OR_RETURN(der, raw_to_der(signature, row.field_size));
    signature = der;
  }
  internal::MdCtxPtr ctx(EVP_MD_CTX_new());
  std::string digest;
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), &pctx, digest_of(row, digest), nullptr, nullptr,
                                      mut(key.evp()), nullptr) != 1) {
    return internal::openssl_error("EVP_DigestVerifyInit_ex");
  }
  M2MSEC_TRY(set_padding(row, pctx));
  if (EVP_DigestVerify(ctx.get(), internal::non_null(signature), signature.size(), internal::non_null(message),
                       message.size()) != 1) {
    return verification_failed();
  }
  return {};
}

std::vector<std::string_view> internal::signature_names() {
  std::vector<std::string_view> out;
  for (const auto& row : kSignatures) out.push_back(row.name);
  return out;
}

}  // namespace m2msec::crypto
