// The resource tree of the hosting CSE: one Resource per resource, linked to its parent and children, with the
// parsed representation kept next to it (the read path never parses JSON) and, for an <accessControlPolicy>, its
// compiled Policy. Private to the cse module; the Service's mutex guards all of it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "m2msec/authz/acp.h"
#include "m2msec/json/json.h"
#include "types.h"

namespace m2msec::cse {

using Seconds = std::chrono::sys_seconds;

struct Resource {
  std::string ri;
  std::string pi;    // empty for <CSEBase>
  std::string rn;
  std::string path;  // structured CSE-relative ID: "cse-in/ae1/cnt1"
  const TypeInfo* info = nullptr;
  std::uint64_t seq = 0;  // creation order (children are kept in it: oldest/latest)
  json::Object attrs;     // the representation's attributes, short names
  std::string credential;  // <AE>: the credential of the association it registered with
  Resource* parent = nullptr;
  std::vector<Resource*> children;
  std::unordered_map<std::string, Resource*> by_rn;
  std::optional<Seconds> expires;
  std::shared_ptr<const authz::Policy> policy;  // <accessControlPolicy>: this version compiled

  std::uint32_t type() const { return info->type; }
  // A string attribute ("" when absent), a list attribute (empty when absent).
  std::string text(std::string_view name) const;
  std::vector<std::string> list(std::string_view name) const;
  // Who created it: the AE itself for an <AE>, else "cr" (empty for <CSEBase>).
  std::string creator() const;
  // {"<root>": attrs}
  json::Value representation() const;
};

}  // namespace m2msec::cse
