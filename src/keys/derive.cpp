#include "m2msec/keys/derive.h"

#include <array>
#include <string>

#include "m2msec/crypto/hash.h"
#include "m2msec/keys/nfkc.h"

namespace m2msec::keys {
namespace {

template <typename KeyT>
Result<KeyT> hmac_sha256_key(ByteView key, std::initializer_list<ByteView> parts) {
  M2MSEC_ASSIGN_OR_RETURN(SecretBytes mac, crypto::hmac(crypto::Hash::sha256(), key, parts));
  return KeyT::from(std::move(mac));
}

}  // namespace

//= TS-0003 V3.18.0 §10.3.2
//# Km is HMAC-SHA-256 keyed with Ke over the label followed by the NFKC-normalised UTF-8 MAF-ID.
Result<MasterCredential> derive_km(const EnrolmentKey& ke, std::string_view maf_id) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string id, nfkc_utf8(maf_id));
  return hmac_sha256_key<MasterCredential>(
      ke.view(), {as_bytes("oneM2M Enrolment Key to Master Credential derivation"), as_bytes(id)});
}

//= TS-0003 V3.18.0 §10.3.3
//# Kpsa is HMAC-SHA-256 keyed with Ke over the label followed by the NFKC-normalised UTF-8 Enrolee-B-ID.
Result<ProvisionedScKey> derive_kpsa(const EnrolmentKey& ke, std::string_view enrolee_b_id) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string id, nfkc_utf8(enrolee_b_id));
  return hmac_sha256_key<ProvisionedScKey>(
      ke.view(), {as_bytes("oneM2M Enrolment Key to Provisioned Secure Connection Key derivation"), as_bytes(id)});
}

std::optional<Suid> suid_from_int(unsigned value) {
  static constexpr std::array<unsigned, 21> kDefined{10, 11, 12, 13, 14, 15, 21, 22, 23, 24, 25,
                                                     32, 33, 34, 35, 40, 41, 42, 43, 44, 45};
  for (unsigned v : kDefined) {
    if (v == value) return static_cast<Suid>(value);
  }
  return std::nullopt;
}

std::string suid_octets(Suid suid) { return std::to_string(static_cast<unsigned>(suid)); }

//= TS-0003 V3.18.0 §10.3.7
//# The usage-constrained key is HMAC-SHA-256 keyed with Ke over the label, the SUID and the NFKC-normalised Enrolment-Target-ID.
Result<UsageConstrainedKey> derive_usage_constrained_key(const EnrolmentKey& ke, Suid suid,
                                                         std::string_view enrolment_target_id) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string target, nfkc_utf8(enrolment_target_id));
  const std::string suid_text = suid_octets(suid);
  return hmac_sha256_key<UsageConstrainedKey>(
      ke.view(), {as_bytes("oneM2M Enrolment Key to Usage-Constrained Symmetric Key derivation"), as_bytes(suid_text),
                  as_bytes(target)});
}

//= TS-0003 V3.18.0 §10.3.6.1, §10.3.6.2
//# Ke2e_master = HMAC-Hash(Salt, Kpsa); each T(i) = HMAC-Hash(Ke2e_master, T(i-1) | label_i | i).
Result<E2eKeys> derive_e2e_keys_from_source_random(ByteView ikm, ByteView salt) {
  if (ikm.empty()) return Error::usage("Ke2e_master: empty input keying material");
  const crypto::Hash sha256 = crypto::Hash::sha256();
  M2MSEC_ASSIGN_OR_RETURN(SecretBytes prk, crypto::hkdf_extract(sha256, salt, ikm));
  M2MSEC_ASSIGN_OR_RETURN(E2eMasterKey master, E2eMasterKey::from(std::move(prk)));

  static constexpr std::array<std::string_view, 4> kLabels{
      "E2E Message Authentication Key", "E2E Message Confidentiality Key", "E2E Attribute Authenticity Key",
      "E2E Attribute Confidentiality Key"};
  std::array<SecretBytes, 4> t;
  ByteView previous;  // T(0) is the empty string
  for (std::size_t i = 0; i < kLabels.size(); ++i) {
    const std::uint8_t counter = static_cast<std::uint8_t>(i + 1);
    M2MSEC_ASSIGN_OR_RETURN(t[i], crypto::hmac(sha256, master.view(), {previous, as_bytes(kLabels[i]), ByteView(&counter, 1)}));
    previous = t[i].view();
  }
  M2MSEC_ASSIGN_OR_RETURN(E2eMsgAuthKey msg_auth, E2eMsgAuthKey::from(std::move(t[0])));
  M2MSEC_ASSIGN_OR_RETURN(E2eMsgConfKey msg_conf, E2eMsgConfKey::from(std::move(t[1])));
  M2MSEC_ASSIGN_OR_RETURN(E2eAttAuthKey att_auth, E2eAttAuthKey::from(std::move(t[2])));
  M2MSEC_ASSIGN_OR_RETURN(E2eAttConfKey att_conf, E2eAttConfKey::from(std::move(t[3])));
  return E2eKeys{std::move(master), std::move(msg_auth), std::move(msg_conf), std::move(att_auth), std::move(att_conf)};
}

Result<E2eKeys> derive_e2e_keys(const ProvisionedScKey& kpsa, ByteView salt) {
  return derive_e2e_keys_from_source_random(kpsa.view(), salt);
}

//= TS-0003 V3.18.0 §10.3.8
//# sessionESPrimKey = HMAC-SHA256(pairwiseESPrimKey, receiverESPrimRandObject || originatorESPrimRandObject || label).
Result<SessionEsprimKey> derive_session_esprim_key(const PairwiseEsprimKey& pairwise, ByteView receiver_rand_object,
                                                   ByteView originator_rand_object) {
  return hmac_sha256_key<SessionEsprimKey>(
      pairwise.view(), {receiver_rand_object, originator_rand_object,
                        as_bytes("oneM2M HMAC-SHA256 sessionESPrimKey derivation algorithm")});
}

}  // namespace m2msec::keys
