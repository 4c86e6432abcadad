// The CREDENTIAL options shared by the commands that open a security association (`saef`, `cert enroll`):
//   --psk-identity ID --psk HEX [--psk-kind kpsa|maf|kpm|km] [--peer-id ID]
//   --cert CHAIN.pem --key KEY.pem --ca ANCHORS.pem [--crl CRL.pem] [--peer-flavour F] [--peer-id ID]
//     [--ocsp-staple RESPONSE.der (server)] [--peer-status if-stapled|require-staple (client)]
//   --rpk --key KEY.pem [--peer-key-id ni:///...]
// with --dtls, --tls1.3 and --psk-ke choosing the profile, and --sni the client's server name.
#pragma once

#include <initializer_list>
#include <string_view>
#include <vector>

#include "args.h"
#include "m2msec/core/result.h"
#include "m2msec/tls/session.h"

namespace m2msec::cli {

// The option and flag names the credentials use, followed by a command's own, for Options::parse.
std::vector<std::string_view> credential_options(std::initializer_list<std::string_view> own);
std::vector<std::string_view> credential_flags(std::initializer_list<std::string_view> own);

// The tls::Config for one end of an association, from the CREDENTIAL options; the defaults apply when
// --psk-kind / --peer-flavour are not given.
struct CredentialDefaults {
  std::string_view psk_kind = "kpsa";
  std::string_view peer_flavour = "cse-id";
};
Result<tls::Config> tls_config_from(const Options& opts, tls::Role role, CredentialDefaults defaults = {});

}  // namespace m2msec::cli
