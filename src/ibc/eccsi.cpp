// ECCSI (RFC 6507) on OpenSSL 3 BIGNUM / EC_GROUP / EC_POINT, with NIST P-256 and SHA-256 (N = 32).
//
// Side channels. Secret values are KSAK, v, SSK, j and everything derived from them before a signature is
// output (HS.v, r.SSK, HE + r.SSK and its inverse). Every BIGNUM holding one carries BN_FLG_CONSTTIME and is
// cleared on release (BN_clear_free; the BN_CTX is a secure one).
//  - Constant time: scalar multiplications by a secret scalar are always [k]G alone, EC_POINT_mul with only the
//    generator term (OpenSSL's fixed-window / Montgomery-ladder code for a single scalar); the inversion of
//    HE + r.SSK is Fermat's x^(q-2) with BN_mod_exp_mont_consttime.
//  - Not strictly constant time: BN_mod_add / BN_mod_mul / BN_nnmod on secret operands (OpenSSL's timing
//    depends on the operands' word lengths, not on their bits); the rejection sampling of v and j (it reveals
//    only that a draw was rejected, which happens with probability < 2^-32 for P-256).
//  - Public only: verification, [HS]PVT in validation, and the comparison of the result with KPAK.
#include "m2msec/ibc/eccsi.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include <memory>
#include <string>
#include <string_view>

#include "m2msec/crypto/hash.h"
#include "bignum.h"
#include "m2msec/crypto/openssl_errors.h"

namespace m2msec::ibc {
namespace {

using detail::BnCtxPtr;
using detail::BnPtr;
using detail::EcGroupPtr;
using detail::EcPointPtr;
using detail::new_bn;

constexpr std::size_t kN = kEccsiScalarSize;
// Bound on the draws of one operation: a fair RNG needs a second draw with probability < 2^-32, so reaching
// it means the RNG is broken (or a test RNG repeats a rejected value).
constexpr int kMaxDraws = 16;

Error backend(std::string_view what) { return Error::internal(crypto::with_openssl_errors(what)); }
Error refuse(std::string detail) {
  ERR_clear_error();
  return Error::crypto("ECCSI: " + std::move(detail));
}

// The curve, its order q and field prime p, and a scratch context for one operation.
struct Curve {
  EcGroupPtr group;
  const BIGNUM* q = nullptr;
  BnPtr p;
  BnCtxPtr ctx;

  static Result<Curve> p256() {
    Curve c;
    //= RFC 6507 §4.1, Appendix A
    //# The test data (and the parameters used here) are NIST P-256 with SHA-256, N = 32.
    c.group.reset(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
    if (!c.group) return backend("EC_GROUP_new_by_curve_name(P-256)");
    c.q = EC_GROUP_get0_order(c.group.get());
    c.ctx.reset(BN_CTX_secure_new());
    c.p.reset(BN_new());
    if (c.q == nullptr || !c.ctx || !c.p) return backend("P-256 parameters");
    if (EC_GROUP_get_curve(c.group.get(), c.p.get(), nullptr, nullptr, c.ctx.get()) != 1) {
      return backend("EC_GROUP_get_curve");
    }
    return c;
  }

  Result<EcPointPtr> new_point() const {
    EcPointPtr pt(EC_POINT_new(group.get()));
    if (!pt) return backend("EC_POINT_new");
    return pt;
  }

  // SEC1 uncompressed encoding (65 octets).
  Result<Bytes> encode(const EC_POINT* pt) const {
    Bytes out(kEccsiPointSize);
    if (EC_POINT_point2oct(group.get(), pt, POINT_CONVERSION_UNCOMPRESSED, out.data(), out.size(), ctx.get()) !=
        out.size()) {
      return backend("EC_POINT_point2oct");
    }
    return out;
  }

  // A 65-octet 0x04 || x || y that is a point of E other than O; `what` names it in the refusal.
  Result<EcPointPtr> decode(ByteView octets, std::string_view what) const {
    if (octets.size() != kEccsiPointSize || octets[0] != 0x04) {
      return refuse(std::string(what) + " is not a 65-octet uncompressed point");
    }
    M2MSEC_ASSIGN_OR_RETURN(EcPointPtr pt, new_point());
    // oct2point refuses coordinates >= p and points off the curve; both are checked again explicitly.
    if (EC_POINT_oct2point(group.get(), pt.get(), octets.data(), octets.size(), ctx.get()) != 1 ||
        EC_POINT_is_on_curve(group.get(), pt.get(), ctx.get()) != 1) {
      return refuse(std::string(what) + " is not on the curve");
    }
    if (EC_POINT_is_at_infinity(group.get(), pt.get()) == 1) {
      return refuse(std::string(what) + " is the point at infinity");
    }
    return pt;
  }

  // [k]G for a secret k: the generator term alone (OpenSSL's constant-time path).
  Result<EcPointPtr> mul_generator(const BIGNUM* k) const {
    M2MSEC_ASSIGN_OR_RETURN(EcPointPtr out, new_point());
    if (EC_POINT_mul(group.get(), out.get(), k, nullptr, nullptr, ctx.get()) != 1) return backend("EC_POINT_mul");
    return out;
  }

  // [k]P for a public k.
  Result<EcPointPtr> mul_point(const EC_POINT* pt, const BIGNUM* k) const {
    M2MSEC_ASSIGN_OR_RETURN(EcPointPtr out, new_point());
    if (EC_POINT_mul(group.get(), out.get(), nullptr, pt, k, ctx.get()) != 1) return backend("EC_POINT_mul");
    return out;
  }

  // The affine x coordinate of a point other than O.
  Result<BnPtr> affine_x(const EC_POINT* pt) const {
    M2MSEC_ASSIGN_OR_RETURN(BnPtr x, new_bn(false));
    if (EC_POINT_get_affine_coordinates(group.get(), pt, x.get(), nullptr, ctx.get()) != 1) {
      return backend("EC_POINT_get_affine_coordinates");
    }
    return x;
  }

  // An integer read from big-endian octets, reduced mod q (for HS, HE and r used as scalars).
  Result<BnPtr> mod_q(ByteView octets) const {
    M2MSEC_ASSIGN_OR_RETURN(BnPtr out, new_bn(false));
    if (BN_bin2bn(octets.data(), static_cast<int>(octets.size()), out.get()) == nullptr ||
        BN_nnmod(out.get(), out.get(), q, ctx.get()) != 1) {
      return backend("BN_bin2bn/BN_nnmod");
    }
    return out;
  }
};

// A secret scalar: exactly N octets, in [1, q-1].
Result<BnPtr> secret_scalar(const Curve& c, ByteView octets, std::string_view what) {
  if (octets.size() != kN) return refuse(std::string(what) + " is not " + std::to_string(kN) + " octets");
  M2MSEC_ASSIGN_OR_RETURN(BnPtr k, new_bn(true));
  if (BN_bin2bn(octets.data(), static_cast<int>(octets.size()), k.get()) == nullptr) return backend("BN_bin2bn");
  if (BN_is_zero(k.get()) || BN_cmp(k.get(), c.q) >= 0) return refuse(std::string(what) + " is not in [1, q-1]");
  return k;
}

// A uniform scalar in [1, q-1]: N octets from the RNG, drawn again while 0 or >= q.
Result<BnPtr> random_scalar(const Curve& c, Rng& rng) {
  SecretBytes buf(kN);
  for (int draw = 0; draw < kMaxDraws; ++draw) {
    M2MSEC_TRY(rng.fill(buf.writable()));
    M2MSEC_ASSIGN_OR_RETURN(BnPtr k, new_bn(true));
    if (BN_bin2bn(buf.data(), static_cast<int>(buf.size()), k.get()) == nullptr) return backend("BN_bin2bn");
    if (!BN_is_zero(k.get()) && BN_cmp(k.get(), c.q) < 0) return k;
  }
  return Error::internal("ECCSI: the RNG gave no scalar in [1, q-1] in " + std::to_string(kMaxDraws) + " draws");
}

Result<SecretBytes> scalar_octets(const BIGNUM* k) {
  SecretBytes out(kN);
  if (BN_bn2binpad(k, out.data(), static_cast<int>(out.size())) != static_cast<int>(kN)) {
    return backend("BN_bn2binpad");
  }
  return out;
}

//= RFC 6507 §5.1.1 step 3, §5.1.2 step 2, §5.2.2 step 2
//# HS = hash( G || KPAK || ID || PVT ), points in their uncompressed octet form.
Result<Bytes> hash_hs(const Curve& c, ByteView kpak, ByteView id, ByteView pvt) {
  M2MSEC_ASSIGN_OR_RETURN(Bytes g, c.encode(EC_GROUP_get0_generator(c.group.get())));
  return crypto::Hash::sha256().digest(concat({g, kpak, id, pvt}));
}

//= RFC 6507 §5.2.1 step 3, §5.2.2 step 3
//# HE = hash( HS || r || M ).
Result<Bytes> hash_he(ByteView hs, ByteView r, ByteView message) {
  return crypto::Hash::sha256().digest(concat({hs, r, message}));
}

}  // namespace

Result<EccsiKms> EccsiKms::generate(Rng& rng) {
  M2MSEC_ASSIGN_OR_RETURN(Curve c, Curve::p256());
  //= RFC 6507 §4.2
  //# The KMS picks KSAK at random in F_q, non-zero, and publishes KPAK = [KSAK]G.
  M2MSEC_ASSIGN_OR_RETURN(BnPtr ksak, random_scalar(c, rng));
  M2MSEC_ASSIGN_OR_RETURN(SecretBytes octets, scalar_octets(ksak.get()));
  return from_secret(octets.view());
}

Result<EccsiKms> EccsiKms::from_secret(ByteView ksak_octets) {
  M2MSEC_ASSIGN_OR_RETURN(Curve c, Curve::p256());
  M2MSEC_ASSIGN_OR_RETURN(BnPtr ksak, secret_scalar(c, ksak_octets, "KSAK"));
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr kpak, c.mul_generator(ksak.get()));
  M2MSEC_ASSIGN_OR_RETURN(Bytes kpak_octets, c.encode(kpak.get()));
  return EccsiKms(SecretBytes::copy_of(ksak_octets), std::move(kpak_octets));
}

Result<EccsiUserKey> EccsiKms::issue(ByteView id, Rng& rng) const {
  M2MSEC_ASSIGN_OR_RETURN(Curve c, Curve::p256());
  M2MSEC_ASSIGN_OR_RETURN(BnPtr ksak, secret_scalar(c, m_ksak.view(), "KSAK"));
  for (int attempt = 0; attempt < kMaxDraws; ++attempt) {
    //= RFC 6507 §5.1.1 steps 1-2
    //# A fresh random non-zero v in F_q; PVT = [v]G.
    M2MSEC_ASSIGN_OR_RETURN(BnPtr v, random_scalar(c, rng));
    M2MSEC_ASSIGN_OR_RETURN(EcPointPtr pvt, c.mul_generator(v.get()));
    if (EC_POINT_is_at_infinity(c.group.get(), pvt.get()) == 1) continue;  // impossible for v in [1, q-1]
    M2MSEC_ASSIGN_OR_RETURN(Bytes pvt_octets, c.encode(pvt.get()));
    M2MSEC_ASSIGN_OR_RETURN(Bytes hs_octets, hash_hs(c, m_kpak, id, pvt_octets));
    M2MSEC_ASSIGN_OR_RETURN(BnPtr hs, c.mod_q(hs_octets));
    //= RFC 6507 §5.1.1 step 5
    //# If HS or SSK is zero modulo q, erase SSK and start again with a fresh v.
    if (BN_is_zero(hs.get())) continue;
    //= RFC 6507 §5.1.1 step 4
    //# SSK = ( KSAK + HS * v ) modulo q.
    M2MSEC_ASSIGN_OR_RETURN(BnPtr ssk, new_bn(true));
    if (BN_mod_mul(ssk.get(), hs.get(), v.get(), c.q, c.ctx.get()) != 1 ||
        BN_mod_add(ssk.get(), ssk.get(), ksak.get(), c.q, c.ctx.get()) != 1) {
      return backend("BN_mod_mul/BN_mod_add");
    }
    if (BN_is_zero(ssk.get())) continue;
    M2MSEC_ASSIGN_OR_RETURN(SecretBytes ssk_octets, scalar_octets(ssk.get()));
    return EccsiUserKey{std::move(ssk_octets), std::move(pvt_octets)};
  }
  return Error::internal("ECCSI: no (SSK, PVT) pair in " + std::to_string(kMaxDraws) + " attempts");
}

Result<EccsiSigner> EccsiSigner::validate(ByteView kpak_octets, ByteView id, EccsiUserKey key) {
  M2MSEC_ASSIGN_OR_RETURN(Curve c, Curve::p256());
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr kpak, c.decode(kpak_octets, "KPAK"));
  //= RFC 6507 §5.1.2 step 1
  //# The PVT must be a point of E.
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr pvt, c.decode(key.pvt, "PVT"));
  M2MSEC_ASSIGN_OR_RETURN(BnPtr ssk, secret_scalar(c, key.ssk.view(), "SSK"));
  //= RFC 6507 §5.1.2 step 2
  //# HS = hash( G || KPAK || ID || PVT ), kept for signing.
  M2MSEC_ASSIGN_OR_RETURN(Bytes hs_octets, hash_hs(c, kpak_octets, id, key.pvt));
  M2MSEC_ASSIGN_OR_RETURN(BnPtr hs, c.mod_q(hs_octets));
  //= RFC 6507 §5.1.2 step 3
  //# Accept only if KPAK = [SSK]G - [HS]PVT.
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr expected, c.mul_generator(ssk.get()));  // secret scalar: generator alone
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr hs_pvt, c.mul_point(pvt.get(), hs.get()));
  if (EC_POINT_invert(c.group.get(), hs_pvt.get(), c.ctx.get()) != 1 ||
      EC_POINT_add(c.group.get(), expected.get(), expected.get(), hs_pvt.get(), c.ctx.get()) != 1) {
    return backend("EC_POINT_invert/EC_POINT_add");
  }
  const int cmp = EC_POINT_cmp(c.group.get(), expected.get(), kpak.get(), c.ctx.get());
  if (cmp < 0) return backend("EC_POINT_cmp");
  if (cmp != 0) return refuse("KPAK != [SSK]G - [HS]PVT: the SSK and PVT were not issued for this ID and KPAK");
  return EccsiSigner(std::move(key.ssk), std::move(key.pvt), std::move(hs_octets));
}

Result<Bytes> EccsiSigner::sign(ByteView message, Rng& rng) const {
  M2MSEC_ASSIGN_OR_RETURN(Curve c, Curve::p256());
  M2MSEC_ASSIGN_OR_RETURN(BnPtr ssk, secret_scalar(c, m_ssk.view(), "SSK"));
  for (int attempt = 0; attempt < kMaxDraws; ++attempt) {
    //= RFC 6507 §5.2.1 steps 1-2
    //# A fresh random non-zero j in F_q; J = [j]G; r = Jx as an N-octet integer.
    M2MSEC_ASSIGN_OR_RETURN(BnPtr j, random_scalar(c, rng));
    M2MSEC_ASSIGN_OR_RETURN(EcPointPtr big_j, c.mul_generator(j.get()));
    M2MSEC_ASSIGN_OR_RETURN(BnPtr jx, c.affine_x(big_j.get()));
    Bytes r(kN);
    if (BN_bn2binpad(jx.get(), r.data(), static_cast<int>(r.size())) != static_cast<int>(kN)) {
      return backend("BN_bn2binpad");
    }
    //= RFC 6507 §5.2.1 step 3
    //# HE = hash( HS || r || M ).
    M2MSEC_ASSIGN_OR_RETURN(Bytes he_octets, hash_he(m_hs, r, message));
    M2MSEC_ASSIGN_OR_RETURN(BnPtr he, c.mod_q(he_octets));
    M2MSEC_ASSIGN_OR_RETURN(BnPtr r_q, c.mod_q(r));
    //= RFC 6507 §5.2.1 step 4
    //# HE + r * SSK must be non-zero modulo q; otherwise start again with a fresh j.
    M2MSEC_ASSIGN_OR_RETURN(BnPtr t, new_bn(true));
    if (BN_mod_mul(t.get(), r_q.get(), ssk.get(), c.q, c.ctx.get()) != 1 ||
        BN_mod_add(t.get(), t.get(), he.get(), c.q, c.ctx.get()) != 1) {
      return backend("BN_mod_mul/BN_mod_add");
    }
    if (BN_is_zero(t.get())) continue;
    //= RFC 6507 §5.2.1 step 5
    //# s' = ( (HE + r * SSK)^-1 * j ) modulo q; the inverse as t^(q-2) (q is prime), in constant time.
    M2MSEC_ASSIGN_OR_RETURN(BnPtr q_minus_2, new_bn(false));
    M2MSEC_ASSIGN_OR_RETURN(BnPtr t_inv, new_bn(true));
    M2MSEC_ASSIGN_OR_RETURN(BnPtr s, new_bn(true));
    if (BN_copy(q_minus_2.get(), c.q) == nullptr || BN_sub_word(q_minus_2.get(), 2) != 1 ||
        BN_mod_exp_mont_consttime(t_inv.get(), t.get(), q_minus_2.get(), c.q, c.ctx.get(), nullptr) != 1 ||
        BN_mod_mul(s.get(), t_inv.get(), j.get(), c.q, c.ctx.get()) != 1) {
      return backend("BN_mod_exp_mont_consttime/BN_mod_mul");
    }
    //= RFC 6507 §5.2.1 step 6
    //# If s' does not fit in N octets, s = q - s'; otherwise s = s'. (Never taken for P-256, where q < 2^256.)
    if (static_cast<std::size_t>(BN_num_bytes(s.get())) > kN) {
      if (BN_sub(s.get(), c.q, s.get()) != 1) return backend("BN_sub");
    }
    //= RFC 6507 §5.2.1 step 7
    //# Signature = r || s || PVT.
    Bytes s_octets(kN);
    if (BN_bn2binpad(s.get(), s_octets.data(), static_cast<int>(s_octets.size())) != static_cast<int>(kN)) {
      return backend("BN_bn2binpad");
    }
    return concat({r, s_octets, m_pvt});
  }
  return Error::internal("ECCSI: no signature in " + std::to_string(kMaxDraws) + " attempts");
}

Result<void> eccsi_verify(ByteView kpak_octets, ByteView id, ByteView message, ByteView signature) {
  if (signature.size() != kEccsiSignatureSize) {
    return refuse("a signature is " + std::to_string(kEccsiSignatureSize) + " octets, not " +
                  std::to_string(signature.size()));
  }
  const ByteView r_octets = signature.subspan(0, kN);
  const ByteView s_octets = signature.subspan(kN, kN);
  const ByteView pvt_octets = signature.subspan(2 * kN);
  M2MSEC_ASSIGN_OR_RETURN(Curve c, Curve::p256());
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr kpak, c.decode(kpak_octets, "KPAK"));
  //= RFC 6507 §5.2.2 step 1
  //# The PVT in the signature must be a point of E.
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr pvt, c.decode(pvt_octets, "PVT"));

  // r is an x coordinate (in [1, p-1]; 0 could never pass step 6); s a non-zero scalar (in [1, q-1]).
  M2MSEC_ASSIGN_OR_RETURN(BnPtr r, new_bn(false));
  M2MSEC_ASSIGN_OR_RETURN(BnPtr s, new_bn(false));
  if (BN_bin2bn(r_octets.data(), static_cast<int>(kN), r.get()) == nullptr ||
      BN_bin2bn(s_octets.data(), static_cast<int>(kN), s.get()) == nullptr) {
    return backend("BN_bin2bn");
  }
  if (BN_is_zero(r.get()) || BN_cmp(r.get(), c.p.get()) >= 0) return refuse("r is not in [1, p-1]");
  if (BN_is_zero(s.get()) || BN_cmp(s.get(), c.q) >= 0) return refuse("s is not in [1, q-1]");

  //= RFC 6507 §5.2.2 steps 2-3
  //# HS = hash( G || KPAK || ID || PVT ); HE = hash( HS || r || M ).
  M2MSEC_ASSIGN_OR_RETURN(Bytes hs_octets, hash_hs(c, kpak_octets, id, pvt_octets));
  M2MSEC_ASSIGN_OR_RETURN(Bytes he_octets, hash_he(hs_octets, r_octets, message));
  M2MSEC_ASSIGN_OR_RETURN(BnPtr hs, c.mod_q(hs_octets));
  M2MSEC_ASSIGN_OR_RETURN(BnPtr he, c.mod_q(he_octets));
  M2MSEC_ASSIGN_OR_RETURN(BnPtr r_q, c.mod_q(r_octets));

  //= RFC 6507 §5.2.2 step 4
  //# Y = [HS]PVT + KPAK.
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr y, c.mul_point(pvt.get(), hs.get()));
  if (EC_POINT_add(c.group.get(), y.get(), y.get(), kpak.get(), c.ctx.get()) != 1) return backend("EC_POINT_add");
  //= RFC 6507 §5.2.2 step 5
  //# J = [s]( [HE]G + [r]Y ).
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr sum, c.new_point());
  if (EC_POINT_mul(c.group.get(), sum.get(), he.get(), y.get(), r_q.get(), c.ctx.get()) != 1) {
    return backend("EC_POINT_mul");
  }
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr big_j, c.mul_point(sum.get(), s.get()));
  if (EC_POINT_is_at_infinity(c.group.get(), big_j.get()) == 1) return refuse("J is the point at infinity");
  //= RFC 6507 §5.2.2 step 6
  //# Accept only if Jx = r modulo p and Jx modulo p is non-zero.
  M2MSEC_ASSIGN_OR_RETURN(BnPtr jx, c.affine_x(big_j.get()));
  if (BN_is_zero(jx.get())) return refuse("Jx is zero");
  if (BN_cmp(jx.get(), r.get()) != 0) return refuse("signature mismatch (Jx != r)");
  return {};
}

}  // namespace m2msec::ibc
