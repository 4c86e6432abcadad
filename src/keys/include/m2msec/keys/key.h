// One strong type per key role of the TS-0003 key hierarchy, so that a Km can never be passed where a
// Kpsa is expected. Keys are SecretBytes of a fixed size: move-only, zeroized, no ==, never printed.
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"

namespace m2msec::keys {

template <typename Tag, std::size_t N>
class Key {
 public:
  static constexpr std::size_t kSize = N;

  // Takes ownership of exactly N octets; fails with kUsage for any other size.
  static Result<Key> from(SecretBytes&& bytes) {
    if (bytes.size() != N) {
      return Error::usage(std::string(Tag::kName) + " must be " + std::to_string(N) + " octets, got " +
                          std::to_string(bytes.size()));
    }
    return Key(std::move(bytes));
  }
  static Result<Key> from(ByteView bytes) { return from(SecretBytes::copy_of(bytes)); }

  Key(Key&&) noexcept = default;
  Key& operator=(Key&&) noexcept = default;
  Key clone() const { return Key(m_bytes.clone()); }

  bool operator==(const Key&) const = delete;

  static constexpr const char* name() { return Tag::kName; }
  ByteView view() const { return m_bytes.view(); }

 private:
  explicit Key(SecretBytes&& bytes) : m_bytes(std::move(bytes)) {}
  SecretBytes m_bytes;
};

// Public 16-octet identifiers that the exporter yields next to a key (clause 10.3.1).
template <typename Tag>
class Id16 {
 public:
  static constexpr std::size_t kSize = 16;
  static Result<Id16> from(ByteView bytes) {
    if (bytes.size() != kSize) return Error::usage(std::string(Tag::kName) + " must be 16 octets");
    Id16 id;
    std::copy(bytes.begin(), bytes.end(), id.m_bytes.begin());
    return id;
  }
  ByteView view() const { return m_bytes; }
  bool operator==(const Id16&) const = default;

 private:
  std::array<std::uint8_t, kSize> m_bytes{};
};

#define M2MSEC_KEY_TAG(type, text) \
  struct type {                    \
    static constexpr const char* kName = text; \
  }
namespace tag {
M2MSEC_KEY_TAG(Ke, "Ke");
M2MSEC_KEY_TAG(Km, "Km");
M2MSEC_KEY_TAG(Kpsa, "Kpsa");
M2MSEC_KEY_TAG(Kc, "Kc");
M2MSEC_KEY_TAG(PairwiseE2E, "pairwiseE2EKey");
M2MSEC_KEY_TAG(UsageConstrained, "usage-constrained key");
M2MSEC_KEY_TAG(Ke2eMaster, "Ke2e_master");
M2MSEC_KEY_TAG(Ke2eMsgAuth, "Ke2e_msg_auth");
M2MSEC_KEY_TAG(Ke2eMsgConf, "Ke2e_msg_conf");
M2MSEC_KEY_TAG(Ke2eAttAuth, "Ke2e_att_auth");
M2MSEC_KEY_TAG(Ke2eAttConf, "Ke2e_att_conf");
M2MSEC_KEY_TAG(PairwiseEsprim, "pairwiseESPrimKey");
M2MSEC_KEY_TAG(SessionEsprim, "sessionESPrimKey");
M2MSEC_KEY_TAG(RelativeKeId, "RelativeKeID");
M2MSEC_KEY_TAG(KcId, "KcID");
M2MSEC_KEY_TAG(PairwiseE2EKeyId, "pairwiseE2EKeyID");
}  // namespace tag
#undef M2MSEC_KEY_TAG

// Every key of clauses 10.3.1-10.3.8 is 32 octets: the 32 least significant octets of the exporter
// output (10.3.1) or an HMAC-SHA-256 output (10.3.2, 10.3.3, 10.3.6, 10.3.7, 10.3.8).
using EnrolmentKey = Key<tag::Ke, 32>;
using MasterCredential = Key<tag::Km, 32>;
using ProvisionedScKey = Key<tag::Kpsa, 32>;
using ConnectionKey = Key<tag::Kc, 32>;
using PairwiseE2EKey = Key<tag::PairwiseE2E, 32>;
using UsageConstrainedKey = Key<tag::UsageConstrained, 32>;
using E2eMasterKey = Key<tag::Ke2eMaster, 32>;
using E2eMsgAuthKey = Key<tag::Ke2eMsgAuth, 32>;
using E2eMsgConfKey = Key<tag::Ke2eMsgConf, 32>;
using E2eAttAuthKey = Key<tag::Ke2eAttAuth, 32>;
using E2eAttConfKey = Key<tag::Ke2eAttConf, 32>;
using PairwiseEsprimKey = Key<tag::PairwiseEsprim, 32>;
using SessionEsprimKey = Key<tag::SessionEsprim, 32>;

using RelativeKeId = Id16<tag::RelativeKeId>;
using KcId = Id16<tag::KcId>;
using PairwiseE2EKeyId = Id16<tag::PairwiseE2EKeyId>;

}  // namespace m2msec::keys
