#include "m2msec/keys/nfkc.h"

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>

#include <climits>
#include <vector>

namespace m2msec::keys {

Result<std::string> nfkc_utf8(std::string_view text) {
  if (text.empty()) return Error::usage("identity is empty");
  if (text.size() > INT32_MAX / 2) return Error::usage("identity too long");
  // u_strFromUTF8 refuses ill-formed input (UnicodeString::fromUTF8 would silently substitute U+FFFD).
  UErrorCode status = U_ZERO_ERROR;
  int32_t units = 0;
  u_strFromUTF8(nullptr, 0, &units, text.data(), static_cast<int32_t>(text.size()), &status);
  if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status)) return Error::usage("identity is not well-formed UTF-8");
  std::vector<UChar> utf16(static_cast<std::size_t>(units));
  status = U_ZERO_ERROR;
  u_strFromUTF8(utf16.data(), units, nullptr, text.data(), static_cast<int32_t>(text.size()), &status);
  if (U_FAILURE(status)) return Error::usage("identity is not well-formed UTF-8");

  const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(status);
  if (U_FAILURE(status)) return Error::internal("ICU NFKC normaliser unavailable");
  icu::UnicodeString normalised = nfkc->normalize(icu::UnicodeString(utf16.data(), units), status);
  if (U_FAILURE(status)) return Error::internal("ICU NFKC normalisation failed");
  std::string out;
  normalised.toUTF8String(out);
  return out;
}

}  // namespace m2msec::keys
