// Fuzz target: the IBC parsers: ID_2 (ibc::IbcIdentity), the KMS master file (kms::parse_master), the credential
// file (client::parse_ibc_credential), and the ECCSI signature and SAKKE encapsulated data a peer sends.
// Properties: an accepted ID_2 formats to its canonical text (FQDN and hex in lower case, the timestamp as given),
// which parses to the same value; an accepted master file round-trips; no input crashes, and random octets neither
// verify as a signature nor decapsulate.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "m2msec/client/ibc.h"
#include "m2msec/ibc/eccsi.h"
#include "m2msec/ibc/identity.h"
#include "m2msec/ibc/sakke.h"
#include "m2msec/kms/kms.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// A KMS made once from fixed, public scalars (1), so the peer-data checks have keys to run against.
struct Keys {
  m2msec::Bytes kpak, z, rsk;
  Keys() {
    const std::uint8_t one[] = {1};
    m2msec::Bytes ksak(32, 0);
    ksak.back() = 1;
    auto eccsi = m2msec::ibc::EccsiKms::from_secret(ksak);
    auto sakke = m2msec::ibc::SakkeKms::from_secret(one);
    check(eccsi && sakke);
    kpak = eccsi->kpak();
    z = sakke->public_key();
    auto key = sakke->receiver_key(m2msec::as_bytes("fuzz@example.com"));
    check(key.has_value());
    rsk.assign(key->view().begin(), key->view().end());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Keys keys;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const m2msec::ByteView octets(data, size);

  if (auto id2 = m2msec::ibc::IbcIdentity::parse(text)) {
    auto formatted = id2->format();
    check(formatted.has_value());
    const auto first = text.find('@');
    const auto last = text.rfind('@');
    check(*formatted == lower(text.substr(0, last)) + std::string(text.substr(last)));
    check(first != last);
    auto again = m2msec::ibc::IbcIdentity::parse(*formatted);
    check(again && again->fqdn == id2->fqdn && again->id == id2->id && again->expires == id2->expires);
  }
  if (auto master = m2msec::kms::parse_master(text)) {
    auto again = m2msec::kms::parse_master(m2msec::as_text(m2msec::kms::master_text(*master).view()));
    check(again && again->eccsi.kpak() == master->eccsi.kpak() && again->sakke.public_key() == master->sakke.public_key());
  }
  (void)m2msec::client::parse_ibc_credential(text);
  check(!m2msec::ibc::eccsi_verify(keys.kpak, m2msec::as_bytes("fuzz@example.com"), m2msec::as_bytes("m"), octets));
  if (size == m2msec::ibc::kSakkeEncapsulatedSize) {
    check(!m2msec::ibc::sakke_decapsulate(keys.z, m2msec::as_bytes("fuzz@example.com"), keys.rsk, octets));
  }
  return 0;
}
