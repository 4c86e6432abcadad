// Micro-benchmarks of the crypto wrappers and TS-0003 derivations, each next to a raw OpenSSL baseline doing
// the same work in the same run. scripts/bench turns the results into ratios (ours / raw).
//
// Names: "aead/<alg>/<size>/ours" vs "aead/<alg>/<size>/raw"; "derive/<what>/ours" vs "derive/hmac-sha256/raw".
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <span>
#include <string>

#include "m2msec/crypto/aead.h"
#include "m2msec/keys/derive.h"
#include "m2msec/keys/export.h"

namespace {

using m2msec::Bytes;

constexpr std::array<const char*, 6> kAeads{"aes-128-gcm", "aes-256-gcm", "aes-128-ccm",
                                            "aes-256-ccm", "aes-128-ccm-8", "aes-256-ccm-8"};
constexpr std::array<std::size_t, 3> kSizes{64, 1024, 16384};
const Bytes kAad(13, 0x17);  // a TLS-record-sized header
const Bytes kNonce(12, 0x24);
// One plaintext and one output buffer shared by both sides, so that buffer placement (alignment, 4 KiB
// aliasing between input and output) cannot make one side look faster than the other.
const Bytes kPlaintext(16384, 0x5a);
Bytes g_out(16384 + 16);

void aead_ours(benchmark::State& state, std::string name, std::size_t size) {
  const auto aead = m2msec::crypto::Aead::named(name).value();
  auto key = m2msec::crypto::AeadKey::create(aead, Bytes(aead.key_size(), 0x42)).value();
  const m2msec::ByteView plaintext(kPlaintext.data(), size);
  const std::span<std::uint8_t> out(g_out.data(), size + aead.tag_size());
  if (!key.seal(kNonce, kAad, plaintext, out)) {
    state.SkipWithError("AeadKey::seal failed");
    return;
  }
  for (auto _ : state) {
    auto n = key.seal(kNonce, kAad, plaintext, out);
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}

// The same work with raw EVP calls: key schedule once, then per message nonce, [CCM: length], AAD,
// encrypt, final and tag. Returns false if any call fails.
bool raw_seal(EVP_CIPHER_CTX* ctx, bool ccm, int tag_len, m2msec::ByteView plaintext, std::span<std::uint8_t> out) {
  const int size = static_cast<int>(plaintext.size());
  int len = 0, tail = 0;
  bool ok = EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, kNonce.data()) == 1;
  if (ccm) ok &= EVP_EncryptUpdate(ctx, nullptr, &len, nullptr, size) == 1;
  ok &= EVP_EncryptUpdate(ctx, nullptr, &len, kAad.data(), static_cast<int>(kAad.size())) == 1;
  ok &= EVP_EncryptUpdate(ctx, out.data(), &len, plaintext.data(), size) == 1;
  ok &= EVP_EncryptFinal_ex(ctx, out.data() + len, &tail) == 1;
  ok &= EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, tag_len, out.data() + plaintext.size()) == 1;
  return ok;
}

void aead_raw(benchmark::State& state, std::string name, std::size_t size) {
  const auto aead = m2msec::crypto::Aead::named(name).value();
  const bool ccm = name.find("ccm") != std::string::npos;
  const std::string evp_name = (aead.key_size() == 16 ? "AES-128-" : "AES-256-") + std::string(ccm ? "CCM" : "GCM");
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, evp_name.c_str(), nullptr);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const Bytes key(aead.key_size(), 0x42);
  const int tag_len = static_cast<int>(aead.tag_size());
  EVP_EncryptInit_ex(ctx, cipher, nullptr, nullptr, nullptr);
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, nullptr);
  if (ccm) EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, tag_len, nullptr);
  EVP_EncryptInit_ex(ctx, nullptr, nullptr, key.data(), nullptr);
  const m2msec::ByteView plaintext(kPlaintext.data(), size);
  const std::span<std::uint8_t> out(g_out.data(), size + aead.tag_size());
  // The baseline must produce exactly what our seal() produces, or the comparison means nothing.
  auto ours = m2msec::crypto::AeadKey::create(aead, key).value().seal(kNonce, kAad, plaintext).value();
  if (!raw_seal(ctx, ccm, tag_len, plaintext, out) || !std::equal(out.begin(), out.end(), ours.begin(), ours.end())) {
    state.SkipWithError("raw EVP baseline differs from AeadKey::seal");
  } else {
    for (auto _ : state) {
      benchmark::DoNotOptimize(raw_seal(ctx, ccm, tag_len, plaintext, out));
      benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
  }
  EVP_CIPHER_CTX_free(ctx);
  EVP_CIPHER_free(cipher);
}

m2msec::keys::EnrolmentKey test_ke() { return m2msec::keys::EnrolmentKey::from(Bytes(32, 0x11)).value(); }

void derive_km(benchmark::State& state) {
  const auto ke = test_ke();
  for (auto _ : state) benchmark::DoNotOptimize(m2msec::keys::derive_km(ke, "maf.example.com"));
}
void derive_kpsa(benchmark::State& state) {
  const auto ke = test_ke();
  for (auto _ : state) benchmark::DoNotOptimize(m2msec::keys::derive_kpsa(ke, "/cse-1/CAE-1"));
}
void derive_usage_key(benchmark::State& state) {
  const auto ke = test_ke();
  for (auto _ : state) {
    benchmark::DoNotOptimize(m2msec::keys::derive_usage_constrained_key(ke, m2msec::keys::Suid::kRspfSaef, "t.example"));
  }
}
void derive_e2e(benchmark::State& state) {
  const auto kpsa = m2msec::keys::ProvisionedScKey::from(Bytes(32, 0x22)).value();
  const Bytes salt(16, 0x33);
  for (auto _ : state) benchmark::DoNotOptimize(m2msec::keys::derive_e2e_keys(kpsa, salt));
}
void derive_export_split(benchmark::State& state) {
  const Bytes exported(48, 0x44);
  for (auto _ : state) benchmark::DoNotOptimize(m2msec::keys::split_bootstrap_export(exported));
}
// Baseline: one HMAC-SHA-256 over the Km message with OpenSSL's one-shot HMAC().
void hmac_raw(benchmark::State& state) {
  const Bytes key(32, 0x11);
  const std::string msg = "oneM2M Enrolment Key to Master Credential derivationmaf.example.com";
  unsigned char out[32];
  unsigned int len = 0;
  for (auto _ : state) {
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
         msg.size(), out, &len);
    benchmark::DoNotOptimize(out);
  }
}

int register_all() {
  for (const char* name : kAeads) {
    for (std::size_t size : kSizes) {
      const std::string base = std::string("aead/") + name + "/" + std::to_string(size);
      benchmark::RegisterBenchmark((base + "/ours").c_str(), aead_ours, name, size);
      benchmark::RegisterBenchmark((base + "/raw").c_str(), aead_raw, name, size);
    }
  }
  benchmark::RegisterBenchmark("derive/km/ours", derive_km);
  benchmark::RegisterBenchmark("derive/kpsa/ours", derive_kpsa);
  benchmark::RegisterBenchmark("derive/usage-key/ours", derive_usage_key);
  benchmark::RegisterBenchmark("derive/e2e/ours", derive_e2e);
  benchmark::RegisterBenchmark("derive/export-split/ours", derive_export_split);
  benchmark::RegisterBenchmark("derive/hmac-sha256/raw", hmac_raw);
  return 0;
}
const int kRegistered = register_all();

}  // namespace

BENCHMARK_MAIN();
