#include "m2msec/pki/csr.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>

#include "internal.h"
#include "m2msec/core/encoding.h"
#include "m2msec/crypto/openssl_errors.h"

namespace m2msec::pki {
namespace {

struct ExtensionsFree {
  void operator()(STACK_OF(X509_EXTENSION) * e) const { sk_X509_EXTENSION_pop_free(e, X509_EXTENSION_free); }
};
struct ExtensionFree {
  void operator()(X509_EXTENSION* e) const { X509_EXTENSION_free(e); }
};
using ExtensionsPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), ExtensionsFree>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, ExtensionFree>;

constexpr std::string_view kPemBegin = "-----BEGIN CERTIFICATE REQUEST-----";
constexpr std::string_view kPemEnd = "-----END CERTIFICATE REQUEST-----";
constexpr std::size_t kPemLineLength = 64;  // RFC 7468 clause 2
constexpr std::string_view kSubjectCn = "m2msec";
constexpr int kMaxChallengePassword = 255;  // ub-challenge-password, RFC 2985 Annex A
constexpr std::size_t kMaxCommonName = 64;  // ub-common-name, RFC 5280 Appendix A.1

Error malformed(std::string detail) {
  return Error(Category::kProtocol, Rsc::kBadRequest, "CSR: " + std::move(detail));
}

// Splits off the first line (LF or CRLF ending); false when text holds no line break.
bool take_line(std::string_view& text, std::string_view& line) {
  const auto lf = text.find('\n');
  if (lf == std::string_view::npos) return false;
  line = text.substr(0, lf);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  text.remove_prefix(lf + 1);
  return true;
}

// Printable ASCII without space: what an IA5String identifier may hold (never empty, never a NUL).
bool is_ia5_identifier(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

// Adds the challengePassword attribute as a UTF8String (RFC 2985 5.4.1 allows any DirectoryString).
Result<void> add_challenge_password(X509_REQ* req, std::string_view password) {
  ASN1_STRING* utf8 = nullptr;
  // Also checks that the text is UTF-8 of 1 to 255 characters.
  if (ASN1_mbstring_ncopy(&utf8, reinterpret_cast<const unsigned char*>(password.data()),
                          static_cast<int>(password.size()), MBSTRING_UTF8, B_ASN1_UTF8STRING, 1,
                          kMaxChallengePassword) <= 0) {
    return Error::usage(crypto::with_openssl_errors("CSR: challengePassword must be 1-255 characters of UTF-8"));
  }
  const internal::StringPtr owned(utf8);
  if (X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword, V_ASN1_UTF8STRING, utf8->data, utf8->length) != 1) {
    return Error::internal(crypto::with_openssl_errors("adding the challengePassword"));
  }
  return {};
}

}  // namespace

namespace internal {

GeneralNamesPtr requested_names(X509_REQ* req) {
  const int first = X509_REQ_get_attr_by_NID(req, NID_ext_req, -1);
  if (first < 0 || X509_REQ_get_attr_by_NID(req, NID_ext_req, first) >= 0) return nullptr;
  ExtensionsPtr extensions(X509_REQ_get_extensions(req));
  int critical = 0;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509V3_get_d2i(extensions.get(), NID_subject_alt_name, &critical, nullptr)));
  ERR_clear_error();  // a malformed extensionRequest just asks for nothing
  return names;
}

//= TS-0003 V3.18.0 §10.1.4
//# The subjectAltName holds the AE-ID, CSE-ID or Node-ID in the name form of 10.1.1.5, 10.1.1.7, 10.1.1.8.
Result<void> add_identifier(GENERAL_NAMES* names, Flavour flavour, std::string_view identifier) {
  if (flavour == Flavour::kDevice) {
    return Error::unsupported("device identifiers are the manufacturer's, never requested or issued");
  }
  if (!is_ia5_identifier(identifier) || identifier.find('*') != std::string_view::npos) {
    return Error::usage("subjectAltName: an identifier is printable ASCII without '*'");
  }
  std::string value(identifier);
  int type = GEN_URI;
  if (flavour == Flavour::kCseId || flavour == Flavour::kFqdn) {
    if (auto fqdn = keys::Fqdn::parse(identifier); !fqdn) {
      return Error::usage("subjectAltName: " + fqdn.error().detail());
    }
    type = GEN_DNS;
  } else if (flavour == Flavour::kAeId) {
    if (!is_absolute_ae_id(identifier)) return Error::usage("subjectAltName: not an Absolute AE-ID: " + value);
    value = ae_id_uri(identifier);
  }
  StringPtr text(ASN1_IA5STRING_new());
  GENERAL_NAME* name = GENERAL_NAME_new();
  if (!text || name == nullptr || ASN1_STRING_set(text.get(), value.data(), static_cast<int>(value.size())) != 1 ||
      sk_GENERAL_NAME_push(names, name) <= 0) {
    GENERAL_NAME_free(name);
    return Error::internal(crypto::with_openssl_errors("building a subjectAltName"));
  }
  GENERAL_NAME_set0_value(name, type, text.release());
  return {};
}

NamePtr common_name(std::string_view cn) {
  NamePtr name(X509_NAME_new());
  if (!name || cn.size() > kMaxCommonName ||
      X509_NAME_add_entry_by_NID(name.get(), NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.data()), static_cast<int>(cn.size()), -1,
                                 0) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return name;
}

}  // namespace internal

Result<Csr> Csr::from_der(ByteView der) {
  const unsigned char* p = der.data();
  X509_REQ* r = d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size()));
  if (r == nullptr) return malformed(crypto::with_openssl_errors("not a DER CertificationRequest"));
  std::shared_ptr<X509_REQ> owned(r, X509_REQ_free);
  if (p != der.data() + der.size()) return malformed("trailing octets after the CertificationRequest");
  return Csr(std::move(owned));
}

// RFC 7468 clause 3, strict form: the begin line, base64 lines of at most 64 characters, the end line.
Result<Csr> Csr::from_pem(std::string_view pem) {
  std::string_view line;
  if (!take_line(pem, line) || line != kPemBegin) return malformed("PEM must start with " + std::string(kPemBegin));
  std::string base64;
  for (;;) {
    if (!take_line(pem, line)) {  // only the end line may lack a line break
      line = pem;
      pem = {};
      if (line != kPemEnd) return malformed("PEM block without " + std::string(kPemEnd));
      break;
    }
    if (line == kPemEnd) break;
    if (line.empty() || line.size() > kPemLineLength) return malformed("PEM line empty or longer than 64");
    base64 += line;
  }
  if (!pem.empty()) return malformed("text after the PEM block");
  auto der = base64_decode(base64);
  if (!der) return malformed("PEM body: " + der.error().detail());
  return from_der(*der);
}

Result<Csr> Csr::create(const PrivateKey& key, Flavour flavour, std::string_view identifier,
                        std::string_view challenge_password) {
  internal::GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) return Error::internal(crypto::with_openssl_errors("GENERAL_NAMES_new"));
  M2MSEC_TRY(internal::add_identifier(names.get(), flavour, identifier));
  std::shared_ptr<X509_REQ> req(X509_REQ_new(), X509_REQ_free);
  const internal::NamePtr subject = internal::common_name(kSubjectCn);
  ExtensionsPtr extensions(sk_X509_EXTENSION_new_null());
  ExtensionPtr san(X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get()));
  if (!req || !subject || !extensions || !san || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_subject_name(req.get(), subject.get()) != 1 || X509_REQ_set_pubkey(req.get(), key.native()) != 1 ||
      sk_X509_EXTENSION_push(extensions.get(), san.get()) <= 0) {
    return Error::internal(crypto::with_openssl_errors("building a CSR"));
  }
  san.release();  // now owned by extensions
  if (X509_REQ_add_extensions(req.get(), extensions.get()) != 1) {
    return Error::internal(crypto::with_openssl_errors("adding the extensionRequest"));
  }
  if (!challenge_password.empty()) M2MSEC_TRY(add_challenge_password(req.get(), challenge_password));
  if (X509_REQ_sign(req.get(), key.native(), EVP_sha256()) <= 0) {
    return Error::usage(crypto::with_openssl_errors("CSR: signing with the key"));
  }
  Csr csr(std::move(req));
  // What is left to check is the key (P-256, uncompressed).
  if (auto checked = check_csr_profile(csr); !checked) return Error::usage(checked.error().detail());
  return csr;
}

Bytes Csr::der() const { return internal::to_der(i2d_X509_REQ, m_req.get()); }

std::string Csr::pem() const {
  return internal::to_pem([this](BIO* bio) { return PEM_write_bio_X509_REQ(bio, m_req.get()); });
}

Bytes Csr::spki_der() const { return internal::to_der(i2d_X509_PUBKEY, X509_REQ_get_X509_PUBKEY(m_req.get())); }

std::vector<std::string> Csr::identifiers(Flavour flavour) const {
  const internal::GeneralNamesPtr names = internal::requested_names(m_req.get());
  return internal::identifiers_in(names.get(), flavour);
}

std::optional<std::string> Csr::challenge_password() const {
  const int index = X509_REQ_get_attr_by_NID(m_req.get(), NID_pkcs9_challengePassword, -1);
  if (index < 0 || X509_REQ_get_attr_by_NID(m_req.get(), NID_pkcs9_challengePassword, index) >= 0) return std::nullopt;
  X509_ATTRIBUTE* attribute = X509_REQ_get_attr(m_req.get(), index);
  if (X509_ATTRIBUTE_count(attribute) != 1) return std::nullopt;
  const ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(attribute, 0);
  // DirectoryString (RFC 2985 5.4.1).
  constexpr std::array<int, 5> kDirectoryString{V_ASN1_PRINTABLESTRING, V_ASN1_UTF8STRING, V_ASN1_T61STRING,
                                                V_ASN1_BMPSTRING, V_ASN1_UNIVERSALSTRING};
  if (value == nullptr ||
      std::find(kDirectoryString.begin(), kDirectoryString.end(), value->type) == kDirectoryString.end()) {
    return std::nullopt;
  }
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, value->value.asn1_string);
  if (length < 0) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return out;
}

Result<void> Csr::verify_signature() const {
  EVP_PKEY* key = X509_REQ_get0_pubkey(m_req.get());
  if (key == nullptr) return malformed(crypto::with_openssl_errors("unusable public key"));
  if (X509_REQ_verify(m_req.get(), key) != 1) return malformed(crypto::with_openssl_errors("bad signature"));
  return {};
}

//= TS-0003 V3.18.0 §10.1.4
//# A CSR includes the subjectPublicKeyInfo and an extension request with the subjectAltName.
Result<void> check_csr_profile(const Csr& csr) {
  if (auto problem = internal::key_problem(X509_REQ_get_X509_PUBKEY(csr.native()))) {
    return malformed(*problem + " (TS-0003 10.1.1.1)");
  }
  const X509_ALGOR* algorithm = nullptr;
  X509_REQ_get0_signature(csr.native(), nullptr, &algorithm);
  if (auto problem = internal::signature_algorithm_problem(algorithm)) {
    return malformed(*problem + " (TS-0003 10.1.1.3)");
  }
  M2MSEC_TRY(csr.verify_signature());
  const internal::GeneralNamesPtr names = internal::requested_names(csr.native());
  if (!names) return malformed("no subjectAltName in an extensionRequest (TS-0003 10.1.4)");
  bool any = false;
  for (Flavour f : {Flavour::kDevice, Flavour::kNodeId, Flavour::kCseId, Flavour::kAeId, Flavour::kFqdn}) {
    any = any || !internal::identifiers_in(names.get(), f).empty();
  }
  if (!any) return malformed("the subjectAltName holds no identifier (TS-0003 10.1.4)");
  if (auto wildcard = internal::wildcard_in(names.get())) {
    return malformed("wildcard in subjectAltName: " + *wildcard + " (TS-0003 10.1.1.5-10.1.1.8)");
  }
  return {};
}

}  // namespace m2msec::pki
