#include "m2msec/kms/kms.h"

#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"

namespace m2msec::kms {
namespace {

constexpr std::string_view kKsak = "ksak=";
constexpr std::string_view kZ = "z=";

// The hex after `prefix` on `line`, as a secret.
Result<SecretBytes> secret_line(std::string_view line, std::string_view prefix) {
  if (!line.starts_with(prefix)) return Error::usage(concat({"the KMS master file needs a line ", prefix, "<hex>"}));
  return hex_decode_secret(line.substr(prefix.size()));
}

}  // namespace

Result<MasterKeys> generate_master(Rng& rng) {
  M2MSEC_ASSIGN_OR_RETURN(ibc::EccsiKms eccsi, ibc::EccsiKms::generate(rng));
  M2MSEC_ASSIGN_OR_RETURN(ibc::SakkeKms sakke, ibc::SakkeKms::generate(rng));
  return MasterKeys{std::move(eccsi), std::move(sakke)};
}

SecretBytes master_text(const MasterKeys& keys) {
  std::string text = concat({kKsak, hex_encode(keys.eccsi.ksak().view()), "\n", kZ, hex_encode(keys.sakke.z().view()), "\n"});
  SecretBytes out = SecretBytes::copy_of(as_bytes(text));
  std::fill(text.begin(), text.end(), '\0');
  return out;
}

Result<MasterKeys> parse_master(std::string_view text) {
  const auto newline = text.find('\n');
  if (newline == std::string_view::npos) return Error::usage("the KMS master file needs two lines");
  std::string_view second = text.substr(newline + 1);
  if (second.ends_with('\n')) second.remove_suffix(1);
  M2MSEC_ASSIGN_OR_RETURN(const SecretBytes ksak, secret_line(text.substr(0, newline), kKsak));
  M2MSEC_ASSIGN_OR_RETURN(const SecretBytes z, secret_line(second, kZ));
  M2MSEC_ASSIGN_OR_RETURN(ibc::EccsiKms eccsi, ibc::EccsiKms::from_secret(ksak.view()));
  M2MSEC_ASSIGN_OR_RETURN(ibc::SakkeKms sakke, ibc::SakkeKms::from_secret(z.view()));
  return MasterKeys{std::move(eccsi), std::move(sakke)};
}

PublicParameters LocalIssuer::parameters() const {
  return PublicParameters{m_keys.eccsi.kpak(), m_keys.sakke.public_key()};
}

Result<IssuedKeys> LocalIssuer::issue(ByteView id) const {
  M2MSEC_ASSIGN_OR_RETURN(ibc::EccsiUserKey eccsi, m_keys.eccsi.issue(id));
  M2MSEC_ASSIGN_OR_RETURN(SecretBytes rsk, m_keys.sakke.receiver_key(id));
  return IssuedKeys{std::move(eccsi), std::move(rsk), parameters()};
}

}  // namespace m2msec::kms
