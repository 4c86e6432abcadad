#include "m2msec/client/channel.h"

#include <atomic>
#include <cctype>

#include "m2msec/core/text.h"
#include "m2msec/crypto/random.h"
#include "m2msec/core/encoding.h"
#include "m2msec/http/onem2m.h"
#include "m2msec/coap/onem2m.h"
#include "m2msec/tls/profile.h"

namespace m2msec::client {
namespace {

namespace attr = onem2m::attr;

// The Credential-ID type of the key a client authenticates with (Table 12.3.2.1-1).
keys::CredIdType credential_type(tls::PskIdentityKind kind) {
  switch (kind) {
    case tls::PskIdentityKind::kKpmId: return keys::CredIdType::kMefSymmetricKey;
    case tls::PskIdentityKind::kKmId: return keys::CredIdType::kMafSymmetricKey;
    default: return keys::CredIdType::kSaefSymmetricKey;
  }
}

std::string debug_text(const onem2m::Response& response) {
  if (response.pc) {
    if (const auto* dbg = response.pc->find("m2m:dbg"); dbg != nullptr && dbg->string() != nullptr) return *dbg->string();
  }
  return std::string(rsc_name(response.rsc));
}

}  // namespace

namespace {

// The base resource of a URL's path: "/mef", not "/", "/a/b" or "/mef?x".
Result<void> check_base(std::string_view target, std::string_view url) {
  if (target.size() < 2 || target.find_first_of("?/", 1) != std::string::npos) {
    return Error::usage(concat({"the URL must name the base resource, e.g. https://host:port/mef or coaps://host:port/mef, not ", url}));
  }
  return {};
}

// The DTLS 1.2 profile with the credential kind of `profile` (a TLS one, as the callers build it).
Result<const tls::SecurityProfile*> dtls_profile_like(const tls::SecurityProfile* profile) {
  if (profile == nullptr) return Error::usage("no security profile");
  if (profile->transport == tls::Transport::kDtls) return profile;
  //= TS-0003 V3.18.0 §10.2.3
  //# DTLS 1.2 carries the same credentials as TLS (PSK, certificates, raw public keys) with its own suites.
  for (const tls::SecurityProfile& p : tls::all_profiles()) {
    if (p.transport == tls::Transport::kDtls && p.version == tls::Version::kTls12 && p.credential == profile->credential) {
      return &p;
    }
  }
  return Error::unsupported(concat({"no DTLS profile for the credential of ", profile->name}));
}

// coap:// or coaps:// (schemes are case-insensitive, RFC 3986 3.1).
bool is_coap_url(std::string_view url) {
  const auto end = url.find("://");
  if (end == std::string_view::npos) return false;
  std::string scheme(url.substr(0, end));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return scheme == "coap" || scheme == "coaps";
}

}  // namespace

Result<Endpoint> Endpoint::make(std::string_view url, tls::Config config, std::string originator) {
  Endpoint endpoint;
  if (is_coap_url(url)) {
    M2MSEC_ASSIGN_OR_RETURN(endpoint.coap_url, coap::Url::parse(url));
    if (endpoint.coap_url.scheme != "coaps") {
      return Error::usage("a MEF, MAF or KMS is reached over https or coaps: plain coap has no security association");
    }
    M2MSEC_TRY(check_base(endpoint.coap_url.target, url));
    endpoint.binding = Binding::kCoap;
    //= TS-0008 V3.9.0 §10
    //# coaps: the CoAP binding over a DTLS security association; only the profile differs from https.
    M2MSEC_ASSIGN_OR_RETURN(config.profile, dtls_profile_like(config.profile));
    if (config.server_name.empty()) config.server_name = endpoint.coap_url.host;
  } else {
    M2MSEC_ASSIGN_OR_RETURN(endpoint.url, http::Url::parse(url));
    if (endpoint.url.scheme != "https") return Error::usage("a MEF, MAF or KMS is reached over https or coaps only");
    M2MSEC_TRY(check_base(endpoint.url.target, url));
    if (config.server_name.empty()) config.server_name = endpoint.url.host;
  }
  config.role = tls::Role::kClient;
  M2MSEC_ASSIGN_OR_RETURN(std::shared_ptr<tls::Context> context, tls::Context::create(std::move(config)));
  endpoint.tls = std::move(context);
  endpoint.originator = std::move(originator);
  return endpoint;
}

Result<Endpoint> Endpoint::plain(std::string_view url, std::string originator) {
  Endpoint endpoint;
  M2MSEC_ASSIGN_OR_RETURN(endpoint.coap_url, coap::Url::parse(url));
  if (endpoint.coap_url.scheme != "coap") return Error::usage("Endpoint::plain takes a coap:// URL");
  M2MSEC_TRY(check_base(endpoint.coap_url.target, url));
  endpoint.binding = Binding::kCoap;
  endpoint.originator = std::move(originator);
  return endpoint;
}

Result<Endpoint> Endpoint::psk(std::string_view url, std::string server_name, tls::PskIdentityKind kind,
                               tls::ClientPsk psk) {
  M2MSEC_ASSIGN_OR_RETURN(const auto credential, keys::CredentialId::make(credential_type(kind), psk.identity));
  tls::Config config;
  config.profile = tls::find_profile("ts0003-tls12-psk");
  config.server_name = std::move(server_name);
  config.psk = std::move(psk);
  return make(url, std::move(config), credential.to_string());
}

struct Channel::State {
  std::unique_ptr<http::ClientConnection> connection;  // https
  std::optional<coap::ClientConnection> coap;            // coaps, coap
  std::string base;
  std::string originator;
  std::optional<keys::Fqdn> fqdn;
};

Channel::Channel(std::unique_ptr<State> state) : m_state(std::move(state)) {}
Channel::Channel(Channel&&) noexcept = default;
Channel& Channel::operator=(Channel&&) noexcept = default;
Channel::~Channel() = default;

Result<Channel> Channel::open(const Endpoint& endpoint) {
  auto state = std::make_unique<State>();
  if (endpoint.binding == Endpoint::Binding::kCoap) {
    M2MSEC_ASSIGN_OR_RETURN(coap::ClientConnection connection, coap::ClientConnection::open(endpoint.coap_url, endpoint.tls));
    state->coap.emplace(std::move(connection));
  } else {
    M2MSEC_ASSIGN_OR_RETURN(state->connection, http::ClientConnection::open(endpoint.url, endpoint.tls));
  }
  state->base = endpoint.target().substr(1);
  state->originator = endpoint.originator;
  return Channel(std::move(state));
}

bool Channel::secured() const {
  return m_state->coap ? m_state->coap->session() != nullptr : m_state->connection->session() != nullptr;
}
const tls::Session& Channel::session() const {
  const tls::Session* session = m_state->coap ? m_state->coap->session() : m_state->connection->session();
  M2MSEC_CHECK(session != nullptr);
  return *session;
}
Result<keys::Fqdn> Channel::fqdn() {
  if (m_state->fqdn) return *m_state->fqdn;
  M2MSEC_ASSIGN_OR_RETURN(const json::Object base,
                          call(onem2m::Operation::kRetrieve, m_state->base, std::nullopt, std::nullopt, Rsc::kOk));
  // {"m2m:mefb": {...}} or {"m2m:mafb": {...}}: the one member's value.
  const json::Value* inner = base.size() == 1 ? &base.begin()->second : nullptr;
  const json::Value* fqdn = inner == nullptr ? nullptr : inner->find(attr::kFqdn);
  if (fqdn == nullptr || fqdn->string() == nullptr) {
    return Error(Category::kProtocol, "the base resource does not give the function's FQDN");
  }
  M2MSEC_ASSIGN_OR_RETURN(m_state->fqdn, keys::Fqdn::parse(*fqdn->string()));
  return *m_state->fqdn;
}
const std::string& Channel::base() const { return m_state->base; }
const std::string& Channel::originator() const { return m_state->originator; }

Result<onem2m::Response> Channel::exchange(onem2m::Operation op, std::string to, std::optional<onem2m::ResourceType> type,
                                           std::optional<json::Value> content, Rsc expected) {
  onem2m::Request request;
  request.op = op;
  request.to = std::move(to);
  request.fr = m_state->originator;
  M2MSEC_ASSIGN_OR_RETURN(const Bytes nonce, crypto::random_bytes(crypto::system_rng(), 12));
  request.rqi = hex_encode(nonce);
  if (op == onem2m::Operation::kCreate && type) request.ty = static_cast<std::uint32_t>(*type);
  request.pc = std::move(content);
  M2MSEC_ASSIGN_OR_RETURN(onem2m::Response response, m_state->coap ? coap::send_primitive(*m_state->coap, request)
                                                                     : http::send_primitive(*m_state->connection, request));
  if (response.rsc != expected) {
    return Error(Category::kPolicy, response.rsc,
                 concat({onem2m::operation_name(op), " ", request.to, ": ", std::to_string(static_cast<int>(response.rsc)),
                         " ", rsc_name(response.rsc), ": ", debug_text(response)}));
  }
  return response;
}

Result<json::Object> Channel::call(onem2m::Operation op, std::string to, std::optional<onem2m::ResourceType> type,
                                   std::optional<json::Value> content, Rsc expected) {
  M2MSEC_ASSIGN_OR_RETURN(onem2m::Response response, exchange(op, std::move(to), type, std::move(content), expected));
  if (!response.pc) return Error(Category::kProtocol, "the response has no content");
  if (type) return onem2m::check_representation(*type, *response.pc);
  if (const auto* object = response.pc->object()) return *object;
  return Error(Category::kProtocol, "the response content is not an object");
}

}  // namespace m2msec::client
