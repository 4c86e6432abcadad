// TLS keying-material export for oneM2M (TS-0003 V3.18.0 clause 10.3.1): the three exporter labels and
// the split of the 48-octet output into an identifier and a key.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"
#include "m2msec/keys/key.h"

namespace m2msec::keys {

// Exported with RFC 5705 and no context value (TS-0003 gives none).
inline constexpr std::size_t kExportLength = 48;

enum class ExportLabel { kBootstrap, kConnection, kEscertke };

// "EXPORTER-oneM2M-Bootstrap", "EXPORTER-oneM2M-Connection", "EXPORTER-oneM2M-ESCertKE".
std::string_view exporter_label(ExportLabel label);
// "bootstrap" | "connection" | "escertke" (the CLI's names).
std::optional<ExportLabel> export_label_named(std::string_view name);

template <typename IdT, typename KeyT>
struct ExportSplit {
  IdT id;
  KeyT key;
};

// The 48 exported octets read as one big-endian number: the 16 most significant octets (out[0..15])
// are the identifier and the 32 least significant octets (out[16..47]) the key. Fails with kUsage
// unless exactly 48 octets are given.
Result<ExportSplit<RelativeKeId, EnrolmentKey>> split_bootstrap_export(ByteView exported);   // Ke, RelativeKeID
Result<ExportSplit<KcId, ConnectionKey>> split_connection_export(ByteView exported);        // Kc, KcID
Result<ExportSplit<PairwiseE2EKeyId, PairwiseE2EKey>> split_escertke_export(ByteView exported);

}  // namespace m2msec::keys
