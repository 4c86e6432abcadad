// SAKKE (RFC 6508) with parameter set 1 of RFC 6509 Appendix A, on OpenSSL 3 BIGNUM / EC_GROUP / EC_POINT and
// SHA-256. The pairing is the RFC's reduced Tate-Lichtenbaum pairing (§3.2), computed here with Miller's
// algorithm in Jacobian coordinates and Montgomery arithmetic (BN_mod_mul_montgomery) over F_p^2 = F_p[i],
// i^2 = -1.
//
// Side channels. The secrets are z_S, (b + z_S)^-1, the RSK K_(b,S), the SSV and everything derived from it
// (r, g^r, the mask). BIGNUMs holding them carry BN_FLG_CONSTTIME and are cleared on release (BN_clear_free).
//  - Constant time (in the sense OpenSSL gives it): every scalar multiplication by a secret scalar is
//    EC_POINT_mul with a single point term ([z]P, [(b+z)^-1]P, [r]([b]P + Z_S)), which OpenSSL 3 runs with its
//    Montgomery ladder; (b + z)^-1 mod q is Fermat's x^(q-2) with BN_mod_exp_mont_consttime; g^r is a
//    Montgomery ladder over F_p^2 with BN_consttime_swap (same operations for every bit of r, 1022 bits
//    always); the inverse in the final PF_p -> F_p representation uses BN_mod_inverse with BN_FLG_CONSTTIME.
//  - The pairing: its control flow and memory accesses depend only on the bits of q - 1 (public), never on
//    the secret second argument (the RSK); the first argument (R_(b,S) or [b]P + Z_S) is public. The field
//    operations are OpenSSL's BN_mod_mul_montgomery / BN_mod_add_quick / BN_mod_sub_quick, whose timing
//    depends on the word length of their operands (OpenSSL trims leading zero words), not on their bits: not
//    strictly constant time.
//  - Not constant time, on public data only: [b]P + Z_S (wNAF), the decoding and on-curve checks of points, the
//    comparison TEST = R_(b,S) and the comparison of the pairing with g in RSK validation.
#include "m2msec/ibc/sakke.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "bignum.h"
#include "m2msec/crypto/openssl_errors.h"

namespace m2msec::ibc {
namespace {

using detail::BnCtxPtr;
using detail::BnMontPtr;
using detail::BnPtr;
using detail::EcGroupPtr;
using detail::EcPointPtr;
using detail::new_bn;

constexpr std::size_t kL = kSakkeCoordinateSize;  // octets of p
constexpr std::size_t kHashLen = 32;              // SHA-256
constexpr int kFieldWords = static_cast<int>(kL / sizeof(BN_ULONG));
// A fair RNG is rejected with probability about 0.4 per draw (see random_z): 64 rejections in a row mean a
// broken RNG.
constexpr int kMaxDraws = 64;

//= RFC 6509 Appendix A
//# Parameter set 1: the 1024-bit prime p, q = (p + 1) / 4, the base point P = (Px, Py) of order q on
//# y^2 = x^3 - 3x, and g = <P, P>; n = 128, SHA-256.
constexpr std::string_view kP =
    "997ABB1F0A563FDA65C61198DAD0657A416C0CE19CB48261BE9AE358B3E01A2EF40AAB27E2FC0F1B228730D531A59CB0"
    "E791B39FF7C88A19356D27F4A666A6D0E26C6487326B4CD4512AC5CD65681CE1B6AFF4A831852A82A7CF3C521C3C09AA"
    "9F94D6AF56971F1FFCE3E82389857DB080C5DF10AC7ACE87666D807AFEA85FEB";
constexpr std::string_view kQ =
    "265EAEC7C2958FF69971846636B4195E905B0338672D20986FA6B8D62CF8068BBD02AAC9F8BF03C6C8A1CC354C69672C"
    "39E46CE7FDF222864D5B49FD2999A9B4389B1921CC9AD335144AB173595A07386DABFD2A0C614AA0A9F3CF14870F026A"
    "A7E535ABD5A5C7C7FF38FA08E2615F6C203177C42B1EB3A1D99B601EBFAA17FB";
constexpr std::string_view kPx =
    "53FC09EE332C29AD0A7990053ED9B52A2B1A2FD60AEC69C698B2F204B6FF7CBFB5EDB6C0F6CE2308AB10DB9030B09E10"
    "43D5F22CDB9DFA55718BD9E7406CE8909760AF765DD5BCCB337C86548B72F2E1A702C3397A60DE74A7C1514DBA66910D"
    "D5CFB4CC80728D87EE9163A5B63F73EC80EC46C4967E0979880DC8ABEAE63895";
constexpr std::string_view kPy =
    "0A8249063F6009F1F9F1F0533634A135D3E82016029906963D778D821E141178F5EA69F4654EC2B9E7F7F5E5F0DE55F6"
    "6B598CCF9A140B2E416CFF0CA9E032B970DAE117AD547C6CCAD696B5B7652FE0AC6F1E80164AA989492D979FC5A4D5F2"
    "13515AD7E9CB99A980BDAD5AD5BB4636ADB9B5706A67DCDE75573FD71BEF16D7";
constexpr std::string_view kG =
    "66FC2A432B6EA392148F15867D623068C6A87BD1FB94C41E27FABE658E015A87371E94744C96FEDA449AE9563F8BC446"
    "CBFDA85D5D00EF577072DA8F541721BEEE0FAED1828EAB90B99DFB0138C7843355DF0460B4A9FD74B4F1A32BCAFA1FFA"
    "D682C033A7942BCCE3720F20B9B7B0403C8CAE87B7A0042ACDE0FAB36461EA46";

Error backend(std::string_view what) { return Error::internal(crypto::with_openssl_errors("SAKKE: " + std::string(what))); }
Error refuse(std::string detail) {
  ERR_clear_error();
  return Error::crypto("SAKKE: " + std::move(detail));
}

BnPtr from_hex(std::string_view hex) {
  BIGNUM* bn = nullptr;
  const std::string text(hex);
  if (BN_hex2bn(&bn, text.c_str()) != static_cast<int>(text.size())) {
    BN_free(bn);
    return nullptr;
  }
  return BnPtr(bn);
}

// The parameter set, built once and shared read-only by every operation (and thread).
struct Params {
  BnPtr p, q, g, q_minus_1, q_minus_2;
  BnMontPtr mont;  // Montgomery context of p
  EcGroupPtr group;
};

std::unique_ptr<Params> make_params() {
  auto prm = std::make_unique<Params>();
  prm->p = from_hex(kP);
  prm->q = from_hex(kQ);
  prm->g = from_hex(kG);
  BnPtr px = from_hex(kPx);
  BnPtr py = from_hex(kPy);
  BnPtr a(BN_new());
  BnPtr b(BN_new());
  BnPtr cofactor(BN_new());
  prm->q_minus_1.reset(BN_dup(prm->q.get()));
  prm->q_minus_2.reset(BN_dup(prm->q.get()));
  BnCtxPtr ctx(BN_CTX_new());
  prm->mont.reset(BN_MONT_CTX_new());
  if (!prm->p || !prm->q || !prm->g || !px || !py || !a || !b || !cofactor || !prm->q_minus_1 || !prm->q_minus_2 ||
      !ctx || !prm->mont) {
    return nullptr;
  }
  //= RFC 6508 §3.1; RFC 6509 Appendix A
  //# E: y^2 = x^3 - 3x over F_p; P generates the subgroup of order q; #E(F_p) = p + 1 = 4q.
  if (BN_sub(a.get(), prm->p.get(), BN_value_one()) != 1 || BN_sub_word(a.get(), 2) != 1 || BN_set_word(cofactor.get(), 4) != 1 ||
      BN_sub_word(prm->q_minus_1.get(), 1) != 1 || BN_sub_word(prm->q_minus_2.get(), 2) != 1 ||
      BN_MONT_CTX_set(prm->mont.get(), prm->p.get(), ctx.get()) != 1) {
    return nullptr;
  }
  BN_zero(b.get());
  prm->group.reset(EC_GROUP_new_curve_GFp(prm->p.get(), a.get(), b.get(), ctx.get()));
  if (!prm->group) return nullptr;
  EcPointPtr gen(EC_POINT_new(prm->group.get()));
  if (!gen || EC_POINT_set_affine_coordinates(prm->group.get(), gen.get(), px.get(), py.get(), ctx.get()) != 1 ||
      EC_GROUP_set_generator(prm->group.get(), gen.get(), prm->q.get(), cofactor.get()) != 1) {
    return nullptr;
  }
  return prm;
}

Result<const Params*> params() {
  static const std::unique_ptr<Params> instance = make_params();
  if (!instance) return backend("building the RFC 6509 parameter set 1");
  return instance.get();
}

// One operation's scratch: the shared parameters and a BN_CTX of its own.
struct Op {
  const Params* prm = nullptr;
  BnCtxPtr ctx;

  static Result<Op> start() {
    Op op;
    M2MSEC_ASSIGN_OR_RETURN(op.prm, params());
    op.ctx.reset(BN_CTX_secure_new());
    if (!op.ctx) return backend("BN_CTX_secure_new");
    return op;
  }
  const EC_GROUP* group() const { return prm->group.get(); }

  Result<EcPointPtr> new_point() const {
    EcPointPtr pt(EC_POINT_new(group()));
    if (!pt) return backend("EC_POINT_new");
    return pt;
  }

  //= RFC 6508 §4
  //# Points are octet strings 0x04 || x || y, each coordinate L = Ceiling(lg(p)/8) = 128 octets.
  Result<Bytes> encode(const EC_POINT* pt) const {
    Bytes out(kSakkePointSize);
    if (EC_POINT_point2oct(group(), pt, POINT_CONVERSION_UNCOMPRESSED, out.data(), out.size(), ctx.get()) !=
        out.size()) {
      return backend("EC_POINT_point2oct");
    }
    return out;
  }

  // A 257-octet 0x04 || x || y that is a point of E other than O.
  Result<EcPointPtr> decode(ByteView octets, std::string_view what) const {
    if (octets.size() != kSakkePointSize || octets[0] != 0x04) {
      return refuse(std::string(what) + " is not a " + std::to_string(kSakkePointSize) + "-octet uncompressed point");
    }
    M2MSEC_ASSIGN_OR_RETURN(EcPointPtr pt, new_point());
    // oct2point refuses coordinates >= p and points off the curve; on-curve is checked again explicitly.
    if (EC_POINT_oct2point(group(), pt.get(), octets.data(), octets.size(), ctx.get()) != 1 ||
        EC_POINT_is_on_curve(group(), pt.get(), ctx.get()) != 1) {
      return refuse(std::string(what) + " is not on the curve");
    }
    if (EC_POINT_is_at_infinity(group(), pt.get()) == 1) return refuse(std::string(what) + " is the point at infinity");
    //= RFC 6508 §2.2, §3.1
    //# The scheme's points have order q, and #E = 4q: one whose order divides 4, such as (0, 0), is refused here
    //# (two doublings); the full [q]X = O check is made where a secret meets a point (RSK validation).
    M2MSEC_ASSIGN_OR_RETURN(EcPointPtr times4, new_point());
    if (EC_POINT_dbl(group(), times4.get(), pt.get(), ctx.get()) != 1 ||
        EC_POINT_dbl(group(), times4.get(), times4.get(), ctx.get()) != 1) {
      return backend("EC_POINT_dbl");
    }
    if (EC_POINT_is_at_infinity(group(), times4.get()) == 1) return refuse(std::string(what) + " has small order");
    return pt;
  }

  // [k]P for a secret k: the generator term alone (OpenSSL's ladder).
  Result<EcPointPtr> mul_generator(const BIGNUM* k) const {
    M2MSEC_ASSIGN_OR_RETURN(EcPointPtr out, new_point());
    if (EC_POINT_mul(group(), out.get(), k, nullptr, nullptr, ctx.get()) != 1) return backend("EC_POINT_mul");
    return out;
  }

  // [k]X for a secret k: a single point term (OpenSSL's ladder).
  Result<EcPointPtr> mul_point(const EC_POINT* x, const BIGNUM* k) const {
    M2MSEC_ASSIGN_OR_RETURN(EcPointPtr out, new_point());
    if (EC_POINT_mul(group(), out.get(), nullptr, x, k, ctx.get()) != 1) return backend("EC_POINT_mul");
    return out;
  }

  // The identity b as an integer (big-endian), reduced mod q.
  Result<BnPtr> identity(ByteView id) const {
    M2MSEC_ASSIGN_OR_RETURN(BnPtr b, new_bn(false));
    if (BN_bin2bn(id.data(), static_cast<int>(id.size()), b.get()) == nullptr ||
        BN_nnmod(b.get(), b.get(), prm->q.get(), ctx.get()) != 1) {
      return backend("BN_bin2bn/BN_nnmod");
    }
    return b;
  }

  //= RFC 6508 §6.1.2, §6.2.1 step 2, §6.2.2 step 5
  //# [b]P + Z_S (public values only: OpenSSL's variable-time wNAF). O (b = -z_S mod q) is refused.
  Result<EcPointPtr> identity_point(ByteView id, const EC_POINT* z) const {
    M2MSEC_ASSIGN_OR_RETURN(BnPtr b, identity(id));
    M2MSEC_ASSIGN_OR_RETURN(EcPointPtr out, new_point());
    if (EC_POINT_mul(group(), out.get(), b.get(), z, BN_value_one(), ctx.get()) != 1) return backend("EC_POINT_mul");
    if (EC_POINT_is_at_infinity(group(), out.get()) == 1) return refuse("[b]P + Z_S is the point at infinity");
    return out;
  }

  Result<std::array<BnPtr, 2>> affine(const EC_POINT* pt) const {
    M2MSEC_ASSIGN_OR_RETURN(BnPtr x, new_bn(true));
    M2MSEC_ASSIGN_OR_RETURN(BnPtr y, new_bn(true));
    if (EC_POINT_get_affine_coordinates(group(), pt, x.get(), y.get(), ctx.get()) != 1) {
      return backend("EC_POINT_get_affine_coordinates");
    }
    return std::array<BnPtr, 2>{std::move(x), std::move(y)};
  }
};

// Arithmetic in F_p (Montgomery form) and F_p^2 = F_p[i], i^2 = -1. Failures of the BN calls (allocation only,
// for operands in range) are collected in ok() rather than checked after every call.
class Field {
 public:
  Field(const Params& prm, BN_CTX* ctx) : m_p(prm.p.get()), m_mont(prm.mont.get()), m_ctx(ctx) {}

  void mul(BIGNUM* r, const BIGNUM* a, const BIGNUM* b) { m_ok &= BN_mod_mul_montgomery(r, a, b, m_mont, m_ctx) == 1; }
  void sqr(BIGNUM* r, const BIGNUM* a) { mul(r, a, a); }
  void add(BIGNUM* r, const BIGNUM* a, const BIGNUM* b) { m_ok &= BN_mod_add_quick(r, a, b, m_p) == 1; }
  void sub(BIGNUM* r, const BIGNUM* a, const BIGNUM* b) { m_ok &= BN_mod_sub_quick(r, a, b, m_p) == 1; }
  void dbl(BIGNUM* r, const BIGNUM* a) { m_ok &= BN_mod_lshift1_quick(r, a, m_p) == 1; }
  void copy(BIGNUM* r, const BIGNUM* a) { m_ok &= BN_copy(r, a) != nullptr; }
  void to_mont(BIGNUM* r, const BIGNUM* a) { m_ok &= BN_to_montgomery(r, a, m_mont, m_ctx) == 1; }
  void from_mont(BIGNUM* r, const BIGNUM* a) { m_ok &= BN_from_montgomery(r, a, m_mont, m_ctx) == 1; }
  void fail() { m_ok = false; }
  bool ok() const { return m_ok; }

 private:
  const BIGNUM* m_p;
  BN_MONT_CTX* m_mont;  // read-only use: OpenSSL takes it non-const
  BN_CTX* m_ctx;
  bool m_ok = true;
};

// A pool of scratch BIGNUMs (secret: constant-time flag, cleared on release).
template <std::size_t N>
Result<std::array<BnPtr, N>> scratch() {
  std::array<BnPtr, N> out;
  for (auto& bn : out) {
    M2MSEC_ASSIGN_OR_RETURN(bn, new_bn(true));
  }
  return out;
}

// An element a + ib of F_p^2 (Montgomery form), and the temporaries its operations use.
struct Fp2 {
  BIGNUM* a;
  BIGNUM* b;
};

class Fp2Ops {
 public:
  explicit Fp2Ops(Field& f, std::array<BnPtr, 3>& t) : m_f(f), m_t0(t[0].get()), m_t1(t[1].get()), m_t2(t[2].get()) {}

  // r = x * y (Karatsuba: 3 multiplications); r may alias x or y.
  void mul(Fp2 r, Fp2 x, Fp2 y) {
    m_f.mul(m_t0, x.a, y.a);
    m_f.mul(m_t1, x.b, y.b);
    m_f.add(m_t2, x.a, x.b);
    m_f.add(r.b, y.a, y.b);
    m_f.mul(r.b, r.b, m_t2);
    m_f.sub(r.b, r.b, m_t0);
    m_f.sub(r.b, r.b, m_t1);
    m_f.sub(r.a, m_t0, m_t1);
  }
  // r = x^2 = (a + b)(a - b) + i 2ab; r may alias x.
  void sqr(Fp2 r, Fp2 x) {
    m_f.add(m_t0, x.a, x.b);
    m_f.sub(m_t1, x.a, x.b);
    m_f.mul(m_t2, x.a, x.b);
    m_f.mul(r.a, m_t0, m_t1);
    m_f.dbl(r.b, m_t2);
  }

 private:
  Field& m_f;
  BIGNUM* m_t0;
  BIGNUM* m_t1;
  BIGNUM* m_t2;
};

// The F_p representative of an element [a + ib] of PF_p with a != 0 (a, b in Montgomery form).
//= RFC 6508 §2.1
//# An element of PF_p represented by a + ib (a != 0) is identified with b/a in F_p.
Result<BnPtr> pf_p_value(const Params& prm, BN_CTX* ctx, Field& f, const BIGNUM* a_m, const BIGNUM* b_m) {
  M2MSEC_ASSIGN_OR_RETURN(BnPtr a, new_bn(true));
  M2MSEC_ASSIGN_OR_RETURN(BnPtr b, new_bn(true));
  M2MSEC_ASSIGN_OR_RETURN(BnPtr out, new_bn(true));
  f.from_mont(a.get(), a_m);
  f.from_mont(b.get(), b_m);
  if (!f.ok()) return backend("BN_from_montgomery");
  if (BN_is_zero(a.get())) return refuse("the pairing value has no F_p representation (a = 0)");
  if (BN_mod_inverse(a.get(), a.get(), prm.p.get(), ctx) == nullptr ||
      BN_mod_mul(out.get(), b.get(), a.get(), prm.p.get(), ctx) != 1) {
    return backend("BN_mod_inverse/BN_mod_mul");
  }
  return out;
}

//= RFC 6508 §3.2
//# <R, Q> is the reduced Tate-Lichtenbaum pairing e(R, Q') with Q' = (-Qx, iQy): Miller's algorithm over the
//# bits of q - 1, then the power (p^2 - 1)/q = (p - 1) c, c = (p + 1)/q, the (p - 1) part being the passage
//# from F_p^2* to PF_p.
// R is public (it fixes the loop's points); Q may be secret (it is only evaluated in the line functions).
// Every line is scaled by a non-zero F_p factor (Jacobian denominators, 2Y): PF_p ignores such factors.
Result<BnPtr> pairing(const Op& op, const EC_POINT* r_pt, const EC_POINT* q_pt) {
  const Params& prm = *op.prm;
  BN_CTX* ctx = op.ctx.get();
  M2MSEC_ASSIGN_OR_RETURN(auto r_aff, op.affine(r_pt));
  M2MSEC_ASSIGN_OR_RETURN(auto q_aff, op.affine(q_pt));
  M2MSEC_ASSIGN_OR_RETURN(auto t, scratch<24>());
  M2MSEC_ASSIGN_OR_RETURN(auto ft, scratch<3>());
  Field f(prm, ctx);
  Fp2Ops f2(f, ft);

  BIGNUM* rx = t[0].get();
  BIGNUM* ry = t[1].get();
  BIGNUM* qx = t[2].get();
  BIGNUM* qy = t[3].get();
  BIGNUM* qx_rx = t[4].get();  // Qx + Rx
  BIGNUM* x = t[5].get();      // C = (X : Y : Z), Jacobian
  BIGNUM* y = t[6].get();
  BIGNUM* z = t[7].get();
  Fp2 v{t[8].get(), t[9].get()};
  Fp2 l{t[10].get(), t[11].get()};
  BIGNUM* delta = t[12].get();
  BIGNUM* gamma = t[13].get();
  BIGNUM* beta = t[14].get();
  BIGNUM* alpha = t[15].get();
  BIGNUM* z3 = t[16].get();
  BIGNUM* s1 = t[17].get();
  BIGNUM* s2 = t[18].get();
  BIGNUM* hh = t[19].get();
  BIGNUM* hhh = t[20].get();
  BIGNUM* rr = t[21].get();
  BIGNUM* vv = t[22].get();
  BIGNUM* one = t[23].get();

  f.to_mont(rx, r_aff[0].get());
  f.to_mont(ry, r_aff[1].get());
  f.to_mont(qx, q_aff[0].get());
  f.to_mont(qy, q_aff[1].get());
  f.add(qx_rx, qx, rx);
  f.to_mont(one, BN_value_one());
  //= RFC 6508 §3.2 step 1
  //# v = 1 (in PF_p), C = R.
  f.copy(x, rx);
  f.copy(y, ry);
  f.copy(z, one);
  f.copy(v.a, one);
  BN_zero(v.b);

  const BIGNUM* e = prm.q_minus_1.get();
  //= RFC 6508 §3.2 step 2
  //# For each bit of q - 1 from the second most significant down to the least significant:
  for (int i = BN_num_bits(e) - 2; i >= 0; --i) {
    //# v = v^2 * l_(C,C)(Q), C = [2]C.
    // Doubling (a = -3): delta = Z^2, gamma = Y^2, beta = X gamma, alpha = 3 (X - delta)(X + delta),
    // Z3 = 2YZ, X3 = alpha^2 - 8 beta, Y3 = alpha (4 beta - X3) - 8 gamma^2.
    // Tangent at C through Q', times Z3 delta: alpha (Qx delta + X) - 2 gamma + i Qy Z3 delta.
    f.sqr(delta, z);
    f.sqr(gamma, y);
    f.mul(beta, x, gamma);
    f.sub(s1, x, delta);
    f.add(s2, x, delta);
    f.mul(alpha, s1, s2);
    f.dbl(s1, alpha);
    f.add(alpha, alpha, s1);
    f.mul(z3, y, z);
    f.dbl(z3, z3);
    f.mul(l.a, qx, delta);
    f.add(l.a, l.a, x);
    f.mul(l.a, l.a, alpha);
    f.dbl(s1, gamma);
    f.sub(l.a, l.a, s1);
    f.mul(l.b, z3, delta);
    f.mul(l.b, l.b, qy);
    f.sqr(x, alpha);  // X3
    f.dbl(beta, beta);
    f.dbl(beta, beta);  // 4 beta
    f.dbl(s1, beta);
    f.sub(x, x, s1);
    f.sub(s1, beta, x);
    f.mul(s1, s1, alpha);
    f.sqr(s2, gamma);
    f.dbl(s2, s2);
    f.dbl(s2, s2);
    f.dbl(s2, s2);
    f.sub(y, s1, s2);
    f.copy(z, z3);
    f2.sqr(v, v);
    f2.mul(v, v, l);

    if (BN_is_bit_set(e, i)) {
      //# If the bit is 1: v = v * l_(C,R)(Q), C = C + R.
      // Mixed addition with R = (Rx, Ry): H = Rx Z^2 - X, rr = Ry Z^3 - Y, Z3 = Z H,
      // X3 = rr^2 - H^3 - 2 X H^2, Y3 = rr (X H^2 - X3) - Y H^3.
      // Line through C and R at Q', times Z3: rr (Qx + Rx) - Ry Z3 + i Qy Z3.
      f.sqr(delta, z);
      f.mul(s1, rx, delta);  // U2
      f.mul(s2, z, delta);
      f.mul(s2, s2, ry);     // S2
      f.sub(s1, s1, x);      // H
      f.sub(rr, s2, y);
      f.mul(z3, z, s1);
      f.mul(l.a, rr, qx_rx);
      f.mul(s2, ry, z3);
      f.sub(l.a, l.a, s2);
      f.mul(l.b, qy, z3);
      f.sqr(hh, s1);
      f.mul(hhh, hh, s1);
      f.mul(vv, x, hh);
      f.sqr(x, rr);
      f.sub(x, x, hhh);
      f.dbl(s2, vv);
      f.sub(x, x, s2);  // X3
      f.sub(s2, vv, x);
      f.mul(s2, s2, rr);
      f.mul(s1, y, hhh);
      f.sub(y, s2, s1);  // Y3
      f.copy(z, z3);
      f2.mul(v, v, l);
    }
  }
  //= RFC 6508 §3.2 step 3
  //# t = v^c with c = (p + 1)/q = 4 for parameter set 1 (RFC 6509); the result is t in PF_p.
  f2.sqr(v, v);
  f2.sqr(v, v);
  if (!f.ok()) return backend("pairing arithmetic");
  return pf_p_value(prm, ctx, f, v.a, v.b);
}

//= RFC 6508 §2.1, §6.2.1 step 4
//# g^r is exponentiation in PF_p: [1 + ig]^r, represented again as b/a.
// r is secret: a Montgomery ladder over F_p^2 on a fixed 1022 bits (the length of q), with constant-time swaps.
Result<BnPtr> pf_p_pow(const Op& op, const BIGNUM* g, const BIGNUM* r) {
  const Params& prm = *op.prm;
  M2MSEC_ASSIGN_OR_RETURN(auto t, scratch<4>());
  M2MSEC_ASSIGN_OR_RETURN(auto ft, scratch<3>());
  Field f(prm, op.ctx.get());
  Fp2Ops f2(f, ft);
  // BN_consttime_swap needs both operands allocated to the full width: setting the top bit allocates it, and
  // the allocation is never shrunk afterwards.
  for (auto& bn : t) {
    if (BN_set_bit(bn.get(), 8 * static_cast<int>(kL) - 1) != 1) f.fail();
  }
  Fp2 x0{t[0].get(), t[1].get()};
  Fp2 x1{t[2].get(), t[3].get()};
  f.to_mont(x0.a, BN_value_one());
  BN_zero(x0.b);
  f.copy(x1.a, x0.a);
  f.to_mont(x1.b, g);
  const int bits = BN_num_bits(prm.q.get());
  BN_ULONG prev = 0;
  for (int i = bits - 1; i >= 0; --i) {
    const BN_ULONG bit = static_cast<BN_ULONG>(BN_is_bit_set(r, i));
    const BN_ULONG swap = bit ^ prev;
    BN_consttime_swap(swap, x0.a, x1.a, kFieldWords);
    BN_consttime_swap(swap, x0.b, x1.b, kFieldWords);
    prev = bit;
    f2.mul(x1, x0, x1);
    f2.sqr(x0, x0);
  }
  BN_consttime_swap(prev, x0.a, x1.a, kFieldWords);
  BN_consttime_swap(prev, x0.b, x1.b, kFieldWords);
  if (!f.ok()) return backend("PF_p exponentiation");
  return pf_p_value(prm, op.ctx.get(), f, x0.a, x0.b);
}

void sha256(ByteView data, std::uint8_t* out) {
  unsigned int len = 0;
  M2MSEC_CHECK(EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr) == 1 && len == kHashLen);
}

//= RFC 6508 §5.1
//# HashToIntegerRange(s, n, hashfn): A = hashfn(s); h_0 = 0^hashlen; l = Ceiling(Lg(n)/hashlen); for i in 1..l:
//# h_i = hashfn(h_(i-1)), v_i = hashfn(h_i || A); v' = v_1 || ... || v_l; the result is v' mod n.
// Here the caller reduces v' (returned as octets, l = `blocks`).
SecretBytes hash_to_range_octets(ByteView s, std::size_t blocks) {
  SecretBytes a(kHashLen);
  sha256(s, a.data());
  SecretBytes h(kHashLen);  // h_0: zeros
  SecretBytes hv(2 * kHashLen);
  SecretBytes out(blocks * kHashLen);
  for (std::size_t i = 0; i < blocks; ++i) {
    sha256(h.view(), h.data());
    std::copy(h.data(), h.data() + kHashLen, hv.data());
    std::copy(a.data(), a.data() + kHashLen, hv.data() + kHashLen);
    sha256(hv.view(), out.data() + i * kHashLen);
  }
  return out;
}

//= RFC 6508 §6.2.1 step 1, §6.2.2 step 4
//# r = HashToIntegerRange( SSV || b, q, Hash ).
Result<BnPtr> hash_r(const Op& op, ByteView ssv, ByteView id) {
  SecretBytes input(ssv.size() + id.size());
  std::copy(ssv.begin(), ssv.end(), input.data());
  std::copy(id.begin(), id.end(), input.data() + ssv.size());
  const auto blocks = (static_cast<std::size_t>(BN_num_bits(op.prm->q.get())) + 8 * kHashLen - 1) / (8 * kHashLen);
  SecretBytes v = hash_to_range_octets(input.view(), blocks);
  M2MSEC_ASSIGN_OR_RETURN(BnPtr r, new_bn(true));
  if (BN_bin2bn(v.data(), static_cast<int>(v.size()), r.get()) == nullptr ||
      BN_nnmod(r.get(), r.get(), op.prm->q.get(), op.ctx.get()) != 1) {
    return backend("BN_bin2bn/BN_nnmod");
  }
  return r;
}

//= RFC 6508 §6.2.1 step 4, §6.2.2 step 3
//# The mask is HashToIntegerRange( g^r, 2^n, Hash ): with n = 128 and a 256-bit hash, l = 1 and the mask is
//# the last n/8 octets of v_1. g^r enters the hash as an L-octet integer.
Result<SecretBytes> ssv_mask(const BIGNUM* w) {
  SecretBytes w_octets(kL);
  if (BN_bn2binpad(w, w_octets.data(), static_cast<int>(kL)) != static_cast<int>(kL)) return backend("BN_bn2binpad");
  SecretBytes v = hash_to_range_octets(w_octets.view(), 1);
  return SecretBytes::copy_of(v.view().subspan(kHashLen - kSakkeSsvSize));
}

// z in [1, q-1] from big-endian octets (at most L).
Result<BnPtr> secret_z(const Op& op, ByteView octets) {
  if (octets.empty() || octets.size() > kL) return refuse("z_S is not 1 to " + std::to_string(kL) + " octets");
  M2MSEC_ASSIGN_OR_RETURN(BnPtr z, new_bn(true));
  if (BN_bin2bn(octets.data(), static_cast<int>(octets.size()), z.get()) == nullptr) return backend("BN_bin2bn");
  if (BN_is_zero(z.get()) || BN_cmp(z.get(), op.prm->q.get()) >= 0) return refuse("z_S is not in [1, q-1]");
  return z;
}

}  // namespace

// A uniform z in [1, q-1]: 128 octets from the RNG with the top bits beyond lg(q) cleared (a 1022-bit
// candidate), drawn again while 0 or >= q (rejection, no modular bias; about 40% of the draws are rejected).
Result<SakkeKms> SakkeKms::generate(Rng& rng) {
  M2MSEC_ASSIGN_OR_RETURN(Op op, Op::start());
  const int bits = BN_num_bits(op.prm->q.get());
  SecretBytes buf(kL);
  for (int draw = 0; draw < kMaxDraws; ++draw) {
    M2MSEC_TRY(rng.fill(buf.writable()));
    buf.data()[0] &= static_cast<std::uint8_t>(0xFF >> (8 * static_cast<int>(kL) - bits));
    M2MSEC_ASSIGN_OR_RETURN(BnPtr z, new_bn(true));
    if (BN_bin2bn(buf.data(), static_cast<int>(buf.size()), z.get()) == nullptr) return backend("BN_bin2bn");
    if (!BN_is_zero(z.get()) && BN_cmp(z.get(), op.prm->q.get()) < 0) return from_secret(buf.view());
  }
  return Error::internal("SAKKE: the RNG gave no z_S in [1, q-1] in " + std::to_string(kMaxDraws) + " draws");
}

Result<SakkeKms> SakkeKms::from_secret(ByteView z_octets) {
  M2MSEC_ASSIGN_OR_RETURN(Op op, Op::start());
  M2MSEC_ASSIGN_OR_RETURN(BnPtr z, secret_z(op, z_octets));
  //= RFC 6508 §2.2
  //# The KMS Public Key is Z = [z]P.
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr big_z, op.mul_generator(z.get()));
  M2MSEC_ASSIGN_OR_RETURN(Bytes z_public, op.encode(big_z.get()));
  return SakkeKms(SecretBytes::copy_of(z_octets), std::move(z_public));
}

Result<SecretBytes> SakkeKms::receiver_key(ByteView id) const {
  M2MSEC_ASSIGN_OR_RETURN(Op op, Op::start());
  M2MSEC_ASSIGN_OR_RETURN(BnPtr z, secret_z(op, m_z.view()));
  M2MSEC_ASSIGN_OR_RETURN(BnPtr b, op.identity(id));
  //= RFC 6508 §6.1.1
  //# K_(b,S) = [(b + z_S)^-1]P, the inverse taken modulo q; b + z_S = 0 mod q gives no key.
  M2MSEC_ASSIGN_OR_RETURN(BnPtr s, new_bn(true));
  M2MSEC_ASSIGN_OR_RETURN(BnPtr inv, new_bn(true));
  if (BN_mod_add(s.get(), b.get(), z.get(), op.prm->q.get(), op.ctx.get()) != 1) return backend("BN_mod_add");
  if (BN_is_zero(s.get())) return refuse("b + z_S = 0 mod q: no RSK exists for this identity");
  if (BN_mod_exp_mont_consttime(inv.get(), s.get(), op.prm->q_minus_2.get(), op.prm->q.get(), op.ctx.get(), nullptr) !=
      1) {
    return backend("BN_mod_exp_mont_consttime");
  }
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr k, op.mul_generator(inv.get()));
  M2MSEC_ASSIGN_OR_RETURN(Bytes k_octets, op.encode(k.get()));
  SecretBytes out = SecretBytes::copy_of(k_octets);
  secure_zero(k_octets.data(), k_octets.size());
  return out;
}

Result<void> sakke_validate_receiver_key(ByteView public_key, ByteView id, ByteView rsk) {
  M2MSEC_ASSIGN_OR_RETURN(Op op, Op::start());
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr z, op.decode(public_key, "Z_S"));
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr k, op.decode(rsk, "the RSK"));
  // An RSK is a point of order q (RFC 6508 §2.2): [q]K = O. (A point of the cofactor part added to a valid
  // RSK would otherwise pass the pairing check below.)
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr qk, op.mul_point(k.get(), op.prm->q.get()));
  if (EC_POINT_is_at_infinity(op.group(), qk.get()) != 1) return refuse("the RSK is not a point of order q");
  //= RFC 6508 §6.1.2
  //# The RSK is accepted only if < [b]P + Z_S, K_(b,S) > = g.
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr x, op.identity_point(id, z.get()));
  M2MSEC_ASSIGN_OR_RETURN(BnPtr w, pairing(op, x.get(), k.get()));
  if (BN_cmp(w.get(), op.prm->g.get()) != 0) return refuse("<[b]P + Z_S, K_(b,S)> != g: the RSK is not for this identity and KMS");
  return {};
}

Result<SakkeEncapsulation> sakke_encapsulate(ByteView public_key, ByteView id, Rng& rng) {
  M2MSEC_ASSIGN_OR_RETURN(Op op, Op::start());
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr z, op.decode(public_key, "Z_S"));
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr x, op.identity_point(id, z.get()));
  //= RFC 6508 §6.2.1 step 1
  //# A random n-bit SSV (16 octets from the RNG).
  SecretBytes ssv(kSakkeSsvSize);
  M2MSEC_TRY(rng.fill(ssv.writable()));
  M2MSEC_ASSIGN_OR_RETURN(BnPtr r, hash_r(op, ssv.view(), id));
  if (BN_is_zero(r.get())) return Error::internal("SAKKE: r = 0");  // probability 2^-1022
  //= RFC 6508 §6.2.1 step 3
  //# R_(b,S) = [r]([b]P + Z_S).
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr big_r, op.mul_point(x.get(), r.get()));
  M2MSEC_ASSIGN_OR_RETURN(Bytes r_octets, op.encode(big_r.get()));
  //= RFC 6508 §6.2.1 step 4
  //# H = SSV XOR HashToIntegerRange( g^r, 2^n, Hash ).
  M2MSEC_ASSIGN_OR_RETURN(BnPtr w, pf_p_pow(op, op.prm->g.get(), r.get()));
  M2MSEC_ASSIGN_OR_RETURN(SecretBytes mask, ssv_mask(w.get()));
  Bytes h(kSakkeSsvSize);
  for (std::size_t i = 0; i < kSakkeSsvSize; ++i) h[i] = ssv.data()[i] ^ mask.data()[i];
  //= RFC 6508 §6.2.1 step 5, §4
  //# The Encapsulated Data are R_(b,S) || H.
  return SakkeEncapsulation{std::move(ssv), concat({r_octets, h})};
}

Result<SecretBytes> sakke_decapsulate(ByteView public_key, ByteView id, ByteView rsk, ByteView data) {
  //= RFC 6508 §6.2.2 step 1
  //# Parse the Encapsulated Data as R_(b,S) (a point of E) and H (n/8 octets).
  if (data.size() != kSakkeEncapsulatedSize) {
    return refuse("the encapsulated data are " + std::to_string(kSakkeEncapsulatedSize) + " octets, not " +
                  std::to_string(data.size()));
  }
  const ByteView r_octets = data.subspan(0, kSakkePointSize);
  const ByteView h = data.subspan(kSakkePointSize);
  M2MSEC_ASSIGN_OR_RETURN(Op op, Op::start());
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr z, op.decode(public_key, "Z_S"));
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr k, op.decode(rsk, "the RSK"));
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr big_r, op.decode(r_octets, "R_(b,S)"));
  //= RFC 6508 §6.2.2 step 2
  //# w = < R_(b,S), K_(b,S) > (= g^r).
  M2MSEC_ASSIGN_OR_RETURN(BnPtr w, pairing(op, big_r.get(), k.get()));
  //= RFC 6508 §6.2.2 step 3
  //# SSV = H XOR HashToIntegerRange( w, 2^n, Hash ).
  M2MSEC_ASSIGN_OR_RETURN(SecretBytes mask, ssv_mask(w.get()));
  SecretBytes ssv(kSakkeSsvSize);
  for (std::size_t i = 0; i < kSakkeSsvSize; ++i) ssv.data()[i] = h[i] ^ mask.data()[i];
  //= RFC 6508 §6.2.2 steps 4-5
  //# r = HashToIntegerRange( SSV || b, q, Hash ); TEST = [r]([b]P + Z_S); if TEST != R_(b,S) the SSV must
  //# not be used.
  M2MSEC_ASSIGN_OR_RETURN(BnPtr r, hash_r(op, ssv.view(), id));
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr x, op.identity_point(id, z.get()));
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr test, op.mul_point(x.get(), r.get()));
  const int cmp = EC_POINT_cmp(op.group(), test.get(), big_r.get(), op.ctx.get());
  if (cmp < 0) return backend("EC_POINT_cmp");
  if (cmp != 0) return refuse("TEST != R_(b,S): the data were not encapsulated to this identity and KMS, or were altered");
  //= RFC 6508 §6.2.2 step 6
  //# Output the SSV.
  return ssv;
}

}  // namespace m2msec::ibc

namespace m2msec::ibc::sakke_internal {

Result<Bytes> pairing(ByteView r_octets, ByteView q_octets) {
  M2MSEC_ASSIGN_OR_RETURN(Op op, Op::start());
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr r, op.decode(r_octets, "R"));
  M2MSEC_ASSIGN_OR_RETURN(EcPointPtr q, op.decode(q_octets, "Q"));
  M2MSEC_ASSIGN_OR_RETURN(BnPtr w, ibc::pairing(op, r.get(), q.get()));
  Bytes out(kL);
  if (BN_bn2binpad(w.get(), out.data(), static_cast<int>(kL)) != static_cast<int>(kL)) return backend("BN_bn2binpad");
  return out;
}

Result<SecretBytes> pf_p_pow(ByteView x_octets, ByteView e_octets) {
  M2MSEC_ASSIGN_OR_RETURN(Op op, Op::start());
  M2MSEC_ASSIGN_OR_RETURN(BnPtr x, new_bn(false));
  M2MSEC_ASSIGN_OR_RETURN(BnPtr e, new_bn(true));
  if (BN_bin2bn(x_octets.data(), static_cast<int>(x_octets.size()), x.get()) == nullptr ||
      BN_bin2bn(e_octets.data(), static_cast<int>(e_octets.size()), e.get()) == nullptr) {
    return backend("BN_bin2bn");
  }
  if (BN_cmp(x.get(), op.prm->p.get()) >= 0) return Error::usage("SAKKE: x is not below p");
  if (BN_cmp(e.get(), op.prm->q.get()) >= 0) return Error::usage("SAKKE: e is not below q");
  M2MSEC_ASSIGN_OR_RETURN(BnPtr w, ibc::pf_p_pow(op, x.get(), e.get()));
  SecretBytes out(kL);
  if (BN_bn2binpad(w.get(), out.data(), static_cast<int>(kL)) != static_cast<int>(kL)) return backend("BN_bn2binpad");
  return out;
}

Result<SecretBytes> hash_to_integer_range(ByteView s, ByteView n_octets) {
  M2MSEC_ASSIGN_OR_RETURN(BnPtr n, new_bn(false));
  if (BN_bin2bn(n_octets.data(), static_cast<int>(n_octets.size()), n.get()) == nullptr) return backend("BN_bin2bn");
  if (BN_is_zero(n.get())) return Error::usage("SAKKE: n = 0");
  const auto blocks = (static_cast<std::size_t>(BN_num_bits(n.get())) + 8 * kHashLen - 1) / (8 * kHashLen);
  SecretBytes v_octets = hash_to_range_octets(s, blocks);
  BnCtxPtr ctx(BN_CTX_secure_new());
  M2MSEC_ASSIGN_OR_RETURN(BnPtr v, new_bn(true));
  if (!ctx || BN_bin2bn(v_octets.data(), static_cast<int>(v_octets.size()), v.get()) == nullptr ||
      BN_nnmod(v.get(), v.get(), n.get(), ctx.get()) != 1) {
    return backend("BN_nnmod");
  }
  SecretBytes out(n_octets.size());
  if (BN_bn2binpad(v.get(), out.data(), static_cast<int>(out.size())) != static_cast<int>(out.size())) {
    return backend("BN_bn2binpad");
  }
  return out;
}

}  // namespace m2msec::ibc::sakke_internal
