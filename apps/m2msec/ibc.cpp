// `m2msec ibc ...`: the IBC credentials by hand: a KMS master file, the keys it issues for an identity, ECCSI
// signatures (RFC 6507) and SAKKE encapsulation (RFC 6508, parameter set 1 of RFC 6509); and `ibc saef`, the
// initiator of the IBC-based SAEF (docs/ibc-saef.md).
//
// Identities are --id TEXT (its UTF-8 octets) or --id-hex HEX. Keys and points are hex in the RFC encodings:
// scalars big-endian (N = 32 octets for ECCSI), points 0x04 || x || y (65 octets for KPAK and PVT, 257 for Z_S and
// the RSK). Results are printed as name=value lines of lowercase hex. Exit status: 0 done (verify: "ok"); 1 the
// check failed (a signature that does not verify, a key that does not validate, data that do not decapsulate), the
// reason one line on stderr; 2 bad input (malformed hex, wrong sizes, a missing option), one line on stderr and
// nothing on stdout. Only `issue` prints the SSK and the RSK; only `kms-init` writes the master secrets (0600).
#include <algorithm>
#include <iostream>
#include <string>

#include "args.h"
#include "commands.h"
#include "files.h"
#include "m2msec/client/ibc.h"
#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"
#include "m2msec/ibc/eccsi.h"
#include "m2msec/http/client.h"
#include "m2msec/ibc/saef.h"
#include "m2msec/ibc/sakke.h"
#include "m2msec/kms/kms.h"

namespace m2msec::cli {
namespace {

constexpr std::size_t kMaxMessageSize = std::size_t{16} << 20;

void print_hex(std::string_view name, ByteView value) { std::cout << name << '=' << hex_encode(value) << '\n'; }

// The identity of --id TEXT or --id-hex HEX (exactly one, not empty).
Result<Bytes> identity(const Options& opts) {
  const auto text = opts.get("id");
  const auto hex = opts.get("id-hex");
  if (text && hex) return Error::usage("give --id or --id-hex, not both");
  if (!text && !hex) return Error::usage("--id TEXT or --id-hex HEX is required");
  Bytes id;
  if (text) {
    const ByteView octets = as_bytes(*text);
    id.assign(octets.begin(), octets.end());
  } else {
    auto decoded = hex_decode(*hex);
    if (!decoded) return Error::usage(concat({"--id-hex: ", decoded.error().detail()}));
    id = std::move(decoded).value();
  }
  if (id.empty()) return Error::usage("the identity must not be empty");
  return id;
}

Error size_error(std::string_view name, std::size_t size, std::string_view what) {
  return Error::usage(concat({"--", name, " must be ", std::to_string(size), " octets (", what, ")"}));
}

// A public value of option `name`: hex of exactly `size` octets.
Result<Bytes> public_hex(const Options& opts, std::string_view name, std::size_t size, std::string_view what) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view text, opts.required(name));
  auto value = hex_decode(text);
  if (!value) return Error::usage(concat({"--", name, ": ", value.error().detail()}));
  if (value->size() != size) return size_error(name, size, what);
  return std::move(value).value();
}

// A secret value of option `name` (kept in SecretBytes from the start).
Result<SecretBytes> secret_hex(const Options& opts, std::string_view name, std::size_t size, std::string_view what) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view text, opts.required(name));
  auto value = hex_decode_secret(text);
  if (!value) return Error::usage(concat({"--", name, ": ", value.error().detail()}));
  if (value->size() != size) return size_error(name, size, what);
  return std::move(value).value();
}

Result<std::string> read_message() {
  std::string input;
  char buffer[65536];
  while (std::cin.read(buffer, sizeof buffer) || std::cin.gcount() > 0) {
    input.append(buffer, static_cast<std::size_t>(std::cin.gcount()));
    if (input.size() > kMaxMessageSize) return Error::usage("message on stdin larger than 16 MiB");
  }
  return input;
}

// Any failure of a check is reported as one (exit 1), whatever category the library gave it.
Error check_failed(std::string_view what, const Error& e) { return Error::crypto(concat({what, ": ", e.detail()})); }

Result<void> kms_init(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"out"}));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view out, opts.required("out"));
  M2MSEC_ASSIGN_OR_RETURN(const kms::MasterKeys keys, kms::generate_master());
  const SecretBytes text = kms::master_text(keys);
  // Never over an existing file, readable by its owner only.
  M2MSEC_TRY(write_file(out, as_text(text.view()), /*secret=*/true));
  print_hex("kpak", keys.eccsi.kpak());
  print_hex("z", keys.sakke.public_key());
  return {};
}

Result<void> issue(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"kms", "id", "id-hex"}));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view path, opts.required("kms"));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes id, identity(opts));
  M2MSEC_ASSIGN_OR_RETURN(std::string text, read_file(path));
  auto master = kms::parse_master(text);
  std::fill(text.begin(), text.end(), '\0');
  if (!master) return Error(master.error().category(), concat({"--kms ", path, ": ", master.error().detail()}));
  const kms::LocalIssuer issuer(std::move(master).value());
  M2MSEC_ASSIGN_OR_RETURN(const kms::IssuedKeys keys, issuer.issue(id));
  const kms::PublicParameters& params = keys.public_keys;
  // The KMS checks what it hands out as the user will (RFC 6507 5.1.2, RFC 6508 6.1.2).
  auto signer = ibc::EccsiSigner::validate(params.kpak, id, {keys.eccsi.ssk.clone(), keys.eccsi.pvt});
  if (!signer) return Error::internal(concat({"the issued SSK/PVT do not validate: ", signer.error().detail()}));
  if (auto valid = ibc::sakke_validate_receiver_key(params.z, id, keys.rsk.view()); !valid) {
    return Error::internal(concat({"the issued RSK does not validate: ", valid.error().detail()}));
  }
  print_hex("kpak", params.kpak);
  print_hex("z", params.z);
  print_hex("ssk", keys.eccsi.ssk.view());
  print_hex("pvt", keys.eccsi.pvt);
  print_hex("rsk", keys.rsk.view());
  return {};
}

Result<void> sign(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"kpak", "id", "id-hex", "ssk", "pvt"}));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes kpak, public_hex(opts, "kpak", ibc::kEccsiPointSize, "04 || x || y"));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes id, identity(opts));
  M2MSEC_ASSIGN_OR_RETURN(SecretBytes ssk, secret_hex(opts, "ssk", ibc::kEccsiScalarSize, "a big-endian scalar"));
  M2MSEC_ASSIGN_OR_RETURN(Bytes pvt, public_hex(opts, "pvt", ibc::kEccsiPointSize, "04 || x || y"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string message, read_message());
  //= RFC 6507 §5.1.2
  //# the user checks the SSK and PVT against KPAK and its identity before using them
  auto signer = ibc::EccsiSigner::validate(kpak, id, {std::move(ssk), std::move(pvt)});
  if (!signer) return check_failed("the SSK and PVT do not validate for this identity under --kpak", signer.error());
  M2MSEC_ASSIGN_OR_RETURN(const Bytes signature, signer->sign(as_bytes(message)));
  std::cout << hex_encode(signature) << '\n';
  return {};
}

Result<void> verify(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"kpak", "id", "id-hex", "sig"}));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes kpak, public_hex(opts, "kpak", ibc::kEccsiPointSize, "04 || x || y"));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes id, identity(opts));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes signature, public_hex(opts, "sig", ibc::kEccsiSignatureSize, "r || s || PVT"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string message, read_message());
  if (auto ok = ibc::eccsi_verify(kpak, id, as_bytes(message), signature); !ok) {
    return check_failed("the signature does not verify", ok.error());
  }
  std::cout << "ok\n";
  return {};
}

Result<void> encap(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"z", "id", "id-hex"}));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes z, public_hex(opts, "z", ibc::kSakkePointSize, "04 || x || y"));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes id, identity(opts));
  auto sealed = ibc::sakke_encapsulate(z, id);
  if (!sealed) return check_failed("cannot encapsulate to this identity under --z", sealed.error());
  print_hex("ssv", sealed->ssv.view());
  print_hex("data", sealed->data);
  return {};
}

Result<void> decap(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"z", "id", "id-hex", "rsk", "data"}));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes z, public_hex(opts, "z", ibc::kSakkePointSize, "04 || x || y"));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes id, identity(opts));
  M2MSEC_ASSIGN_OR_RETURN(const SecretBytes rsk, secret_hex(opts, "rsk", ibc::kSakkePointSize, "04 || x || y"));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes data, public_hex(opts, "data", ibc::kSakkeEncapsulatedSize, "R_(b,S) || H"));
  //= RFC 6508 §6.2.2
  //# the SSV is used only if R_(b,S) recomputed from it matches the one received
  auto ssv = ibc::sakke_decapsulate(z, id, rsk.view(), data);
  if (!ssv) return check_failed("the data do not decapsulate for this identity", ssv.error());
  print_hex("ssv", ssv->view());
  return {};
}

//= seed 002 §8.3.1; docs/ibc-saef.md
//# The initiator of the IBC-based SAEF: message 1 to the responder's POST /ibc-saef (plain HTTP: the messages
//# protect themselves), message 2 checked, then the PSK for the TLS-PSK handshake with that responder.
Result<void> saef(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"credential", "url", "responder", "fqdns"},
                                                           {"show-secrets"}));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view path, opts.required("credential"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view url_text, opts.required("url"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view responder, opts.required("responder"));
  M2MSEC_ASSIGN_OR_RETURN(const http::Url url, http::Url::parse(url_text));
  if (url.scheme != "http") return Error::usage("--url: the IBC-SAEF exchange is an http:// POST");
  M2MSEC_ASSIGN_OR_RETURN(const std::string text, read_file(path));
  M2MSEC_ASSIGN_OR_RETURN(const ibc::SaefCredential self, client::saef_credential(text));
  ibc::SaefPolicy policy{{}, std::make_shared<SystemClock>()};
  if (const auto fqdns = opts.get("fqdns")) {
    for (const std::string& fqdn : comma_list(*fqdns)) policy.fqdns.insert(fqdn);
  }
  M2MSEC_ASSIGN_OR_RETURN(auto started, ibc::SaefInitiator::start(self, std::string(responder), policy));
  http::Request request{"POST", url.target, {{"Content-Type", "application/octet-stream"}},
                        std::string(as_text(started.second))};
  M2MSEC_ASSIGN_OR_RETURN(const http::Response response, http::send(url, std::move(request), nullptr));
  if (response.status != 200) {
    return Error(Category::kAuth, concat({"the responder refused message 1 (HTTP ", std::to_string(response.status), "): ",
                                          response.body}));
  }
  auto key = started.first.finish(as_bytes(response.body));
  if (!key) return check_failed("message 2 does not authenticate the responder", key.error());
  std::cout << "peer=" << key->peer_id << '\n' << "peer-id2=" << key->peer_id2 << '\n'
            << "psk-identity=" << key->psk_identity << '\n';
  if (opts.flag("show-secrets")) print_hex("psk", key->psk.view());
  return {};
}

}  // namespace

Result<void> run_ibc(const std::vector<std::string_view>& args) {
  return dispatch("ibc", args,
                  {{"kms-init", kms_init}, {"issue", issue}, {"sign", sign}, {"verify", verify}, {"encap", encap},
                   {"decap", decap}, {"saef", saef}});
}

}  // namespace m2msec::cli
