#include "m2msec/pki/ca.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>

#include "internal.h"
#include "m2msec/crypto/openssl_errors.h"
#include "m2msec/crypto/random.h"
#include "m2msec/pki/profile.h"

namespace m2msec::pki {
namespace {

using namespace std::chrono_literals;
using Identity = std::pair<Flavour, std::string>;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct BasicConstraintsFree {
  void operator()(BASIC_CONSTRAINTS* b) const { BASIC_CONSTRAINTS_free(b); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BasicConstraintsPtr = std::unique_ptr<BASIC_CONSTRAINTS, BasicConstraintsFree>;

constexpr auto kBackdate = 5min;  // tolerates relying parties whose clocks are a little behind
constexpr std::size_t kSerialSize = 16;
constexpr int kDigitalSignatureBit = 0;  // KeyUsage ::= BIT STRING { digitalSignature (0), ... }, RFC 5280 4.2.1.3

Error not_authorised(const std::string& what) {
  return Error(Category::kPolicy, Rsc::kOriginatorHasNoPrivilege, "certificate request: not authorised: " + what);
}

Error build_failure(std::string_view what) {
  return Error::internal(crypto::with_openssl_errors("issuing a certificate: " + std::string(what)));
}

// The identity one subjectAltName entry asks for: the authorised identity whose flavour form gives that
// entry exactly the identity's value.
const Identity* authorised(const GENERAL_NAME* name, const Authorisation& who) {
  for (const Identity& id : who.identities) {
    if (internal::identifier_of(name, id.first) == id.second) return &id;
  }
  return nullptr;
}

//= TS-0003 V3.18.0 §8.3.6.2.2
//# Step 4: the MEF checks the identity asked for against the identity of the authenticated client.
Result<std::vector<Identity>> granted_identities(const Csr& csr, const Authorisation& who) {
  const internal::GeneralNamesPtr names = internal::requested_names(csr.native());
  std::vector<Identity> out;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (internal::identifier_of(name, Flavour::kDevice)) {
      return Error::unsupported("certificate request: device identifiers are not issued");
    }
    const Identity* id = authorised(name, who);
    if (id == nullptr) {
      const auto text = internal::identifier_of(name, Flavour::kFqdn);  // dNSName or URI as it is
      return not_authorised(text.value_or("a subjectAltName entry of another type"));
    }
    if (std::find(out.begin(), out.end(), *id) == out.end()) out.push_back(*id);
  }
  if (out.empty()) return not_authorised("a request without identifiers");
  return out;
}

// Subject CN = the first identity; an empty subject with a critical subjectAltName when it does not fit a
// CN (RFC 5280 4.2.1.6). Returns whether subjectAltName must be critical.
Result<bool> set_names(X509* x, const X509* issuer, const std::string& first) {
  if (X509_set_issuer_name(x, X509_get_subject_name(issuer)) != 1) return build_failure("issuer");
  internal::NamePtr subject = internal::common_name(first);
  const bool empty_subject = !subject;
  if (empty_subject) subject.reset(X509_NAME_new());
  if (!subject || X509_set_subject_name(x, subject.get()) != 1) return build_failure("subject");
  return empty_subject;
}

Result<void> add_extensions(X509* x, X509* issuer, const std::vector<Identity>& ids, bool san_critical) {
  internal::GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) return build_failure("subjectAltName");
  for (const Identity& id : ids) M2MSEC_TRY(internal::add_identifier(names.get(), id.first, id.second));
  BasicConstraintsPtr constraints(BASIC_CONSTRAINTS_new());  // cA defaults to FALSE
  internal::StringPtr usage(ASN1_BIT_STRING_new());
  if (!constraints || !usage || ASN1_BIT_STRING_set_bit(usage.get(), kDigitalSignatureBit, 1) != 1) {
    return build_failure("extensions");
  }
  if (X509_add1_ext_i2d(x, NID_basic_constraints, constraints.get(), 1, X509V3_ADD_DEFAULT) != 1 ||
      X509_add1_ext_i2d(x, NID_key_usage, usage.get(), 1, X509V3_ADD_DEFAULT) != 1 ||
      X509_add1_ext_i2d(x, NID_subject_alt_name, names.get(), san_critical ? 1 : 0, X509V3_ADD_DEFAULT) != 1) {
    return build_failure("extensions");
  }
  // Key identifiers (RFC 5280 4.2.1.1, 4.2.1.2): the SHA-1 of the subject key, and the CA's own one.
  X509V3_CTX ctx{};
  X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair{NID_subject_key_identifier, "hash"},
                                   std::pair{NID_authority_key_identifier, "keyid:always"}}) {
    X509_EXTENSION* extension = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value);
    const bool added = extension != nullptr && X509_add_ext(x, extension, -1) == 1;
    X509_EXTENSION_free(extension);
    if (!added) return build_failure("key identifiers");
  }
  return {};
}

}  // namespace

Result<IssuingCa> IssuingCa::load(const std::string& chain_pem, const std::string& key_pem,
                                  std::shared_ptr<const Clock> clock, std::chrono::seconds validity) {
  M2MSEC_ASSIGN_OR_RETURN(std::vector<Certificate> chain, Certificate::load_pem_file(chain_pem));
  M2MSEC_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::load_pem_file(key_pem));
  if (!clock) return Error::usage("issuing CA: no clock");
  if (validity <= 0s) return Error::usage("issuing CA: the validity must be positive");
  X509* ca = chain.front().native();
  if (X509_check_private_key(ca, key.native()) != 1) {
    return Error::usage(crypto::with_openssl_errors("issuing CA: " + key_pem + " is not the key of " + chain_pem));
  }
  // RFC 5280 4.2.1.9, 4.2.1.3: a CA certificate whose key signs certificates; 4.2.1.1: the key identifier
  // that the authorityKeyIdentifier of what it issues repeats.
  if (X509_check_ca(ca) != 1 || (X509_get_key_usage(ca) & KU_KEY_CERT_SIGN) == 0 ||
      X509_get0_subject_key_id(ca) == nullptr) {
    return Error::usage("issuing CA: " + chain_pem + " is not a CA certificate with keyCertSign and a key identifier");
  }
  for (const Certificate& cert : chain) {
    if (auto checked = check_ca_profile(cert); !checked) {
      return Error::usage("issuing CA: " + chain_pem + ": " + checked.error().detail());
    }
  }
  return IssuingCa(std::move(chain), std::move(key), std::move(clock), validity);
}

Result<Certificate> IssuingCa::issue(const Csr& csr, const Authorisation& who) const {
  M2MSEC_TRY(check_csr_profile(csr));
  M2MSEC_ASSIGN_OR_RETURN(const std::vector<Identity> ids, granted_identities(csr, who));
  M2MSEC_ASSIGN_OR_RETURN(Bytes serial, crypto::random_bytes(crypto::system_rng(), kSerialSize));
  // RFC 5280 4.1.2.2: a positive INTEGER; the second-highest bit keeps it 16 octets long in DER.
  serial[0] = static_cast<std::uint8_t>((serial[0] & 0x7f) | 0x40);
  const Clock::TimePoint now = m_clock->now();
  X509* issuer = m_chain.front().native();

  X509Ptr x(X509_new());
  if (!x || X509_set_version(x.get(), X509_VERSION_3) != 1 ||
      ASN1_STRING_set(X509_get_serialNumber(x.get()), serial.data(), static_cast<int>(serial.size())) != 1 ||
      ASN1_TIME_set(X509_getm_notBefore(x.get()), std::chrono::system_clock::to_time_t(now - kBackdate)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x.get()), std::chrono::system_clock::to_time_t(now + m_validity)) == nullptr ||
      X509_set_pubkey(x.get(), X509_REQ_get0_pubkey(csr.native())) != 1) {
    return build_failure("serial, validity, key");
  }
  M2MSEC_ASSIGN_OR_RETURN(const bool san_critical, set_names(x.get(), issuer, ids.front().second));
  M2MSEC_TRY(add_extensions(x.get(), issuer, ids, san_critical));
  //= TS-0003 V3.18.0 §10.1.1.3
  //# Certificates are signed with ECDSA on secp256r1 with SHA-256.
  if (X509_sign(x.get(), m_key.native(), EVP_sha256()) <= 0) return build_failure("signing");
  const Certificate cert = Certificate::share(x.get());

  for (const Identity& id : ids) {
    if (auto checked = check_profile(cert, id.first); !checked) {
      return Error::internal("issued certificate outside the profile: " + checked.error().detail());
    }
  }
  //= TS-0003 V3.18.0 §8.1.2.2
  //# CA certificates carry name constraints restricting the names of subordinate end-entity certificates.
  if (auto valid = validate_path(cert, m_chain, m_trust, now); !valid) {
    if (valid.error().tls_alert() == internal::kBadCertificate) {
      return Error(Category::kPolicy, Rsc::kOriginatorHasNoPrivilege,
                   "certificate request: refused by the CA's own constraints: " + valid.error().detail());
    }
    return Error::internal("issued certificate does not validate: " + valid.error().detail());
  }
  return cert;
}

}  // namespace m2msec::pki
