// IBC operations per second: ECCSI sign and verify (RFC 6507, P-256/SHA-256) and SAKKE encapsulate and
// decapsulate (RFC 6508 with parameter set 1 of RFC 6509), ours next to wolfSSL's in the same run:
//
//   ours  m2msec::ibc: EccsiSigner::sign (SSK/PVT validated and HS cached once), eccsi_verify (HS from the
//         signature's PVT each time), sakke_encapsulate (a fresh SSV each time) and sakke_decapsulate (the
//         RFC 6508 6.2.2 check included), with the public values as octet strings.
//   peer  Debian's libwolfssl (GPL: linked into this benchmark and the tests only, never the product), with the
//         same credentials: wc_SignEccsiHash with the pair and HS set once; for a verification the PVT decoded
//         from the signature, wc_HashEccsiId, wc_SetEccsiHash and wc_VerifyEccsiHash; wc_GenerateSakkeSSV and
//         wc_MakeSakkeEncapsulatedSSV; wc_DeriveSakkeSSV. KPAK, Z_S, the identity and the RSK are imported
//         once (the RSK with wc_SetSakkeRsk: wc_ImportSakkeRsk leaves wc_DeriveSakkeSSV in BAD_STATE_E),
//         without wolfSSL's optional precomputation tables.
//
// Before measuring, the two sides are checked against each other once: our signature verifies in wolfSSL and
// wolfSSL's with ours; wolfSSL derives the SSV of our encapsulated data and we decapsulate wolfSSL's; each
// side refuses a tampered signature and tampered data. A failed check is reported with SkipWithError (the ctest
// smoke run fails on it). No timing is asserted.
//
// Names: "ibc/eccsi/sign|verify/ours|peer", "ibc/sakke/encapsulate|decapsulate/ours|peer"; items_per_second is
// the rate, and the peer's label names it.
#include <benchmark/benchmark.h>
// wolfssl/options.h first: it holds the configuration the other wolfSSL headers depend on.
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/eccsi.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sakke.h>
#include <wolfssl/version.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "m2msec/ibc/eccsi.h"
#include "m2msec/ibc/sakke.h"

namespace {

using m2msec::Bytes;
using m2msec::ByteView;

constexpr auto kSha256 = WC_HASH_TYPE_SHA256;
const std::string kPeerLabel = std::string("wolfSSL ") + LIBWOLFSSL_VERSION_STRING;

word32 size32(ByteView b) { return static_cast<word32>(b.size()); }
word16 size16(ByteView b) { return static_cast<word16>(b.size()); }

Bytes octets(std::string_view text) {
  const ByteView b = m2msec::as_bytes(text);
  return Bytes(b.begin(), b.end());
}

Bytes tampered(ByteView b, std::size_t at) {
  Bytes out(b.begin(), b.end());
  out[at] ^= 0x01;
  return out;
}

// The wolfSSL side, with everything imported once.
struct Peer {
  WC_RNG rng{};
  EccsiKey signer{};    // KPAK, SSK/PVT and HS set
  EccsiKey verifier{};  // KPAK only
  ecc_point* pvt = nullptr;
  ecc_point* sig_pvt = nullptr;
  ecc_point* rsk = nullptr;  // the receiver's, referenced by `receiver`
  SakkeKey sender{};    // Z_S and the receiver's identity
  SakkeKey receiver{};  // Z_S, the identity and the RSK
  bool rng_ok = false, signer_ok = false, verifier_ok = false, sender_ok = false, receiver_ok = false;

  Peer() = default;
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;
  ~Peer() {
    if (pvt != nullptr) wc_ecc_del_point(pvt);
    if (sig_pvt != nullptr) wc_ecc_del_point(sig_pvt);
    if (signer_ok) wc_FreeEccsiKey(&signer);
    if (verifier_ok) wc_FreeEccsiKey(&verifier);
    if (sender_ok) wc_FreeSakkeKey(&sender);
    if (receiver_ok) wc_FreeSakkeKey(&receiver);
    if (rsk != nullptr) {
      wc_ecc_forcezero_point(rsk);
      wc_ecc_del_point(rsk);
    }
    if (rng_ok) wc_FreeRng(&rng);
  }

  bool sign(ByteView message, Bytes& sig) {
    sig.assign(m2msec::ibc::kEccsiSignatureSize, 0);
    word32 size = static_cast<word32>(sig.size());
    return wc_SignEccsiHash(&signer, &rng, kSha256, message.data(), size32(message), sig.data(), &size) == 0 &&
           size == sig.size();
  }

  bool verify(ByteView id, ByteView message, ByteView sig) {
    byte hs[WC_MAX_DIGEST_SIZE];
    byte hs_size = sizeof hs;
    int verified = 0;
    return wc_DecodeEccsiPvtFromSig(&verifier, sig.data(), size32(sig), sig_pvt) == 0 &&
           wc_HashEccsiId(&verifier, kSha256, id.data(), size32(id), sig_pvt, hs, &hs_size) == 0 &&
           wc_SetEccsiHash(&verifier, hs, hs_size) == 0 &&
           wc_VerifyEccsiHash(&verifier, kSha256, message.data(), size32(message), sig.data(), size32(sig),
                              &verified) == 0 &&
           verified == 1;
  }

  // A fresh SSV; `data` is R_(b,S) || H as the RFC lays it out.
  bool encapsulate(std::array<byte, m2msec::ibc::kSakkeSsvSize>& ssv, Bytes& data) {
    word16 ssv_size = static_cast<word16>(ssv.size());
    if (wc_GenerateSakkeSSV(&sender, &rng, ssv.data(), &ssv_size) != 0 || ssv_size != ssv.size()) return false;
    std::array<byte, m2msec::ibc::kSakkeSsvSize> h = ssv;  // in: SSV, out: H
    std::array<byte, m2msec::ibc::kSakkePointSize> auth{};
    word16 auth_size = static_cast<word16>(auth.size());
    if (wc_MakeSakkeEncapsulatedSSV(&sender, kSha256, h.data(), static_cast<word16>(h.size()), auth.data(),
                                    &auth_size) != 0 ||
        auth_size != auth.size()) {
      return false;
    }
    data.assign(auth.begin(), auth.end());
    data.insert(data.end(), h.begin(), h.end());
    return true;
  }

  bool decapsulate(ByteView data, std::array<byte, m2msec::ibc::kSakkeSsvSize>& ssv) {
    if (data.size() != m2msec::ibc::kSakkeEncapsulatedSize) return false;
    std::copy(data.end() - static_cast<std::ptrdiff_t>(ssv.size()), data.end(), ssv.begin());  // in: H, out: SSV
    return wc_DeriveSakkeSSV(&receiver, kSha256, ssv.data(), static_cast<word16>(ssv.size()), data.data(),
                             static_cast<word16>(m2msec::ibc::kSakkePointSize)) == 0;
  }
};

struct Fixture {
  std::string error;  // why the comparison means nothing; empty when the cross-check passed
  Bytes id = octets("bench-device@m2msec.example");
  Bytes message = Bytes(64, 0x6d);
  Bytes kpak, z, our_sig, peer_sig, our_data, peer_data;
  std::optional<m2msec::ibc::EccsiSigner> signer;
  m2msec::SecretBytes rsk;
  Peer peer;

  std::string set_up();
  std::string cross_check();
};

std::string Fixture::set_up() {
  namespace ibc = m2msec::ibc;
  auto eccsi_kms = ibc::EccsiKms::generate();
  auto sakke_kms = ibc::SakkeKms::generate();
  if (!eccsi_kms || !sakke_kms) return "cannot make the KMS master keys";
  kpak = eccsi_kms->kpak();
  z = sakke_kms->public_key();
  auto key = eccsi_kms->issue(id);
  auto receiver_key = sakke_kms->receiver_key(id);
  if (!key || !receiver_key) return "the KMS cannot issue the identity's keys";
  rsk = std::move(receiver_key).value();
  Bytes ssk(key->ssk.view().begin(), key->ssk.view().end());
  const Bytes pvt = key->pvt;
  auto validated = ibc::EccsiSigner::validate(kpak, id, std::move(key).value());
  if (!validated) return "ours: the issued SSK/PVT do not validate: " + validated.error().detail();
  signer.emplace(std::move(validated).value());

  peer.rng_ok = wc_InitRng(&peer.rng) == 0;
  peer.signer_ok = wc_InitEccsiKey(&peer.signer, nullptr, INVALID_DEVID) == 0;
  peer.verifier_ok = wc_InitEccsiKey(&peer.verifier, nullptr, INVALID_DEVID) == 0;
  peer.sender_ok = wc_InitSakkeKey_ex(&peer.sender, 128, ECC_SAKKE_1, nullptr, INVALID_DEVID) == 0;
  peer.receiver_ok = wc_InitSakkeKey_ex(&peer.receiver, 128, ECC_SAKKE_1, nullptr, INVALID_DEVID) == 0;
  peer.pvt = wc_ecc_new_point();
  peer.sig_pvt = wc_ecc_new_point();
  peer.rsk = wc_ecc_new_point();
  if (!peer.rng_ok || !peer.signer_ok || !peer.verifier_ok || !peer.sender_ok || !peer.receiver_ok ||
      peer.pvt == nullptr || peer.sig_pvt == nullptr || peer.rsk == nullptr) {
    return "wolfSSL: cannot initialise its keys";
  }
  // The same credentials on the wolfSSL side: KPAK, SSK, PVT and HS; Z_S, the identity and the RSK.
  mp_int wolf_ssk;
  if (mp_init(&wolf_ssk) != MP_OKAY) return "wolfSSL: mp_init";
  byte hs[WC_MAX_DIGEST_SIZE];
  byte hs_size = sizeof hs;
  const bool eccsi_ok =
      wc_ImportEccsiPublicKey(&peer.signer, kpak.data(), size32(kpak), 0) == 0 &&
      wc_ImportEccsiPublicKey(&peer.verifier, kpak.data(), size32(kpak), 0) == 0 &&
      wc_DecodeEccsiSsk(&peer.signer, ssk.data(), size32(ssk), &wolf_ssk) == 0 &&
      wc_DecodeEccsiPvt(&peer.signer, pvt.data(), size32(pvt), peer.pvt) == 0 &&
      wc_HashEccsiId(&peer.signer, kSha256, id.data(), size32(id), peer.pvt, hs, &hs_size) == 0 &&
      wc_SetEccsiHash(&peer.signer, hs, hs_size) == 0 && wc_SetEccsiPair(&peer.signer, &wolf_ssk, peer.pvt) == 0;
  mp_forcezero(&wolf_ssk);
  std::fill(ssk.begin(), ssk.end(), 0);
  if (!eccsi_ok) return "wolfSSL: cannot import our KPAK/SSK/PVT";
  const bool sakke_ok = wc_ImportSakkePublicKey(&peer.sender, z.data(), size32(z), 0) == 0 &&
                        wc_ImportSakkePublicKey(&peer.receiver, z.data(), size32(z), 0) == 0 &&
                        wc_SetSakkeIdentity(&peer.sender, id.data(), size16(id)) == 0 &&
                        wc_SetSakkeIdentity(&peer.receiver, id.data(), size16(id)) == 0 &&
                        wc_DecodeSakkeRsk(&peer.receiver, rsk.view().data(), size32(rsk.view()), peer.rsk) == 0 &&
                        wc_SetSakkeRsk(&peer.receiver, peer.rsk, nullptr, 0) == 0;
  if (!sakke_ok) return "wolfSSL: cannot import our Z_S/RSK";
  return cross_check();
}

std::string Fixture::cross_check() {
  namespace ibc = m2msec::ibc;
  auto sig = signer->sign(message);
  if (!sig) return "ours: sign failed: " + sig.error().detail();
  our_sig = std::move(sig).value();
  if (!peer.sign(message, peer_sig)) return "wolfSSL: sign failed";
  if (!ibc::eccsi_verify(kpak, id, message, our_sig)) return "ours does not verify our own signature";
  if (!peer.verify(id, message, peer_sig)) return "wolfSSL does not verify its own signature";
  if (!peer.verify(id, message, our_sig)) return "wolfSSL does not verify our signature";
  if (auto ok = ibc::eccsi_verify(kpak, id, message, peer_sig); !ok) {
    return "ours does not verify wolfSSL's signature: " + ok.error().detail();
  }
  for (const Bytes* s : {&our_sig, &peer_sig}) {
    if (ibc::eccsi_verify(kpak, id, message, tampered(*s, 40)) || peer.verify(id, message, tampered(*s, 40))) {
      return "a tampered signature was accepted";
    }
  }

  auto sealed = ibc::sakke_encapsulate(z, id);
  if (!sealed) return "ours: encapsulate failed: " + sealed.error().detail();
  our_data = sealed->data;
  std::array<byte, ibc::kSakkeSsvSize> peer_ssv{}, got{};
  if (!peer.encapsulate(peer_ssv, peer_data)) return "wolfSSL: encapsulate failed";
  auto ours_own = ibc::sakke_decapsulate(z, id, rsk.view(), our_data);
  if (!ours_own || !std::ranges::equal(ours_own->view(), sealed->ssv.view())) return "ours does not decapsulate its own data";
  if (!peer.decapsulate(peer_data, got) || got != peer_ssv) return "wolfSSL does not derive its own SSV";
  if (!peer.decapsulate(our_data, got) || !std::ranges::equal(got, sealed->ssv.view())) {
    return "wolfSSL does not derive the SSV of our encapsulated data";
  }
  auto ours_peer = ibc::sakke_decapsulate(z, id, rsk.view(), peer_data);
  if (!ours_peer) return "ours does not decapsulate wolfSSL's data: " + ours_peer.error().detail();
  if (!std::ranges::equal(ours_peer->view(), peer_ssv)) return "ours derives another SSV from wolfSSL's data";
  for (const Bytes* d : {&our_data, &peer_data}) {
    const Bytes bad = tampered(*d, d->size() - 1);  // in H
    if (ibc::sakke_decapsulate(z, id, rsk.view(), bad) || peer.decapsulate(bad, got)) {
      return "tampered encapsulated data were accepted";
    }
  }
  return {};
}

enum class Op { kSign, kVerify, kEncapsulate, kDecapsulate };
enum class Side { kOurs, kPeer };

void run(benchmark::State& state, Fixture* f, Op op, Side side) {
  if (!f->error.empty()) {
    state.SkipWithError(f->error.c_str());
    return;
  }
  if (side == Side::kPeer) state.SetLabel(kPeerLabel);
  Bytes scratch;
  std::array<byte, m2msec::ibc::kSakkeSsvSize> ssv{};
  for (auto _ : state) {
    bool ok = false;
    if (side == Side::kOurs) {
      switch (op) {
        case Op::kSign: {
          auto sig = f->signer->sign(f->message);
          ok = sig.has_value();
          benchmark::DoNotOptimize(sig);
          break;
        }
        case Op::kVerify: ok = m2msec::ibc::eccsi_verify(f->kpak, f->id, f->message, f->our_sig).has_value(); break;
        case Op::kEncapsulate: {
          auto sealed = m2msec::ibc::sakke_encapsulate(f->z, f->id);
          ok = sealed.has_value();
          benchmark::DoNotOptimize(sealed);
          break;
        }
        case Op::kDecapsulate: {
          auto got = m2msec::ibc::sakke_decapsulate(f->z, f->id, f->rsk.view(), f->our_data);
          ok = got.has_value();
          benchmark::DoNotOptimize(got);
          break;
        }
      }
    } else {
      switch (op) {
        case Op::kSign: ok = f->peer.sign(f->message, scratch); break;
        case Op::kVerify: ok = f->peer.verify(f->id, f->message, f->peer_sig); break;
        case Op::kEncapsulate: ok = f->peer.encapsulate(ssv, scratch); break;
        case Op::kDecapsulate: ok = f->peer.decapsulate(f->peer_data, ssv); break;
      }
      benchmark::DoNotOptimize(scratch.data());
      benchmark::DoNotOptimize(ssv.data());
    }
    if (!ok) {
      state.SkipWithError("failed while measuring");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

}  // namespace

int main(int argc, char** argv) {
  if (wolfCrypt_Init() != 0) {
    std::fprintf(stderr, "bench_ibc: wolfCrypt_Init failed\n");
    return 1;
  }
  auto fixture = std::make_unique<Fixture>();
  fixture->error = fixture->set_up();
  if (!fixture->error.empty()) std::fprintf(stderr, "bench_ibc: cross-check failed: %s\n", fixture->error.c_str());
  constexpr std::pair<const char*, Op> kOps[] = {{"eccsi/sign", Op::kSign},
                                                 {"eccsi/verify", Op::kVerify},
                                                 {"sakke/encapsulate", Op::kEncapsulate},
                                                 {"sakke/decapsulate", Op::kDecapsulate}};
  for (const auto& [name, op] : kOps) {
    for (Side side : {Side::kOurs, Side::kPeer}) {
      const std::string full = std::string("ibc/") + name + (side == Side::kOurs ? "/ours" : "/peer");
      benchmark::RegisterBenchmark(full.c_str(), run, fixture.get(), op, side);
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  fixture.reset();
  wolfCrypt_Cleanup();
  return 0;
}
