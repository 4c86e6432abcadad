// `m2msec esdata protect|unprotect`: ESData envelopes (TS-0003 V3.18.0 clause 8.5) in the JOSE forms of
// m2m:contentSecurity (1 compact, 2 JSON, 3 JSON then base64). Keys are JWK files (a JWK or a JWK Set): every
// key of --key is a recipient (protect) or a decryption key (unprotect), every key of --sign-key a signer,
// every key of --verify-key a trusted verification key.
//
// protect reads the payload on stdin and prints the envelope and a newline; with --media-type it prints
// instead one JSON object {"con":"<envelope>","cnf":"<m2m:contentInfo>"}, the two attribute values of a
// <contentInstance> the hosting CSE stores but cannot read. unprotect reads the envelope on stdin (white space
// around it ignored) and prints the payload octets exactly; --report adds one line on stderr,
// "class=<class> decrypted-by=<kid> verified-by=<kid>,<kid>". A failure prints one line on stderr and
// nothing on stdout.
#include <iostream>

#include "args.h"
#include "commands.h"
#include "jose_io.h"
#include "m2msec/e2e/esdata.h"
#include "m2msec/json/json.h"

namespace m2msec::cli {
namespace {

Result<e2e::SecurityClass> class_named(std::string_view name) {
  if (name == "encrypt") return e2e::SecurityClass::kEncryptionOnly;
  if (name == "sign") return e2e::SecurityClass::kSignatureOnly;
  if (name == "nested") return e2e::SecurityClass::kNestedSignThenEncrypt;
  return Error::usage("--class must be encrypt, sign or nested");
}

Result<e2e::ContentSecurity> form_of(const Options& opts) {
  const std::string_view text = opts.get("content-security").value_or("1");
  if (text.size() != 1 || text[0] < '0' || text[0] > '9') return Error::usage("--content-security must be 1, 2 or 3");
  return e2e::content_security_from_int(text[0] - '0');
}

Result<std::vector<jose::Jwk>> optional_keys(const Options& opts, std::string_view name) {
  if (const auto path = opts.get(name)) return read_keys(*path);
  return std::vector<jose::Jwk>{};
}

Result<void> protect(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts,
                          Options::parse(args, {"class", "key", "key-alg", "sign-key", "sign-alg", "enc",
                                                "content-security", "media-type", "encoding"}));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view class_name, opts.required("class"));
  e2e::ProtectOptions options;
  M2MSEC_ASSIGN_OR_RETURN(options.security_class, class_named(class_name));
  M2MSEC_ASSIGN_OR_RETURN(options.form, form_of(opts));
  const bool encrypting = options.security_class != e2e::SecurityClass::kSignatureOnly;
  const bool signing = options.security_class != e2e::SecurityClass::kEncryptionOnly;
  if (encrypting != opts.get("key").has_value()) {
    return Error::usage(encrypting ? "--key (the recipients) is needed for this class"
                                   : "--key (recipients) does not belong to the signature-only class");
  }
  if (signing != opts.get("sign-key").has_value()) {
    return Error::usage(signing ? "--sign-key is needed for this class"
                                : "--sign-key does not belong to the encryption-only class");
  }
  M2MSEC_ASSIGN_OR_RETURN(const std::vector<jose::Jwk> recipients, optional_keys(opts, "key"));
  M2MSEC_ASSIGN_OR_RETURN(const std::vector<jose::Jwk> signers, optional_keys(opts, "sign-key"));
  for (const jose::Jwk& k : recipients) options.recipients.push_back({&k, std::string(opts.get("key-alg").value_or(""))});
  for (const jose::Jwk& k : signers) options.signers.push_back({&k, std::string(opts.get("sign-alg").value_or(""))});
  options.enc = std::string(opts.get("enc").value_or(""));
  M2MSEC_ASSIGN_OR_RETURN(const std::string payload, read_stdin());

  const auto media_type = opts.get("media-type");
  if (!media_type) {
    if (opts.get("encoding")) return Error::usage("--encoding goes with --media-type");
    M2MSEC_ASSIGN_OR_RETURN(const std::string envelope, e2e::protect(as_bytes(payload), options));
    write_object(envelope);
    return {};
  }
  const std::string_view encoding = opts.get("encoding").value_or("0");
  if (encoding != "0" && encoding != "1" && encoding != "2") return Error::usage("--encoding must be 0, 1 or 2");
  M2MSEC_ASSIGN_OR_RETURN(const e2e::ProtectedContent content,
                          e2e::protect_content(as_bytes(payload), *media_type,
                                               static_cast<e2e::EncodingType>(encoding[0] - '0'), options));
  const json::Object out{{"con", json::Value(content.con)}, {"cnf", json::Value(content.cnf)}};
  write_object(json::serialize(out));
  return {};
}

Result<void> unprotect(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts,
                          Options::parse(args, {"key", "verify-key", "content-security", "cnf", "expect"},
                                         {"all-signatures", "report"}));
  if (!opts.get("key") && !opts.get("verify-key")) return Error::usage("name --key, --verify-key or both");
  if (opts.get("cnf") && opts.get("content-security")) return Error::usage("--cnf and --content-security exclude each other");
  M2MSEC_ASSIGN_OR_RETURN(const std::vector<jose::Jwk> decryption, optional_keys(opts, "key"));
  M2MSEC_ASSIGN_OR_RETURN(const std::vector<jose::Jwk> verification, optional_keys(opts, "verify-key"));
  e2e::UnprotectOptions options;
  options.decryption_keys = decryption;
  options.verification_keys = verification;
  options.require_all_signatures = opts.flag("all-signatures");
  if (const auto expect = opts.get("expect")) {
    M2MSEC_ASSIGN_OR_RETURN(options.expected_class, class_named(*expect));
  }
  M2MSEC_ASSIGN_OR_RETURN(const std::string envelope, read_object());
  e2e::UnprotectedData data;
  if (const auto cnf = opts.get("cnf")) {
    M2MSEC_ASSIGN_OR_RETURN(e2e::UnprotectedContent content, e2e::unprotect_content(envelope, *cnf, options));
    data = std::move(content.data);
  } else {
    M2MSEC_ASSIGN_OR_RETURN(options.form, form_of(opts));
    M2MSEC_ASSIGN_OR_RETURN(data, e2e::unprotect(envelope, options));
  }
  if (opts.flag("report")) {
    std::string verified;
    for (const std::string& kid : data.verified_by) verified += (verified.empty() ? "" : ",") + kid;
    std::cerr << "class=" << e2e::security_class_name(data.security_class)
              << " decrypted-by=" << data.decrypted_by.value_or("") << " verified-by=" << verified << std::endl;
  }
  write_payload(data.payload);
  return {};
}

}  // namespace

Result<void> run_esdata(const std::vector<std::string_view>& args) {
  return dispatch("esdata", args, {{"protect", protect}, {"unprotect", unprotect}});
}

}  // namespace m2msec::cli
