#include "m2msec/pki/profile.h"

#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <string>
#include <string_view>

#include "internal.h"
#include "m2msec/crypto/openssl_errors.h"

namespace m2msec::pki {
namespace {

Error profile_error(std::string_view clause, std::string detail) {
  return Error(Category::kAuth, "certificate profile (TS-0003 " + std::string(clause) + "): " + std::move(detail))
      .with_tls_alert(internal::kBadCertificate);
}

// The clause that gives the subjectAltName form of a flavour.
std::string_view san_clause(Flavour flavour) {
  switch (flavour) {
    case Flavour::kDevice: return "10.1.1.4.1";
    case Flavour::kAeId: return "10.1.1.5";
    case Flavour::kFqdn: return "10.1.1.6";
    case Flavour::kCseId: return "10.1.1.7";
    case Flavour::kNodeId: return "10.1.1.8";
  }
  return "10.1.1";
}

Result<void> check_key_and_signature(const X509* x) {
  if (auto problem = internal::key_problem(X509_get_X509_PUBKEY(x))) return profile_error("10.1.1.1", *problem);
  const X509_ALGOR* algorithm = nullptr;
  X509_get0_signature(nullptr, &algorithm, x);
  if (auto problem = internal::signature_algorithm_problem(algorithm)) return profile_error("10.1.1.3", *problem);
  return {};
}

Result<void> check_identifiers(const X509* x, Flavour flavour) {
  const std::string_view clause = san_clause(flavour);
  int critical = 0;
  // Two subjectAltName extensions give none (critical == -2), as in identifiers().
  internal::GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, &critical, nullptr)));
  const std::vector<std::string> ids = internal::identifiers_in(names.get(), flavour);
  if (ids.empty()) {
    return profile_error(clause, "subjectAltName holds no " + std::string(flavour_name(flavour)) + " identifier");
  }
  //= TS-0003 V3.18.0 §10.1.1.5, §10.1.1.6, §10.1.1.7, §10.1.1.8
  //# Wildcards are not allowed in the subjectAltName.
  if (auto wildcard = internal::wildcard_in(names.get())) return profile_error(clause, "wildcard in " + *wildcard);
  //= TS-0003 V3.18.0 §10.1.1.5
  //# The subjectAltName holds the full URI representation of the AE-ID.
  if (flavour == Flavour::kAeId) {
    for (const std::string& id : ids) {
      if (!is_absolute_ae_id(id)) return profile_error(clause, "not an Absolute AE-ID: " + id);
    }
  }
  return {};
}

}  // namespace

namespace internal {

//= TS-0003 V3.18.0 §10.1.1.1
//# The SubjectPublicKeyInfo algorithm is id-ecPublicKey with the namedCurve secp256r1, and the public key
//# is an uncompressed point (RFC 5480).
std::optional<std::string> key_problem(const X509_PUBKEY* key) {
  ASN1_OBJECT* algorithm = nullptr;
  const unsigned char* point = nullptr;
  int point_length = 0;
  X509_ALGOR* parameters = nullptr;
  if (key == nullptr || X509_PUBKEY_get0_param(&algorithm, &point, &point_length, &parameters, key) != 1) {
    return "no SubjectPublicKeyInfo";
  }
  if (OBJ_obj2nid(algorithm) != NID_X9_62_id_ecPublicKey) return "public key is not id-ecPublicKey";
  int type = V_ASN1_UNDEF;
  const void* value = nullptr;
  X509_ALGOR_get0(nullptr, &type, &value, parameters);
  if (type != V_ASN1_OBJECT || OBJ_obj2nid(static_cast<const ASN1_OBJECT*>(value)) != NID_X9_62_prime256v1) {
    return "EC parameters are not the namedCurve prime256v1";
  }
  // RFC 5480 2.2: 04 || X || Y, 32 octets each on P-256.
  if (point_length != 65 || point[0] != 0x04) return "EC public key is not an uncompressed point";
  if (X509_PUBKEY_get0(key) == nullptr) return crypto::with_openssl_errors("EC public key is not on the curve");
  return std::nullopt;
}

//= TS-0003 V3.18.0 §10.1.1.3
//# Certificates are signed with ECDSA on secp256r1 with SHA-256 (ecdsa-with-SHA256).
std::optional<std::string> signature_algorithm_problem(const X509_ALGOR* algorithm) {
  if (algorithm == nullptr) return "no signature algorithm";
  const ASN1_OBJECT* oid = nullptr;
  int type = V_ASN1_UNDEF;
  X509_ALGOR_get0(&oid, &type, nullptr, algorithm);
  if (OBJ_obj2nid(oid) != NID_ecdsa_with_SHA256) return "signature algorithm is not ecdsa-with-SHA256";
  // RFC 5758 3.2: the parameters field is absent.
  if (type != V_ASN1_UNDEF) return "ecdsa-with-SHA256 with parameters";
  return std::nullopt;
}

std::optional<std::string> wildcard_in(const GENERAL_NAMES* names) {
  // fqdn is the flavour that reads both dNSName and URI entries as they are.
  for (const std::string& name : identifiers_in(names, Flavour::kFqdn)) {
    if (name.find('*') != std::string::npos) return name;
  }
  return std::nullopt;
}

}  // namespace internal

Result<void> check_profile(const Certificate& cert, std::optional<Flavour> flavour) {
  const X509* x = cert.native();
  M2MSEC_TRY(check_key_and_signature(x));
  //= TS-0003 V3.18.0 §10.1.1.1
  //# The keyUsage extension is present and asserts at least digitalSignature.
  if ((X509_get_extension_flags(cert.native()) & EXFLAG_KUSAGE) == 0) {
    return profile_error("10.1.1.1", "no keyUsage extension");
  }
  if ((X509_get_key_usage(cert.native()) & KU_DIGITAL_SIGNATURE) == 0) {
    return profile_error("10.1.1.1", "keyUsage does not assert digitalSignature");
  }
  if (!flavour) return {};
  return check_identifiers(x, *flavour);
}

Result<void> check_ca_profile(const Certificate& ca) { return check_key_and_signature(ca.native()); }

}  // namespace m2msec::pki
