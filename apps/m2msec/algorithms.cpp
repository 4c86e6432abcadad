// `m2msec algorithms`: every algorithm of the registry, one per line as "<family> <name> <status>",
// where status is "ok" after a round trip through OpenSSL, or "unavailable: <reason>".
#include <iostream>

#include "commands.h"
#include "m2msec/crypto/aead.h"
#include "m2msec/crypto/hash.h"
#include "m2msec/crypto/registry.h"

namespace m2msec::cli {
namespace {

Result<void> exercise_hash(std::string_view name) {
  M2MSEC_ASSIGN_OR_RETURN(const crypto::Hash hash, crypto::Hash::named(name));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes digest, hash.digest(as_bytes("m2msec")));
  if (digest.size() != hash.size()) return Error::internal("digest size mismatch");
  return {};
}

Result<void> exercise_aead(std::string_view name) {
  M2MSEC_ASSIGN_OR_RETURN(const crypto::Aead aead, crypto::Aead::named(name));
  const Bytes key(aead.key_size(), 0x42);
  const Bytes nonce(aead.nonce_size(), 0x24);
  M2MSEC_ASSIGN_OR_RETURN(crypto::AeadKey k, crypto::AeadKey::create(aead, key));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes sealed, k.seal(nonce, as_bytes("aad"), as_bytes("m2msec")));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes opened, k.open(nonce, as_bytes("aad"), sealed));
  if (as_text(opened) != "m2msec") return Error::internal("AEAD round trip mismatch");
  return {};
}

}  // namespace

Result<void> run_algorithms(const std::vector<std::string_view>& args) {
  if (!args.empty()) return Error::usage("algorithms takes no arguments");
  bool all_ok = true;
  auto report = [&](std::string_view family, std::string_view name, const Result<void>& r) {
    std::cout << family << ' ' << name << ' ' << (r ? std::string("ok") : "unavailable: " + r.error().detail()) << '\n';
    all_ok = all_ok && r.has_value();
  };
  for (auto name : crypto::algorithm_names(crypto::Family::kHash)) report("hash", name, exercise_hash(name));
  for (auto name : crypto::algorithm_names(crypto::Family::kAead)) report("aead", name, exercise_aead(name));
  if (!all_ok) return Error::unsupported("some registered algorithms are unavailable");
  return {};
}

}  // namespace m2msec::cli
