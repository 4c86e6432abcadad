// `m2msec jose sign|verify|encrypt|decrypt|genkey`: JWS and JWE (RFC 7515, RFC 7516) with the algorithms
// TS-0003 V3.18.0 clause 8.5.3 permits. Keys are JWK files (a JWK or a JWK Set); every key of the file
// signs (or receives), so a set of several keys gives a general JSON serialization. verify and decrypt
// accept any serialization and print the payload; a failure prints one line on stderr and nothing on
// stdout.
#include <iostream>

#include "args.h"
#include "commands.h"
#include "jose_io.h"
#include "m2msec/jose/jwe.h"
#include "m2msec/jose/jws.h"

namespace m2msec::cli {
namespace {

ByteView bytes_of(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

// --serialization, else compact for one signer/recipient and general for several.
Result<jose::Serialization> serialization_of(const Options& opts, std::size_t parties) {
  if (const auto name = opts.get("serialization")) return jose::serialization_named(*name);
  return parties == 1 ? jose::Serialization::kCompact : jose::Serialization::kGeneral;
}

Result<void> sign(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"key", "alg", "serialization"}));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view key_path, opts.required("key"));
  M2MSEC_ASSIGN_OR_RETURN(const std::vector<jose::Jwk> keys, read_keys(key_path));
  M2MSEC_ASSIGN_OR_RETURN(const std::string payload, read_stdin());
  std::vector<jose::Signer> signers;
  for (const jose::Jwk& key : keys) signers.push_back({&key, std::string(opts.get("alg").value_or(""))});
  M2MSEC_ASSIGN_OR_RETURN(const jose::Jws jws, jose::sign(bytes_of(payload), signers));
  M2MSEC_ASSIGN_OR_RETURN(const jose::Serialization form, serialization_of(opts, signers.size()));
  M2MSEC_ASSIGN_OR_RETURN(const std::string out, jws.serialize(form));
  write_object(out);
  return {};
}

Result<void> verify(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"key"}));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view key_path, opts.required("key"));
  M2MSEC_ASSIGN_OR_RETURN(const std::vector<jose::Jwk> keys, read_keys(key_path));
  M2MSEC_ASSIGN_OR_RETURN(const std::string text, read_object());
  M2MSEC_ASSIGN_OR_RETURN(const jose::Jws jws, jose::Jws::parse(text));
  M2MSEC_ASSIGN_OR_RETURN(const jose::VerifiedJws verified, jose::verify(jws, keys));
  write_payload(verified.payload);
  return {};
}

Result<void> encrypt(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"key", "alg", "enc", "serialization"}));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view key_path, opts.required("key"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view enc, opts.required("enc"));
  M2MSEC_ASSIGN_OR_RETURN(const std::vector<jose::Jwk> keys, read_keys(key_path));
  M2MSEC_ASSIGN_OR_RETURN(const std::string plaintext, read_stdin());
  std::vector<jose::Recipient> recipients;
  for (const jose::Jwk& key : keys) recipients.push_back({&key, std::string(opts.get("alg").value_or(""))});
  M2MSEC_ASSIGN_OR_RETURN(const jose::Jwe jwe,
                          jose::encrypt(bytes_of(plaintext), recipients, jose::EncryptOptions{.enc = std::string(enc)}));
  M2MSEC_ASSIGN_OR_RETURN(const jose::Serialization form, serialization_of(opts, recipients.size()));
  M2MSEC_ASSIGN_OR_RETURN(const std::string out, jwe.serialize(form));
  write_object(out);
  return {};
}

Result<void> decrypt(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"key"}));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view key_path, opts.required("key"));
  M2MSEC_ASSIGN_OR_RETURN(const std::vector<jose::Jwk> keys, read_keys(key_path));
  M2MSEC_ASSIGN_OR_RETURN(const std::string text, read_object());
  M2MSEC_ASSIGN_OR_RETURN(const jose::Jwe jwe, jose::Jwe::parse(text));
  M2MSEC_ASSIGN_OR_RETURN(const jose::DecryptedJwe plain, jose::decrypt(jwe, keys));
  write_payload(plain.plaintext.view());
  return {};
}

// A fresh private JWK for ALG ("dir" is sized by --enc), with "alg" and an RFC 7638 "kid"; --public also
// prints the public JWK on a second line.
Result<void> genkey(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"alg", "enc"}, {"public"}));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view alg, opts.required("alg"));
  M2MSEC_ASSIGN_OR_RETURN(const jose::Jwk key, jose::Jwk::generate(alg, opts.get("enc").value_or("")));
  M2MSEC_ASSIGN_OR_RETURN(const json::Value priv, key.to_json(true));
  std::string out = json::serialize(priv) + "\n";
  if (opts.flag("public")) {
    M2MSEC_ASSIGN_OR_RETURN(const jose::Jwk pub, key.public_only());
    M2MSEC_ASSIGN_OR_RETURN(const json::Value pub_json, pub.to_json(false));
    out += json::serialize(pub_json) + "\n";
  }
  std::cout << out << std::flush;
  return {};
}

}  // namespace

Result<void> run_jose(const std::vector<std::string_view>& args) {
  return dispatch("jose", args, {{"sign", sign}, {"verify", verify}, {"encrypt", encrypt}, {"decrypt", decrypt}, {"genkey", genkey}});
}

}  // namespace m2msec::cli
