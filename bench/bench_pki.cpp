// Certificate issuance from CSRs (the EST CA's work per enrolment): parse the DER PKCS #10 request,
// check its profile and proof-of-possession signature, build the certificate and sign it, next to a raw
// OpenSSL baseline doing the same in the same run. scripts/bench turns the results into ratios.
//
// Ours: pki::Csr::from_der + pki::IssuingCa::issue, which also checks the TS-0003 10.1.4 CSR profile, the
// requester's authorisation and the CA's own name constraints on the result (validating it as a relying
// party would), and checks the result against the 10.1.1 profile. The raw baseline does the minimum:
// d2i_X509_REQ, X509_REQ_verify, the same extensions (basicConstraints, keyUsage, SKI, AKI, the CSR's
// subjectAltName), a random 16-octet serial, X509_sign with ecdsa-with-SHA256, i2d_X509.
//
// Names: "pki/issue/ours" vs "pki/issue/raw" (time per certificate).
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "m2msec/pki/ca.h"
#include "m2msec/pki/csr.h"
#include "test_pki_dir.h"

namespace {

namespace pki = m2msec::pki;
using m2msec::Bytes;

constexpr const char* kIdentity = "bench.in-cse.m2m.example.com";

struct Material {
  std::filesystem::path dir;
  std::shared_ptr<const pki::IssuingCa> ca;
  std::optional<pki::Certificate> ca_cert_owner;
  std::optional<pki::PrivateKey> ca_key_owner;
  X509* ca_cert = nullptr;
  EVP_PKEY* ca_key = nullptr;
  Bytes csr_der;
};
Material* g = nullptr;

bool make_material() {
  g = new Material();
  const auto dir = m2msec::bench::make_test_pki("bench-pki");
  if (!dir) return false;
  g->dir = *dir;
  const std::string cert = (g->dir / "estca.pem").string(), key = (g->dir / "estca.key").string();
  auto ca = pki::IssuingCa::load(cert, key, std::make_shared<m2msec::SystemClock>(), std::chrono::hours(24 * 365));
  if (!ca) return false;
  g->ca = std::make_shared<const pki::IssuingCa>(std::move(*ca));
  // The raw baseline signs with the same CA certificate and key.
  auto chain = pki::Certificate::load_pem_file(cert);
  auto ca_key = pki::PrivateKey::load_pem_file(key);
  if (!chain || !ca_key) return false;
  g->ca_cert_owner = chain->front();
  g->ca_key_owner = *ca_key;
  g->ca_cert = g->ca_cert_owner->native();
  g->ca_key = g->ca_key_owner->native();
  // The CSR is made with m2msec (its content is what an enrolee sends); both sides parse the same octets.
  auto requester = pki::PrivateKey::generate_p256();
  if (!requester) return false;
  auto csr = pki::Csr::create(*requester, pki::Flavour::kCseId, kIdentity);
  if (!csr) return false;
  g->csr_der = csr->der();
  return g->ca_cert != nullptr && g->ca_key != nullptr;
}

bool add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
  const bool ok = ext != nullptr && X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// The raw baseline: the certificate's DER, or empty on any failure.
Bytes raw_issue(const Bytes& csr_der) {
  const unsigned char* p = csr_der.data();
  std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(csr_der.size())),
                                                          X509_REQ_free);
  if (!req) return {};
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (key == nullptr || X509_REQ_verify(req.get(), key) != 1) return {};
  std::unique_ptr<STACK_OF(X509_EXTENSION), void (*)(STACK_OF(X509_EXTENSION)*)> requested(
      X509_REQ_get_extensions(req.get()), [](STACK_OF(X509_EXTENSION)* s) { sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free); });
  X509_EXTENSION* san = nullptr;
  for (int i = 0; requested && i < sk_X509_EXTENSION_num(requested.get()); ++i) {
    X509_EXTENSION* e = sk_X509_EXTENSION_value(requested.get(), i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) == NID_subject_alt_name) san = e;
  }
  if (san == nullptr) return {};

  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return {};
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  ASN1_INTEGER* serial_number = BN_to_ASN1_INTEGER(bn, nullptr);
  BN_free(bn);
  bool ok = X509_set_version(cert.get(), 2) == 1 && X509_set_serialNumber(cert.get(), serial_number) == 1;
  ASN1_INTEGER_free(serial_number);
  X509_NAME* subject = X509_NAME_new();
  ok = ok && X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                        reinterpret_cast<const unsigned char*>(kIdentity), -1, -1, 0) == 1;
  ok = ok && X509_set_subject_name(cert.get(), subject) == 1;
  X509_NAME_free(subject);
  ok = ok && X509_set_issuer_name(cert.get(), X509_get_subject_name(g->ca_cert)) == 1;
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300) != nullptr &&
       X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600) != nullptr;
  ok = ok && X509_set_pubkey(cert.get(), key) == 1;
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, g->ca_cert, cert.get(), nullptr, nullptr, 0);
  ok = ok && add_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE") &&
       add_extension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature") &&
       add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash") &&
       add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always") &&
       X509_add_ext(cert.get(), san, -1) == 1;
  ok = ok && X509_sign(cert.get(), g->ca_key, EVP_sha256()) > 0;
  if (!ok) return {};
  const int size = i2d_X509(cert.get(), nullptr);
  if (size <= 0) return {};
  Bytes der(static_cast<std::size_t>(size));
  unsigned char* out = der.data();
  i2d_X509(cert.get(), &out);
  return der;
}

Bytes ours_issue(const Bytes& csr_der) {
  static const pki::Authorisation who{{{pki::Flavour::kCseId, kIdentity}}};
  auto csr = pki::Csr::from_der(csr_der);
  if (!csr) return {};
  auto cert = g->ca->issue(*csr, who);
  if (!cert) return {};
  return cert->der();
}

// Both sides' certificates carry the same extensions and verify under the CA's key.
std::string compare_outputs() {
  const Bytes ours = ours_issue(g->csr_der), raw = raw_issue(g->csr_der);
  if (ours.empty() || raw.empty()) return ours.empty() ? "ours failed" : "raw failed";
  auto extension_nids = [](const Bytes& der, bool& verified) {
    const unsigned char* p = der.data();
    X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
    std::string nids;
    verified = x != nullptr && X509_verify(x, g->ca_key) == 1;
    for (int i = 0; x != nullptr && i < X509_get_ext_count(x); ++i) {
      nids += std::to_string(OBJ_obj2nid(X509_EXTENSION_get_object(X509_get_ext(x, i)))) + ",";
    }
    X509_free(x);
    return nids;
  };
  bool ours_ok = false, raw_ok = false;
  std::string a = extension_nids(ours, ours_ok), b = extension_nids(raw, raw_ok);
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  if (!ours_ok || !raw_ok) return "a certificate does not verify under the CA key";
  if (a != b) return "the two certificates carry different extensions";
  return {};
}

void issue(benchmark::State& state, bool ours) {
  if (const std::string why = compare_outputs(); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  for (auto _ : state) {
    Bytes der = ours ? ours_issue(g->csr_der) : raw_issue(g->csr_der);
    if (der.empty()) {
      state.SkipWithError("issuance failed");
      return;
    }
    benchmark::DoNotOptimize(der.data());
  }
  state.counters["certs_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  if (!make_material()) {
    std::fprintf(stderr, "bench_pki: cannot make the test PKI\n");
    return 1;
  }
  benchmark::RegisterBenchmark("pki/issue/ours", issue, true);
  benchmark::RegisterBenchmark("pki/issue/raw", issue, false);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ignored;
  std::filesystem::remove_all(g->dir, ignored);
  return 0;
}
