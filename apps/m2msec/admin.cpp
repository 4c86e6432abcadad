// `m2msec admin (--data-dir DIR | --database CONNINFO [--kek-file FILE]) <group> <command> ...`: what an operator
// provisions in the store a MEF and a MAF serve from (the "backend" interfaces TS-0003 leaves to the
// implementation, 8.3.1 phases 1-3): pre-provisioned enrolee keys, MEF Client Commands, pre-provisioned MAF
// clients; and what it reads back (enrolments).
#include <charconv>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "m2msec/core/encoding.h"
#include "m2msec/core/timestamp.h"
#include "m2msec/json/json.h"
#include "m2msec/mef/service.h"
#include "m2msec/tls/credentials.h"
#include "store.h"

namespace m2msec::cli {
namespace {

// The store options come before the group word; everything after it belongs to the command.
struct Split {
  std::vector<std::string_view> store_args;
  std::vector<std::string_view> rest;
};

Split split_store_options(const std::vector<std::string_view>& args) {
  Split out;
  std::size_t i = 0;
  while (i < args.size() && args[i].starts_with("--")) {
    out.store_args.push_back(args[i++]);
    if (i < args.size()) out.store_args.push_back(args[i++]);
  }
  out.rest.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  return out;
}

Result<std::chrono::seconds> seconds_option(const Options& opts, std::string_view name) {
  M2MSEC_ASSIGN_OR_RETURN(const std::size_t value, opts.number(name, 0));
  return std::chrono::seconds(value);
}

Result<void> add_enrolee(store::Store& db, const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts,
                          Options::parse(args, {"kpm-id", "kpm", "enrolee-id", "target", "lifetime"}));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view kpm_id, opts.required("kpm-id"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view kpm_hex, opts.required("kpm"));
  store::Enrolee enrolee;
  M2MSEC_ASSIGN_OR_RETURN(enrolee.kpm_id, tls::canonical_psk_identity(tls::PskIdentityKind::kKpmId, kpm_id));
  M2MSEC_ASSIGN_OR_RETURN(enrolee.kpm, hex_decode_secret(kpm_hex));
  //= TS-0003 V3.18.0 §10.2.2 (RFC 4279 clause 5.3)
  //# A pre-shared key of at least 128 bits.
  if (enrolee.kpm.size() < 16 || enrolee.kpm.size() > 64) return Error::usage("--kpm must be 16 to 64 octets of hex");
  enrolee.enrolee_id = std::string(opts.get("enrolee-id").value_or(""));
  enrolee.target_id = std::string(opts.get("target").value_or(""));
  M2MSEC_ASSIGN_OR_RETURN(enrolee.lifetime, seconds_option(opts, "lifetime"));
  M2MSEC_TRY(db.add_enrolee(enrolee));
  std::cout << "enrolee kpm-id=" << enrolee.kpm_id << '\n';
  return {};
}

Result<void> list_enrolments(store::Store& db, const std::vector<std::string_view>& args) {
  M2MSEC_TRY(Options::parse(args, {}));
  M2MSEC_ASSIGN_OR_RETURN(const auto enrolments, db.list_enrolments());
  for (const auto& enrolment : enrolments) {
    M2MSEC_ASSIGN_OR_RETURN(const std::string expires, format_m2m_timestamp(enrolment.expires));
    std::cout << "keid=" << enrolment.ke_id << " expires=" << expires << '\n';
  }
  return {};
}

Result<void> add_command(store::Store& db, const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"client-id", "class", "args"}));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view client_id, opts.required("client-id"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view class_name, opts.required("class"));
  const auto command_class = mef::command_class_named(class_name);
  if (!command_class) return Error::usage("--class must be cert-prov, dev-cfg, mo-node or ibc-prov");
  M2MSEC_ASSIGN_OR_RETURN(const json::Value arguments, json::parse(opts.get("args").value_or("{}")));
  if (arguments.object() == nullptr) return Error::usage("--args must be a JSON object (cmdArgs in short names)");
  M2MSEC_ASSIGN_OR_RETURN(const std::string cmd_id,
                          mef::queue_command(db, client_id, *command_class, *arguments.object()));
  std::cout << "command cmd-id=" << cmd_id << '\n';
  return {};
}

Result<void> add_maf_client(store::Store& db, const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"km-id", "km", "client-id", "lifetime"}));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view km_id, opts.required("km-id"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view km_hex, opts.required("km"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view client_id, opts.required("client-id"));
  store::MasterCredential credential;
  M2MSEC_ASSIGN_OR_RETURN(credential.id, tls::canonical_psk_identity(tls::PskIdentityKind::kKmId, km_id));
  M2MSEC_ASSIGN_OR_RETURN(credential.km, hex_decode_secret(km_hex));
  if (credential.km.size() < 16 || credential.km.size() > 64) return Error::usage("--km must be 16 to 64 octets of hex");
  credential.client_id = std::string(client_id);
  M2MSEC_ASSIGN_OR_RETURN(const std::chrono::seconds lifetime, seconds_option(opts, "lifetime"));
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  credential.expires = lifetime.count() > 0 ? now + lifetime : store::Time::max();
  M2MSEC_TRY(db.put_master_credential(credential));
  std::cout << "maf-client km-id=" << credential.id << '\n';
  return {};
}

}  // namespace

Result<void> run_admin(const std::vector<std::string_view>& args) {
  const Split split = split_store_options(args);
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(split.store_args, kStoreOptions));
  M2MSEC_ASSIGN_OR_RETURN(const std::shared_ptr<store::Store> opened, open_store(opts));
  // Each sub-command with the store of this invocation.
  const auto with_store = [&opened](Result<void> (*command)(store::Store&, const std::vector<std::string_view>&)) {
    return [&opened, command](const std::vector<std::string_view>& rest) { return command(*opened, rest); };
  };
  const auto mef = [&](const std::vector<std::string_view>& rest) {
    return dispatch("admin mef", rest,
                    {{"add-enrolee", with_store(add_enrolee)},
                     {"list-enrolments", with_store(list_enrolments)},
                     {"add-command", with_store(add_command)}});
  };
  const auto maf = [&](const std::vector<std::string_view>& rest) {
    return dispatch("admin maf", rest, {{"add-client", with_store(add_maf_client)}});
  };
  return dispatch("admin", split.rest, {{"mef", mef}, {"maf", maf}});
}

}  // namespace m2msec::cli
