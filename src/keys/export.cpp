#include "m2msec/keys/export.h"

namespace m2msec::keys {

std::string_view exporter_label(ExportLabel label) {
  //= TS-0003 V3.18.0 §10.3.1
  //# The exporter labels are EXPORTER-oneM2M-Bootstrap, EXPORTER-oneM2M-Connection and EXPORTER-oneM2M-ESCertKE.
  switch (label) {
    case ExportLabel::kBootstrap: return "EXPORTER-oneM2M-Bootstrap";
    case ExportLabel::kConnection: return "EXPORTER-oneM2M-Connection";
    case ExportLabel::kEscertke: return "EXPORTER-oneM2M-ESCertKE";
  }
  return {};
}

std::optional<ExportLabel> export_label_named(std::string_view name) {
  if (name == "bootstrap") return ExportLabel::kBootstrap;
  if (name == "connection") return ExportLabel::kConnection;
  if (name == "escertke") return ExportLabel::kEscertke;
  return std::nullopt;
}

namespace {

//= TS-0003 V3.18.0 §10.3.1
//# 48 octets are exported; the key is the 32 least significant octets, the identifier the 16 most significant.
template <typename IdT, typename KeyT>
Result<ExportSplit<IdT, KeyT>> split(ByteView exported) {
  static_assert(IdT::kSize + KeyT::kSize == kExportLength);
  if (exported.size() != kExportLength) return Error::usage("exported keying material must be 48 octets");
  M2MSEC_ASSIGN_OR_RETURN(IdT id, IdT::from(exported.first(IdT::kSize)));
  M2MSEC_ASSIGN_OR_RETURN(KeyT key, KeyT::from(exported.subspan(IdT::kSize)));
  return ExportSplit<IdT, KeyT>{id, std::move(key)};
}

}  // namespace

Result<ExportSplit<RelativeKeId, EnrolmentKey>> split_bootstrap_export(ByteView exported) {
  return split<RelativeKeId, EnrolmentKey>(exported);
}
Result<ExportSplit<KcId, ConnectionKey>> split_connection_export(ByteView exported) {
  return split<KcId, ConnectionKey>(exported);
}
Result<ExportSplit<PairwiseE2EKeyId, PairwiseE2EKey>> split_escertke_export(ByteView exported) {
  return split<PairwiseE2EKeyId, PairwiseE2EKey>(exported);
}

}  // namespace m2msec::keys
