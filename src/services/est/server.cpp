#include "m2msec/est/server.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include <algorithm>

#include "m2msec/core/encoding.h"
#include "m2msec/core/secret.h"
#include "m2msec/est/wire.h"
#include "m2msec/pki/certs_only.h"

namespace m2msec::est {
namespace {

constexpr std::string_view kPrefix = "/.well-known/est/";
constexpr std::string_view kCertsOnly = "application/pkcs7-mime; smime-type=certs-only";

http::Response text(unsigned status, std::string reason) {
  return http::Response{status, {{"Content-Type", "text/plain"}}, std::move(reason) + "\n"};
}

// RFC 7030 4.2.3: the certs-only response, base64 with Content-Transfer-Encoding.
http::Response certs_only(std::string base64_body) {
  return http::Response{200,
                        {{"Content-Type", std::string(kCertsOnly)}, {"Content-Transfer-Encoding", "base64"}},
                        std::move(base64_body)};
}

unsigned status_for(const Error& error) {
  switch (error.category()) {
    case Category::kUsage:
    case Category::kProtocol:
      return 400;
    case Category::kAuth:
      return 401;
    case Category::kPolicy:
      return 403;
    default:
      return 500;
  }
}

http::Response failure(const Error& error) {
  const unsigned status = status_for(error);
  // An internal failure says nothing about the CA to the client.
  return text(status, status == 500 ? "internal error" : error.detail());
}

// DER of an OBJECT IDENTIFIER (tag, length, content) for a dotted OID.
Bytes oid_der(const char* dotted) {
  ASN1_OBJECT* oid = OBJ_txt2obj(dotted, 1);
  M2MSEC_CHECK(oid != nullptr);
  const int size = i2d_ASN1_OBJECT(oid, nullptr);
  Bytes out(static_cast<std::size_t>(size));
  unsigned char* p = out.data();
  i2d_ASN1_OBJECT(oid, &p);
  ASN1_OBJECT_free(oid);
  return out;
}

// A DER constructed value (SEQUENCE 0x30, SET 0x31) around content shorter than 128 octets.
Bytes constructed(std::uint8_t tag, ByteView content) {
  M2MSEC_CHECK(content.size() < 128);
  Bytes out(2 + content.size());
  out[0] = tag;
  out[1] = static_cast<std::uint8_t>(content.size());
  std::copy(content.begin(), content.end(), out.begin() + 2);
  return out;
}

// Attribute ::= SEQUENCE { type OID, values SET OF ... } with one OID value.
Bytes attribute(const char* type, const char* value) {
  const Bytes value_set = constructed(0x31, oid_der(value));
  return constructed(0x30, concat({oid_der(type), value_set}));
}

//= TS-0003 V3.18.0 §8.3.6.2.2
//# Step 4: the MEF validates the CSR attributes, including the challengePassword.
// RFC 7030 3.5 gives the one challengePassword a MEF can check without provisioning another secret: the
// association's channel binding (tls-unique on TLS 1.2, tls-exporter on TLS 1.3), base64-encoded. It binds
// the proof of possession to the authenticated association.
Result<void> check_pop_linking(const pki::Csr& csr, const tls::Session& session, bool required) {
  const auto password = csr.challenge_password();
  if (!password) {
    if (!required) return {};
    return Error(Category::kProtocol, "the CSR must carry this TLS session's channel binding as its "
                                      "challengePassword (RFC 7030 3.5)");
  }
  M2MSEC_ASSIGN_OR_RETURN(const Bytes binding, session.channel_binding());
  if (!ct::equal(as_bytes(*password), as_bytes(base64_encode(binding)))) {
    return Error(Category::kProtocol, "the challengePassword is not this TLS session's channel binding (RFC 7030 3.5)");
  }
  return {};
}

}  // namespace

void InMemoryEnrolees::add(std::string kpm_id, pki::Authorisation who) {
  std::lock_guard lock(m_mutex);
  m_entries.insert_or_assign(std::move(kpm_id), std::move(who));
}

std::optional<pki::Authorisation> InMemoryEnrolees::for_kpm_id(std::string_view kpm_id) const {
  std::lock_guard lock(m_mutex);
  const auto it = m_entries.find(kpm_id);
  if (it == m_entries.end()) return std::nullopt;
  return it->second;
}

Bytes csr_attributes_der() {
  //= TS-0003 V3.18.0 §8.3.6.2.2
  //# Step 2: the CSR attributes include a challengePassword and an identity attribute (10.1.4: the
  //# subjectAltName in an extension request).
  const Bytes items = concat({
      oid_der("1.2.840.113549.1.9.7"),                            // challengePassword
      attribute("1.2.840.10045.2.1", "1.2.840.10045.3.1.7"),      // id-ecPublicKey: secp256r1 (10.1.1.1)
      oid_der("1.2.840.10045.4.3.2"),                             // ecdsa-with-SHA256 (10.1.1.3)
      attribute("1.2.840.113549.1.9.14", "2.5.29.17"),            // extensionRequest: subjectAltName
  });
  return constructed(0x30, items);
}

Service::Service(ServiceOptions options) : m_options(std::move(options)) {
  M2MSEC_CHECK(m_options.ca != nullptr);
  auto der = pki::encode_certs_only(m_options.ca->chain());
  M2MSEC_CHECK(der.has_value());
  m_cacerts_body = mime_base64(*der);
  m_csrattrs_body = mime_base64(csr_attributes_der());
}

http::Response Service::handle(const http::Request& request, const http::Connection& connection) const {
  const std::string_view target = request.target;
  if (target.substr(0, kPrefix.size()) != kPrefix) return text(404, "not an EST operation");
  const std::string_view operation = target.substr(kPrefix.size());
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";
  if (operation == "cacerts") {
    if (!get) return text(405, "cacerts takes GET");
    return certs_only(m_cacerts_body);
  }
  if (operation == "csrattrs") {
    if (!get) return text(405, "csrattrs takes GET");
    return http::Response{200,
                          {{"Content-Type", "application/csrattrs"}, {"Content-Transfer-Encoding", "base64"}},
                          m_csrattrs_body};
  }
  if (operation == "simpleenroll" || operation == "simplereenroll") {
    if (!post) return text(405, std::string(operation) + " takes POST");
    return enroll(request, connection, operation == "simplereenroll");
  }
  // fullcmc and serverkeygen are optional in RFC 7030 and not offered (8.3.6.2 asks for the mandatory
  // operations and csrattrs); CA labels are not used.
  return text(404, "unknown EST operation");
}

http::Response Service::enroll(const http::Request& request, const http::Connection& connection,
                               bool reenroll) const {
  if (connection.session == nullptr) return text(401, "EST needs an authenticated TLS association");
  const tls::AuthenticatedPeer& peer = connection.session->peer();
  pki::Authorisation who;
  if (peer.kind == tls::CredentialKind::kPsk) {
    //= TS-0003 V3.18.0 §8.3.6.2.3
    //# Re-provisioning runs over certificate RSPF with the client's current EST client certificate.
    if (reenroll) return text(403, "re-enrolment needs the current EST client certificate");
    auto linked = m_options.enrolees ? m_options.enrolees->for_kpm_id(peer.identifier) : std::nullopt;
    if (!linked) return text(403, "no identity is linked to this enrolee");
    who = std::move(*linked);
  } else if (peer.kind == tls::CredentialKind::kCertificate && !peer.identifier.empty()) {
    // RFC 7030 4.2.2: a renewal keeps the identity of the certificate being renewed.
    who.identities.emplace_back(m_options.client_flavour, peer.identifier);
  } else {
    return text(401, "enrolment needs a client certificate or a PSK association");
  }

  const auto content_type = request.header("Content-Type");
  if (!content_type || !content_type->starts_with("application/pkcs10")) {
    return text(415, "the body must be application/pkcs10");
  }
  auto der = mime_base64_decode(request.body);
  if (!der) return failure(der.error());
  auto csr = pki::Csr::from_der(*der);
  if (!csr) return failure(csr.error());
  if (auto linked = check_pop_linking(*csr, *connection.session, m_options.require_pop_linking); !linked) {
    return failure(linked.error());
  }
  //= TS-0003 V3.18.0 §8.3.6.2.2
  //# Step 4: the identity asked for is checked against the authenticated client (IssuingCa::issue).
  auto issued = m_options.ca->issue(*csr, who);
  if (!issued) return failure(issued.error());
  auto body = pki::encode_certs_only(std::span<const pki::Certificate>(&*issued, 1));
  if (!body) return failure(body.error());
  return certs_only(mime_base64(*body));
}

}  // namespace m2msec::est
