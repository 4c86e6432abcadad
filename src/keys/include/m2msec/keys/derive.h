// The TS-0003 V3.18.0 symmetric key hierarchy (clauses 10.3.2, 10.3.3, 10.3.6, 10.3.7, 10.3.8).
// Identity inputs are UTF-8 text; each function applies NFKC itself where the clause asks for it, so
// callers cannot forget it. All HMACs are HMAC-SHA-256 (RFC 2104), labels are ASCII octets with no
// length prefix and no terminator.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/keys/key.h"

namespace m2msec::keys {

// Km = HMAC-SHA-256(Ke, "oneM2M Enrolment Key to Master Credential derivation" || MAF-ID)   (10.3.2)
Result<MasterCredential> derive_km(const EnrolmentKey& ke, std::string_view maf_id);

// Kpsa = HMAC-SHA-256(Ke, "oneM2M Enrolment Key to Provisioned Secure Connection Key derivation"
//                     || Enrolee-B-ID)                                                      (10.3.3)
Result<ProvisionedScKey> derive_kpsa(const EnrolmentKey& ke, std::string_view enrolee_b_id);

// m2m:suid, Security Usage Identifier (TS-0004 V3.32.0 6.3.4.2.39).
enum class Suid : std::uint8_t {
  kPreProvisionedMef = 10, kPreProvisionedMaf = 11, kPreProvisionedSaef = 12, kPreProvisionedEsprim = 13,
  kPreProvisionedEsdata = 14, kPreProvisionedEsdataSignature = 15,
  kRspfMaf = 21, kRspfSaef = 22, kRspfEsprim = 23, kRspfEsdata = 24, kRspfEsdataSignature = 25,
  kMafSaef = 32, kMafEsprim = 33, kMafEsdata = 34, kMafEsdataSignature = 35,
  kCertificateMef = 40, kCertificateMaf = 41, kCertificateSaef = 42, kCertificateEsprim = 43,
  kCertificateEsdata = 44, kCertificateEsdataSignature = 45,
};
// The m2m:suid for a number, if TS-0004 defines it (31, used in TS-0003 8.3.9.9.2, is not defined).
std::optional<Suid> suid_from_int(unsigned value);

// The octets of SUID inside the 10.3.7 derivation. TS-0003 does not define them; we use the decimal
// text of the m2m:suid value ("22" for 22), the form it takes in the /fetchCredentials/<KeID>/<SUID>
// path of the same procedure (8.3.2.1). One function, one place.
std::string suid_octets(Suid suid);

// K = HMAC-SHA-256(Ke, "oneM2M Enrolment Key to Usage-Constrained Symmetric Key derivation"
//                  || SUID || Enrolment-Target-ID)                                          (10.3.7)
Result<UsageConstrainedKey> derive_usage_constrained_key(const EnrolmentKey& ke, Suid suid,
                                                         std::string_view enrolment_target_id);

// The End-to-End keys of 10.3.6: Ke2e_master = HMAC-Hash(Salt, Kpsa) (RFC 5869 HKDF-Extract), then
// T(i) = HMAC-Hash(Ke2e_master, T(i-1) || label_i || i) with T(0) empty and a different label per
// block (so not one RFC 5869 HKDF-Expand call). Hash = SHA-256 (the clause writes "HMAC-Hash"; SHA-256
// is the hash of every other 10.3 derivation). The salt is an input: the clause defines none (the
// Trust Enabling Function provides it, 8.6.2).
struct E2eKeys {
  E2eMasterKey master;
  E2eMsgAuthKey msg_auth;  // T(1), "E2E Message Authentication Key"
  E2eMsgConfKey msg_conf;  // T(2), "E2E Message Confidentiality Key"
  E2eAttAuthKey att_auth;  // T(3), "E2E Attribute Authenticity Key"
  E2eAttConfKey att_conf;  // T(4), "E2E Attribute Confidentiality Key"
};
Result<E2eKeys> derive_e2e_keys(const ProvisionedScKey& kpsa, ByteView salt);
// Source-generated credentials (10.3.6.1 NOTE): a random value from the Source ESF End-Point replaces Kpsa.
Result<E2eKeys> derive_e2e_keys_from_source_random(ByteView source_random, ByteView salt);

// sessionESPrimKey = HMAC-SHA-256(pairwiseESPrimKey, receiverESPrimRandObject ||
//   originatorESPrimRandObject || "oneM2M HMAC-SHA256 sessionESPrimKey derivation algorithm")  (10.3.8)
Result<SessionEsprimKey> derive_session_esprim_key(const PairwiseEsprimKey& pairwise, ByteView receiver_rand_object,
                                                   ByteView originator_rand_object);

}  // namespace m2msec::keys
