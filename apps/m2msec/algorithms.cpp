// `m2msec algorithms`: every algorithm of the registry, one per line as "<family> <name> <status>",
// where status is "ok" after a round trip through OpenSSL, or "unavailable: <reason>".
#include <iostream>

#include "commands.h"
#include "m2msec/crypto/aead.h"
#include "m2msec/crypto/block_cipher.h"
#include "m2msec/crypto/hash.h"
#include "m2msec/crypto/key_agreement.h"
#include "m2msec/crypto/key_wrap.h"
#include "m2msec/crypto/registry.h"
#include "m2msec/crypto/signature.h"

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

Result<void> exercise_signature(std::string_view name) {
  M2MSEC_ASSIGN_OR_RETURN(const crypto::SignatureScheme scheme, crypto::SignatureScheme::named(name));
  M2MSEC_ASSIGN_OR_RETURN(const crypto::PrivateKey key, scheme.generate());
  M2MSEC_ASSIGN_OR_RETURN(const crypto::PublicKey pub, key.public_key());
  M2MSEC_ASSIGN_OR_RETURN(const Bytes sig, crypto::sign(scheme, key, as_bytes("m2msec"), crypto::SignatureEncoding::kRaw));
  return crypto::verify(scheme, pub, as_bytes("m2msec"), sig, crypto::SignatureEncoding::kRaw);
}

Result<void> exercise_key_agreement(std::string_view name) {
  M2MSEC_ASSIGN_OR_RETURN(const crypto::KeyAgreement ka, crypto::KeyAgreement::named(name));
  M2MSEC_ASSIGN_OR_RETURN(const crypto::PrivateKey a, ka.generate());
  M2MSEC_ASSIGN_OR_RETURN(const crypto::PrivateKey b, ka.generate());
  M2MSEC_ASSIGN_OR_RETURN(const crypto::PublicKey a_pub, a.public_key());
  M2MSEC_ASSIGN_OR_RETURN(const crypto::PublicKey b_pub, b.public_key());
  M2MSEC_ASSIGN_OR_RETURN(const SecretBytes ab, crypto::derive_shared_secret(ka, a, b_pub));
  M2MSEC_ASSIGN_OR_RETURN(const SecretBytes ba, crypto::derive_shared_secret(ka, b, a_pub));
  if (!ct::equal(ab.view(), ba.view())) return Error::internal("ECDH secrets differ");
  return {};
}

Result<void> exercise_block_cipher(std::string_view name) {
  M2MSEC_ASSIGN_OR_RETURN(const crypto::BlockCipher cipher, crypto::BlockCipher::named(name));
  const Bytes key(cipher.key_size(), 0x42);
  const Bytes block(cipher.block_size(), 0x24);
  Bytes enc(cipher.block_size()), dec(cipher.block_size());
  M2MSEC_TRY(cipher.encrypt_block(key, block, enc));
  M2MSEC_TRY(cipher.decrypt_block(key, enc, dec));
  if (dec != block) return Error::internal("block cipher round trip mismatch");
  return {};
}

Result<void> exercise_key_wrap(std::string_view name) {
  M2MSEC_ASSIGN_OR_RETURN(const crypto::KeyWrap kw, crypto::KeyWrap::named(name));
  const Bytes kek(kw.key_size(), 0x42);
  const Bytes key(32, 0x24);
  M2MSEC_ASSIGN_OR_RETURN(const Bytes wrapped, kw.wrap(kek, key));
  M2MSEC_ASSIGN_OR_RETURN(const SecretBytes unwrapped, kw.unwrap(kek, wrapped));
  if (!ct::equal(unwrapped.view(), key)) return Error::internal("key wrap round trip mismatch");
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
  for (auto name : crypto::algorithm_names(crypto::Family::kSignature)) report("signature", name, exercise_signature(name));
  for (auto name : crypto::algorithm_names(crypto::Family::kKeyAgreement)) {
    report("key-agreement", name, exercise_key_agreement(name));
  }
  for (auto name : crypto::algorithm_names(crypto::Family::kBlockCipher)) {
    report("block-cipher", name, exercise_block_cipher(name));
  }
  for (auto name : crypto::algorithm_names(crypto::Family::kKeyWrap)) {
    report("key-wrap", name, exercise_key_wrap(name));
  }
  if (!all_ok) return Error::unsupported("some registered algorithms are unavailable");
  return {};
}

}  // namespace m2msec::cli
