#include "m2msec/crypto/signature.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "m2msec/core/encoding.h"
#include "m2msec/crypto/registry.h"
#include "oracle.h"
#include "vectors.h"

namespace m2msec::crypto {
namespace {

SignatureScheme scheme(const char* name) {
  auto s = SignatureScheme::named(name);
  M2MSEC_CHECK(s.has_value());
  return *s;
}

void expect_verification_failed(const Result<void>& r) {
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().category(), Category::kCrypto);
  EXPECT_EQ(r.error().detail(), "signature verification failed");
}

void expect_usage(const Error& e) { EXPECT_EQ(e.category(), Category::kUsage) << e.to_string(); }

// A DER length (X.690 clause 8.1.3): short form below 128, else one length octet (enough up to P-521).
void der_length(Bytes& out, std::size_t n) {
  if (n >= 128) out.push_back(0x81);
  out.push_back(static_cast<std::uint8_t>(n));
}

// The X9.62 Ecdsa-Sig-Value DER of (r, s), written here independently of the library: SEQUENCE of two
// minimal positive INTEGERs.
Bytes der_signature(ByteView r, ByteView s) {
  auto integer = [](ByteView v) {
    std::size_t i = 0;
    while (i + 1 < v.size() && v[i] == 0) ++i;
    const ByteView body = v.subspan(i);
    const bool pad = (body[0] & 0x80) != 0;  // keep the INTEGER positive
    // Built with push_back: GCC 12 at -O3 warns falsely (-Warray-bounds) on vector::insert here.
    Bytes out;
    out.push_back(0x02);
    der_length(out, body.size() + (pad ? 1 : 0));
    if (pad) out.push_back(0x00);
    for (std::uint8_t b : body) out.push_back(b);
    return out;
  };
  const Bytes ri = integer(r);
  const Bytes si = integer(s);
  Bytes out{0x30};
  der_length(out, ri.size() + si.size());
  out.insert(out.end(), ri.begin(), ri.end());
  out.insert(out.end(), si.begin(), si.end());
  return out;
}

// ---- RFC 8032 clause 7.1 ----

TEST(Ed25519, Rfc8032KnownAnswers) {
  const SignatureScheme ed = scheme("ed25519");
  const int n = test::for_each_vector("ed25519_rfc8032.vec", [&](const test::Vector& v) {
    auto key = ed.private_key_from_raw(v.hex("Seed"));
    ASSERT_TRUE(key) << key.error().to_string();
    auto pub = key->public_key();
    ASSERT_TRUE(pub);
    auto raw = pub->raw();
    ASSERT_TRUE(raw);
    EXPECT_EQ(hex_encode(*raw), v.text("PublicKey"));

    const Bytes message = v.hex("Message");
    auto sig = sign(ed, *key, message, SignatureEncoding::kRaw);
    ASSERT_TRUE(sig) << sig.error().to_string();
    EXPECT_EQ(hex_encode(*sig), v.text("Signature"));  // deterministic (RFC 8032 clause 5.1.6)

    auto listed = ed.public_key_from_raw(v.hex("PublicKey"));
    ASSERT_TRUE(listed);
    const Bytes expected = v.hex("Signature");
    EXPECT_TRUE(verify(ed, *listed, message, expected, SignatureEncoding::kRaw));

    for (std::size_t bit : {std::size_t{0}, std::size_t{37 * 8 + 4}, std::size_t{63 * 8 + 7}}) {
      Bytes bad = expected;
      bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      expect_verification_failed(verify(ed, *listed, message, bad, SignatureEncoding::kRaw));
    }
    Bytes other = message;
    other.push_back(0x00);
    expect_verification_failed(verify(ed, *listed, other, expected, SignatureEncoding::kRaw));
    expect_verification_failed(
        verify(ed, *listed, message, ByteView(expected).first(63), SignatureEncoding::kRaw));
  });
  EXPECT_EQ(n, 4);
}

TEST(Ed25519, HasNoDerForm) {
  const SignatureScheme ed = scheme("ed25519");
  auto key = ed.generate();
  ASSERT_TRUE(key);
  auto s = sign(ed, *key, as_bytes("m"));  // default kDer
  ASSERT_FALSE(s);
  expect_usage(s.error());
  auto raw = sign(ed, *key, as_bytes("m"), SignatureEncoding::kRaw);
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->size(), 64u);
  auto pub = key->public_key();
  ASSERT_TRUE(pub);
  auto v = verify(ed, *pub, as_bytes("m"), *raw);
  ASSERT_FALSE(v);
  expect_usage(v.error());
}

TEST(Ed25519, RawKeySizesChecked) {
  const SignatureScheme ed = scheme("ed25519");
  auto p = ed.private_key_from_raw(Bytes(31, 1));
  ASSERT_FALSE(p);
  expect_usage(p.error());
  auto q = ed.public_key_from_raw(Bytes(33, 1));
  ASSERT_FALSE(q);
  expect_usage(q.error());
}

// ---- RFC 6979 Appendix A.2.5 / A.2.6 / A.2.7 ----

TEST(Ecdsa, Rfc6979SignaturesVerify) {
  const int n = test::for_each_vector("ecdsa_rfc6979.vec", [](const test::Vector& v) {
    const SignatureScheme s = scheme(v.text("Scheme").c_str());
    const Bytes point = concat({Bytes{0x04}, v.hex("Ux"), v.hex("Uy")});
    auto pub = s.public_key_from_raw(point);
    ASSERT_TRUE(pub) << pub.error().to_string();

    // The RFC's private key gives the RFC's public key.
    auto priv = s.private_key_from_raw(v.hex("X"));
    ASSERT_TRUE(priv) << priv.error().to_string();
    auto derived = priv->public_key();
    ASSERT_TRUE(derived);
    auto derived_raw = derived->raw();
    ASSERT_TRUE(derived_raw);
    EXPECT_EQ(*derived_raw, point);

    const Bytes r = v.hex("R");
    const Bytes sv = v.hex("S");
    const Bytes raw = concat({r, sv});
    const Bytes der = der_signature(r, sv);
    const ByteView message = as_bytes(v.text("Text"));

    EXPECT_TRUE(verify(s, *pub, message, raw, SignatureEncoding::kRaw));
    EXPECT_TRUE(verify(s, *pub, message, der, SignatureEncoding::kDer));
    EXPECT_TRUE(verify(s, *derived, message, der));

    // One flipped bit anywhere in r or s.
    for (std::size_t i = 0; i < raw.size(); i += 7) {
      Bytes bad = raw;
      bad[i] ^= 0x10;
      expect_verification_failed(verify(s, *pub, message, bad, SignatureEncoding::kRaw));
    }
    // Another message ("sample" <-> "test", and one octet more).
    const std::string other = v.text("Text") == "sample" ? "test" : "sample";
    expect_verification_failed(verify(s, *pub, as_bytes(other), raw, SignatureEncoding::kRaw));
    expect_verification_failed(verify(s, *pub, as_bytes(v.text("Text") + "."), der));
    // Wrong lengths and non-canonical DER.
    expect_verification_failed(verify(s, *pub, message, ByteView(raw).first(raw.size() - 1), SignatureEncoding::kRaw));
    expect_verification_failed(verify(s, *pub, message, concat({raw, Bytes{0}}), SignatureEncoding::kRaw));
    expect_verification_failed(verify(s, *pub, message, Bytes{}, SignatureEncoding::kRaw));
    expect_verification_failed(verify(s, *pub, message, concat({der, Bytes{0}})));
    expect_verification_failed(verify(s, *pub, message, raw, SignatureEncoding::kDer));
    expect_verification_failed(verify(s, *pub, message, Bytes(raw.size(), 0), SignatureEncoding::kRaw));
  });
  EXPECT_EQ(n, 6);
}

TEST(Ecdsa, RoundTripEverySchemeAndEncoding) {
  for (auto [name, field] : {std::pair{"ecdsa-p256-sha256", 32u}, std::pair{"ecdsa-p384-sha384", 48u},
                             std::pair{"ecdsa-p521-sha512", 66u}, std::pair{"ecdsa-brainpoolp256r1-sha256", 32u}}) {
    SCOPED_TRACE(name);
    const SignatureScheme s = scheme(name);
    auto key = s.generate();
    ASSERT_TRUE(key);
    auto pub = key->public_key();
    ASSERT_TRUE(pub);
    for (SignatureEncoding enc : {SignatureEncoding::kDer, SignatureEncoding::kRaw}) {
      auto sig = sign(s, *key, as_bytes("oneM2M"), enc);
      ASSERT_TRUE(sig) << sig.error().to_string();
      if (enc == SignatureEncoding::kRaw) {
        EXPECT_EQ(sig->size(), 2 * field);
      } else {
        EXPECT_EQ((*sig)[0], 0x30);
      }
      EXPECT_TRUE(verify(s, *pub, as_bytes("oneM2M"), *sig, enc));
      expect_verification_failed(verify(s, *pub, as_bytes("oneM2m"), *sig, enc));
    }
    // ECDSA is randomized in OpenSSL 3.0: two signatures differ, both verify.
    auto a = sign(s, *key, as_bytes("x"), SignatureEncoding::kRaw);
    auto b = sign(s, *key, as_bytes("x"), SignatureEncoding::kRaw);
    ASSERT_TRUE(a && b);
    EXPECT_NE(*a, *b);
  }
}

TEST(Signature, RefusesKeysOfAnotherTypeOrCurve) {
  const SignatureScheme p256 = scheme("ecdsa-p256-sha256");
  const SignatureScheme p384 = scheme("ecdsa-p384-sha384");
  const SignatureScheme bp256 = scheme("ecdsa-brainpoolp256r1-sha256");
  const SignatureScheme ed = scheme("ed25519");
  auto k256 = p256.generate();
  auto k384 = p384.generate();
  auto kbp = bp256.generate();
  auto ked = ed.generate();
  ASSERT_TRUE(k256 && k384 && kbp && ked);
  auto sig256 = sign(p256, *k256, as_bytes("m"));
  ASSERT_TRUE(sig256);

  // Signing with a key of another curve (including one of the same size) or type.
  for (auto* key : {&*k384, &*kbp, &*ked}) {
    auto s = sign(p256, *key, as_bytes("m"));
    ASSERT_FALSE(s);
    expect_usage(s.error());
  }
  auto s_ed = sign(ed, *k256, as_bytes("m"), SignatureEncoding::kRaw);
  ASSERT_FALSE(s_ed);
  expect_usage(s_ed.error());

  // Verifying with a key of another curve or type.
  for (auto* key : {&*k384, &*kbp, &*ked}) {
    auto pub = key->public_key();
    ASSERT_TRUE(pub);
    auto v = verify(p256, *pub, as_bytes("m"), *sig256);
    ASSERT_FALSE(v);
    expect_usage(v.error());
  }
  auto pub256 = k256->public_key();
  ASSERT_TRUE(pub256);
  auto v_bp = verify(bp256, *pub256, as_bytes("m"), *sig256);
  ASSERT_FALSE(v_bp);
  expect_usage(v_bp.error());

  // The right curve but another key: a bad signature.
  auto other = p256.generate();
  ASSERT_TRUE(other);
  auto other_pub = other->public_key();
  ASSERT_TRUE(other_pub);
  expect_verification_failed(verify(p256, *other_pub, as_bytes("m"), *sig256));
}

TEST(Signature, RawKeyImportRefusesBadValues) {
  const SignatureScheme p256 = scheme("ecdsa-p256-sha256");
  // Private scalar: wrong size, zero, n (the group order, FIPS 186-4 B.4: 1 <= d <= n-1).
  const Bytes order = *hex_decode("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
  for (const Bytes& bad : {Bytes(31, 1), Bytes(33, 1), Bytes(32, 0), order}) {
    auto k = p256.private_key_from_raw(bad);
    ASSERT_FALSE(k);
    expect_usage(k.error());
  }
  Bytes below = order;
  below.back() -= 1;  // n - 1 is valid
  EXPECT_TRUE(p256.private_key_from_raw(below));

  // Public point: compressed form, wrong size, not on the curve.
  auto key = p256.generate();
  ASSERT_TRUE(key);
  auto pub = key->public_key();
  ASSERT_TRUE(pub);
  auto raw = pub->raw();
  ASSERT_TRUE(raw);
  ASSERT_EQ(raw->size(), 65u);
  Bytes compressed(raw->begin(), raw->begin() + 33);
  compressed[0] = static_cast<std::uint8_t>(0x02 | (raw->back() & 1));
  Bytes off_curve = *raw;
  off_curve.back() ^= 0x01;
  for (const Bytes& bad : {compressed, Bytes(raw->begin(), raw->end() - 1), off_curve, Bytes(65, 0)}) {
    auto p = p256.public_key_from_raw(bad);
    ASSERT_FALSE(p);
    expect_usage(p.error());
  }
  EXPECT_TRUE(p256.public_key_from_raw(*raw));
}

TEST(Signature, KeyEncodingsRoundTrip) {
  for (const char* name :
       {"ecdsa-p256-sha256", "ecdsa-p384-sha384", "ecdsa-p521-sha512", "ecdsa-brainpoolp256r1-sha256", "ed25519"}) {
    SCOPED_TRACE(name);
    const SignatureScheme s = scheme(name);
    auto key = s.generate();
    ASSERT_TRUE(key);
    auto pub = key->public_key();
    ASSERT_TRUE(pub);
    auto raw = pub->raw();
    ASSERT_TRUE(raw);

    auto pem = key->to_pem();
    ASSERT_TRUE(pem);
    EXPECT_EQ(as_text(pem->view()).substr(0, 27), "-----BEGIN PRIVATE KEY-----");
    auto again = PrivateKey::from_pem(as_text(pem->view()));
    ASSERT_TRUE(again) << again.error().to_string();
    auto again_pub = again->public_key();
    ASSERT_TRUE(again_pub);
    EXPECT_EQ(*again_pub->raw(), *raw);

    auto der = pub->to_der();
    ASSERT_TRUE(der);
    auto from_der = PublicKey::from_der(*der);
    ASSERT_TRUE(from_der);
    EXPECT_EQ(*from_der->raw(), *raw);
    auto pub_pem = pub->to_pem();
    ASSERT_TRUE(pub_pem);
    auto from_pem = PublicKey::from_pem(*pub_pem);
    ASSERT_TRUE(from_pem);
    EXPECT_EQ(*from_pem->raw(), *raw);

    // Copies share the key and stay valid after the original goes away.
    PublicKey copy = *from_pem;
    { PublicKey moved = std::move(*from_pem); }
    EXPECT_EQ(*copy.raw(), *raw);

    // Trailing data and truncation are refused.
    auto trailing = PublicKey::from_der(concat({*der, Bytes{0}}));
    ASSERT_FALSE(trailing);
    expect_usage(trailing.error());
    auto truncated = PublicKey::from_der(ByteView(*der).first(der->size() - 1));
    ASSERT_FALSE(truncated);
    expect_usage(truncated.error());
  }
}

TEST(Signature, MalformedKeyTextRefused) {
  for (std::string_view text : {"", "garbage", "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
                                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
                                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}) {
    auto k = PrivateKey::from_pem(text);
    ASSERT_FALSE(k);
    expect_usage(k.error());
  }
  auto p = PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
  ASSERT_FALSE(p);
  expect_usage(p.error());
  auto d = PublicKey::from_der(Bytes{0x30, 0x00});
  ASSERT_FALSE(d);
  expect_usage(d.error());
}

TEST(Signature, RegistryNames) {
  const auto names = algorithm_names(Family::kSignature);
  for (const char* name : {"ecdsa-p256-sha256", "ecdsa-p384-sha384", "ecdsa-p521-sha512",
                           "ecdsa-brainpoolp256r1-sha256", "ed25519", "rsa-pkcs1-sha256", "rsa-pkcs1-sha384",
                           "rsa-pkcs1-sha512"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
    auto s = SignatureScheme::named(name);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->name(), name);
    EXPECT_EQ(s->algorithm_set(), AlgorithmSet::kDefault);
  }
  for (const char* bad : {"", "ecdsa", "ECDSA-P256-SHA256", "ecdsa-p521-sha256", "ed448", "rsa-pss-sha256", "rs256"}) {
    auto s = SignatureScheme::named(bad);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().category(), Category::kUnsupported);
  }
}

// ---- RFC 5639 clause 3.4 ----

Bytes bn_bytes(const BIGNUM* bn, int size) {
  Bytes out(static_cast<std::size_t>(size));
  EXPECT_EQ(BN_bn2binpad(bn, out.data(), size), size);
  return out;
}

TEST(Brainpool, OpenSslCurveIsRfc5639P256r1) {
  test::for_each_vector("brainpool_rfc5639.vec", [](const test::Vector& v) {
    ASSERT_EQ(v.text("Curve"), "brainpoolP256r1");
    std::unique_ptr<EC_GROUP, decltype(&EC_GROUP_free)> group(EC_GROUP_new_by_curve_name(NID_brainpoolP256r1),
                                                              &EC_GROUP_free);
    ASSERT_TRUE(group);
    std::unique_ptr<BIGNUM, decltype(&BN_free)> p(BN_new(), &BN_free), a(BN_new(), &BN_free),
        b(BN_new(), &BN_free), x(BN_new(), &BN_free), y(BN_new(), &BN_free);
    ASSERT_EQ(EC_GROUP_get_curve(group.get(), p.get(), a.get(), b.get(), nullptr), 1);
    ASSERT_EQ(EC_POINT_get_affine_coordinates(group.get(), EC_GROUP_get0_generator(group.get()), x.get(), y.get(),
                                              nullptr),
              1);
    EXPECT_EQ(bn_bytes(p.get(), 32), v.hex("P"));
    EXPECT_EQ(bn_bytes(a.get(), 32), v.hex("A"));
    EXPECT_EQ(bn_bytes(b.get(), 32), v.hex("B"));
    EXPECT_EQ(bn_bytes(x.get(), 32), v.hex("Gx"));
    EXPECT_EQ(bn_bytes(y.get(), 32), v.hex("Gy"));
    EXPECT_EQ(bn_bytes(EC_GROUP_get0_order(group.get()), 32), v.hex("Q"));
    EXPECT_EQ(bn_bytes(EC_GROUP_get0_cofactor(group.get()), 1), v.hex("H"));

    // And the scheme's keys are on that curve.
    auto key = scheme("ecdsa-brainpoolp256r1-sha256").generate();
    ASSERT_TRUE(key);
    char name[64];
    ASSERT_EQ(EVP_PKEY_get_group_name(key->evp(), name, sizeof name, nullptr), 1);
    EXPECT_STREQ(name, "brainpoolP256r1");
  });
}

// ---- The OpenSSL command line as an independent oracle ----

using test::read_file;
using test::run;
using test::TempDir;
using test::write_file;

struct CliCase {
  const char* scheme;
  const char* curve;   // openssl genpkey ec_paramgen_curve
  const char* digest;  // openssl dgst option
};

TEST(EcdsaOracle, OpenSslCliAgreesBothWays) {
  for (const CliCase& c : {CliCase{"ecdsa-p256-sha256", "P-256", "-sha256"},
                           CliCase{"ecdsa-p384-sha384", "P-384", "-sha384"},
                           CliCase{"ecdsa-p521-sha512", "P-521", "-sha512"},
                           CliCase{"ecdsa-brainpoolp256r1-sha256", "brainpoolP256r1", "-sha256"}}) {
    SCOPED_TRACE(c.scheme);
    TempDir dir("m2msec-sig");
    const SignatureScheme s = scheme(c.scheme);
    ASSERT_EQ(run(dir, std::string("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:") + c.curve +
                           " -pkeyopt ec_param_enc:named_curve -out " + dir.file("key.pem")),
              0)
        << read_file(dir.file("log"));
    ASSERT_EQ(run(dir, "openssl pkey -in " + dir.file("key.pem") + " -pubout -out " + dir.file("cli_pub.pem")), 0);
    const Bytes message = concat({as_bytes("oneM2M TS-0003 signature oracle "), Bytes(300, 0xA5)});
    write_file(dir.file("msg.bin"), message);
    write_file(dir.file("msg2.bin"), as_bytes("another message"));

    auto key = PrivateKey::from_pem(read_file(dir.file("key.pem")));
    ASSERT_TRUE(key) << key.error().to_string();
    auto pub = key->public_key();
    ASSERT_TRUE(pub);
    auto pub_pem = pub->to_pem();
    ASSERT_TRUE(pub_pem);
    write_file(dir.file("our_pub.pem"), as_bytes(*pub_pem));

    // Ours -> OpenSSL CLI.
    auto sig = sign(s, *key, message);
    ASSERT_TRUE(sig) << sig.error().to_string();
    write_file(dir.file("our.sig"), *sig);
    const std::string verify_cmd = std::string("openssl dgst ") + c.digest + " -verify " + dir.file("our_pub.pem") +
                                   " -signature " + dir.file("our.sig") + " ";
    EXPECT_EQ(run(dir, verify_cmd + dir.file("msg.bin")), 0) << read_file(dir.file("log"));
    EXPECT_NE(run(dir, verify_cmd + dir.file("msg2.bin")), 0);
    Bytes tampered = *sig;
    tampered[tampered.size() - 3] ^= 0x01;
    write_file(dir.file("our.sig"), tampered);
    EXPECT_NE(run(dir, verify_cmd + dir.file("msg.bin")), 0);

    // OpenSSL CLI -> ours (DER, and the same signature converted to raw).
    ASSERT_EQ(run(dir, std::string("openssl dgst ") + c.digest + " -sign " + dir.file("key.pem") + " -out " +
                           dir.file("cli.sig") + " " + dir.file("msg.bin")),
              0);
    const std::string cli_sig = read_file(dir.file("cli.sig"));
    const ByteView cli_der = as_bytes(cli_sig);
    auto cli_pub = PublicKey::from_pem(read_file(dir.file("cli_pub.pem")));
    ASSERT_TRUE(cli_pub) << cli_pub.error().to_string();
    EXPECT_TRUE(verify(s, *cli_pub, message, cli_der));
    expect_verification_failed(verify(s, *cli_pub, as_bytes("another message"), cli_der));
    Bytes bad(cli_der.begin(), cli_der.end());
    bad.back() ^= 0x80;
    expect_verification_failed(verify(s, *cli_pub, message, bad));
  }
}

TEST(Ed25519Oracle, OpenSslCliAgreesBothWays) {
  TempDir dir("m2msec-sig");
  const SignatureScheme ed = scheme("ed25519");
  ASSERT_EQ(run(dir, "openssl genpkey -algorithm ED25519 -out " + dir.file("key.pem")), 0);
  ASSERT_EQ(run(dir, "openssl pkey -in " + dir.file("key.pem") + " -pubout -out " + dir.file("pub.pem")), 0);
  const ByteView message = as_bytes("pure Ed25519, RFC 8032 clause 5.1");
  write_file(dir.file("msg.bin"), message);
  auto key = PrivateKey::from_pem(read_file(dir.file("key.pem")));
  ASSERT_TRUE(key) << key.error().to_string();

  auto sig = sign(ed, *key, message, SignatureEncoding::kRaw);
  ASSERT_TRUE(sig);
  write_file(dir.file("our.sig"), *sig);
  EXPECT_EQ(run(dir, "openssl pkeyutl -verify -pubin -inkey " + dir.file("pub.pem") + " -rawin -in " +
                         dir.file("msg.bin") + " -sigfile " + dir.file("our.sig")),
            0)
      << read_file(dir.file("log"));

  ASSERT_EQ(run(dir, "openssl pkeyutl -sign -inkey " + dir.file("key.pem") + " -rawin -in " + dir.file("msg.bin") +
                         " -out " + dir.file("cli.sig")),
            0);
  const std::string cli_sig = read_file(dir.file("cli.sig"));
  // Ed25519 is deterministic: the CLI's signature equals ours.
  EXPECT_EQ(Bytes(cli_sig.begin(), cli_sig.end()), *sig);
  auto pub = PublicKey::from_pem(read_file(dir.file("pub.pem")));
  ASSERT_TRUE(pub);
  EXPECT_TRUE(verify(ed, *pub, message, as_bytes(cli_sig), SignatureEncoding::kRaw));
}

}  // namespace
}  // namespace m2msec::crypto
