// `m2msec derive ...`: the TS-0003 key hierarchy for operators and tests. Prints lowercase hex (or
// identifier text) on stdout, one value per line.
#include "commands.h"

#include <charconv>
#include <iostream>

#include "args.h"
#include "m2msec/core/encoding.h"
#include "m2msec/keys/derive.h"
#include "m2msec/keys/export.h"
#include "m2msec/keys/identifiers.h"

namespace m2msec::cli {
namespace {

Result<keys::EnrolmentKey> ke_option(const Options& opts) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view text, opts.required("ke"));
  M2MSEC_ASSIGN_OR_RETURN(SecretBytes ke, hex_decode_secret(text));
  return keys::EnrolmentKey::from(std::move(ke));
}

template <typename KeyT>
void print_key(const KeyT& key) { std::cout << hex_encode(key.view()) << '\n'; }

template <typename KeyT>
void print_named(std::string_view name, const KeyT& key) { std::cout << name << '=' << hex_encode(key.view()) << '\n'; }

Result<void> derive_km(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"ke", "maf-id"}));
  M2MSEC_ASSIGN_OR_RETURN(const keys::EnrolmentKey ke, ke_option(opts));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view maf_id, opts.required("maf-id"));
  M2MSEC_ASSIGN_OR_RETURN(const keys::MasterCredential km, keys::derive_km(ke, maf_id));
  print_key(km);
  return {};
}

Result<void> derive_kpsa(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"ke", "peer-id"}));
  M2MSEC_ASSIGN_OR_RETURN(const keys::EnrolmentKey ke, ke_option(opts));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view peer, opts.required("peer-id"));
  M2MSEC_ASSIGN_OR_RETURN(const keys::ProvisionedScKey kpsa, keys::derive_kpsa(ke, peer));
  print_key(kpsa);
  return {};
}

Result<void> derive_usage_key(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"ke", "suid", "target-id"}));
  M2MSEC_ASSIGN_OR_RETURN(const keys::EnrolmentKey ke, ke_option(opts));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view suid_text, opts.required("suid"));
  unsigned suid_value = 0;
  const auto [end, ec] = std::from_chars(suid_text.data(), suid_text.data() + suid_text.size(), suid_value);
  const auto suid = ec == std::errc{} && end == suid_text.data() + suid_text.size() ? keys::suid_from_int(suid_value)
                                                                                    : std::nullopt;
  if (!suid) return Error::usage("--suid must be an m2m:suid value (TS-0004 6.3.4.2.39)");
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view target, opts.required("target-id"));
  M2MSEC_ASSIGN_OR_RETURN(const keys::UsageConstrainedKey key, keys::derive_usage_constrained_key(ke, *suid, target));
  print_key(key);
  return {};
}

Result<void> derive_e2e(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"kpsa", "salt"}));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view kpsa_text, opts.required("kpsa"));
  M2MSEC_ASSIGN_OR_RETURN(SecretBytes kpsa_bytes, hex_decode_secret(kpsa_text));
  M2MSEC_ASSIGN_OR_RETURN(const keys::ProvisionedScKey kpsa, keys::ProvisionedScKey::from(std::move(kpsa_bytes)));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view salt_text, opts.required("salt"));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes salt, hex_decode(salt_text));
  M2MSEC_ASSIGN_OR_RETURN(const keys::E2eKeys e2e, keys::derive_e2e_keys(kpsa, salt));
  print_named("Ke2e_master", e2e.master);
  print_named("Ke2e_msg_auth", e2e.msg_auth);
  print_named("Ke2e_msg_conf", e2e.msg_conf);
  print_named("Ke2e_att_auth", e2e.att_auth);
  print_named("Ke2e_att_conf", e2e.att_conf);
  return {};
}

Result<void> derive_export_split(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"exported", "label", "fqdn"}));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view exported_text, opts.required("exported"));
  M2MSEC_ASSIGN_OR_RETURN(const SecretBytes exported, hex_decode_secret(exported_text));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view label_text, opts.required("label"));
  const auto label = keys::export_label_named(label_text);
  if (!label) return Error::usage("--label must be bootstrap, connection or escertke");

  if (*label == keys::ExportLabel::kEscertke) {
    // pairwiseE2EKeyID has no FQDN part (TS-0003 10.3.1, 8.7.2.2); refuse rather than ignore --fqdn.
    if (opts.get("fqdn")) return Error::usage("--fqdn does not apply to escertke: pairwiseE2EKeyID has no FQDN part");
    M2MSEC_ASSIGN_OR_RETURN(const auto split, keys::split_escertke_export(exported.view()));
    std::cout << "key=" << hex_encode(split.key.view()) << '\n'
              << "id=" << hex_encode(split.id.view(), keys::kIdentifierHexCase) << '\n';
    return {};
  }
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view fqdn_text, opts.required("fqdn"));
  M2MSEC_ASSIGN_OR_RETURN(keys::Fqdn fqdn, keys::Fqdn::parse(fqdn_text));
  if (*label == keys::ExportLabel::kBootstrap) {
    M2MSEC_ASSIGN_OR_RETURN(const auto split, keys::split_bootstrap_export(exported.view()));
    std::cout << "key=" << hex_encode(split.key.view()) << '\n'
              << "id=" << keys::KeId(split.id, std::move(fqdn)).to_string() << '\n';
  } else {
    M2MSEC_ASSIGN_OR_RETURN(const auto split, keys::split_connection_export(exported.view()));
    std::cout << "key=" << hex_encode(split.key.view()) << '\n'
              << "id=" << keys::KeyIdentifier::from_kc_id(split.id, std::move(fqdn)).to_string() << '\n';
  }
  return {};
}

}  // namespace

Result<void> run_derive(const std::vector<std::string_view>& args) {
  return dispatch("derive", args, {{"km", derive_km}, {"kpsa", derive_kpsa}, {"usage-key", derive_usage_key}, {"e2e", derive_e2e}, {"export-split", derive_export_split}});
}

}  // namespace m2msec::cli
