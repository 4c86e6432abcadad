// Certificate profiles of TS-0003 V3.18.0 clause 10.1.1, as checks. validate_path applies them to every
// path it accepts; the issuing CA applies them to what it issues.
#pragma once

#include <optional>

#include "m2msec/core/result.h"
#include "m2msec/pki/certificate.h"
#include "m2msec/pki/identity.h"

namespace m2msec::pki {

// An end-entity certificate: the common details of 10.1.1.1 (SubjectPublicKeyInfo id-ecPublicKey with the
// namedCurve prime256v1 and an uncompressed point; a keyUsage extension asserting digitalSignature) and the
// ecdsa-with-SHA256 signature of 10.1.1.3. With a flavour also 10.1.1.4-10.1.1.8: subjectAltName holds at
// least one identifier of the flavour's form (identifiers()), no dNSName or URI entry holds a '*', and for
// ae-id every AE-ID entry is an Absolute AE-ID. Fails with Category::kAuth, TLS alert 42 (bad_certificate)
// and a detail naming the clause and what is wrong.
Result<void> check_profile(const Certificate& cert, std::optional<Flavour> flavour);

// A CA certificate of a path: its key (10.1.1.1) and signature algorithm (10.1.1.3) only (its keyUsage
// is RFC 5280's keyCertSign, which path validation checks). Same errors as check_profile.
Result<void> check_ca_profile(const Certificate& ca);

}  // namespace m2msec::pki
