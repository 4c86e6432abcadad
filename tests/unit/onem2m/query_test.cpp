// The query parameters both bindings share (TS-0009 V3.9.1 §6.2.2.2 Table 6.2.2.2-1, TS-0008 V3.9.0 §6.2.2.3):
// what a field means for a request primitive, the 0..1 and list rules, and the fields of a primitive.
#include "m2msec/onem2m/query.h"

#include <gtest/gtest.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/text.h"

namespace m2msec::onem2m {
namespace {

constexpr std::string_view kHttp[] = {"rcn", "fu", "lim", "lvl", "ty", "lbl", "rids", "tids"};
constexpr std::string_view kCoap[] = {"rcn", "fu", "lim", "lvl", "ty", "lbl", "rids", "tids", "tkns", "op"};

using Values = std::vector<std::string>;

// Reads the fields into a fresh primitive; the error's detail, or "" when every field was taken.
std::string refusal(std::span<const std::string_view> names, const std::vector<std::string_view>& fields) {
  Request primitive;
  QueryReader reader(names);
  for (const std::string_view field : fields) {
    if (const Result<void> read = reader.read_field(field, primitive); !read) {
      EXPECT_EQ(read.error().category(), Category::kUsage);
      EXPECT_EQ(read.error().rsc(), Rsc::kBadRequest);
      return read.error().detail();
    }
  }
  return "";
}

//= TS-0009 V3.9.1 §6.2.2.2
//= type=test
TEST(Query, FieldsBecomePrimitiveParameters) {
  Request primitive;
  QueryReader reader(kHttp);
  // The list example of §6.2.2.2 (ty=2+3+4), and a list field given again: its values add up.
  for (const std::string_view field : {"rcn=4", "fu=1", "ty=2+3+4", "ty=5", "lbl=a", "lbl=b+c", "lim=0",
                                       "lvl=4294967295", "rids=r1@x+r2@x", "tids=t1"}) {
    const Result<void> read = reader.read_field(field, primitive);
    ASSERT_TRUE(read) << field << ": " << read.error().to_string();
  }
  EXPECT_EQ(primitive.rcn, 4);
  ASSERT_TRUE(primitive.fc);
  EXPECT_EQ(primitive.fc->fu, 1);
  EXPECT_EQ(primitive.fc->ty, (std::vector<std::uint32_t>{2, 3, 4, 5}));
  EXPECT_EQ(primitive.fc->lbl, (Values{"a", "b", "c"}));
  EXPECT_EQ(primitive.fc->lim, 0u);
  EXPECT_EQ(primitive.fc->lvl, 4294967295u);
  EXPECT_EQ(primitive.rids, (Values{"r1@x", "r2@x"}));
  EXPECT_EQ(primitive.tids, (Values{"t1"}));
  EXPECT_TRUE(primitive.tkns.empty());
  EXPECT_FALSE(reader.op());
  // Nothing else was touched.
  EXPECT_EQ(primitive.op, Operation::kRetrieve);
  EXPECT_TRUE(primitive.to.empty());
  EXPECT_FALSE(primitive.ty);

  // rcn alone makes no filter criteria.
  Request rcn_only;
  ASSERT_TRUE(QueryReader(kHttp).read_field("rcn=0", rcn_only));
  EXPECT_EQ(rcn_only.rcn, 0);
  EXPECT_FALSE(rcn_only.fc);

  // A filter criteria element alone keeps the default usage (conditional retrieval, 2).
  Request lbl_only;
  ASSERT_TRUE(QueryReader(kHttp).read("lbl", Values{"x"}, lbl_only));
  ASSERT_TRUE(lbl_only.fc);
  EXPECT_EQ(lbl_only.fc->fu, 2);
}

//= TS-0008 V3.9.0 §6.2.2.3
//= type=test
TEST(Query, TokensAndOperationOnlyWhereTheBindingTakesThem) {
  Request primitive;
  QueryReader reader(kCoap);
  ASSERT_TRUE(reader.read_field("tkns=aa.bb.cc+dd-_.ee", primitive));
  ASSERT_TRUE(reader.read("tkns", Values{"ff.gg.hh.ii.jj"}, primitive));
  ASSERT_TRUE(reader.read_field("op=5", primitive));
  EXPECT_EQ(primitive.tkns, (Values{"aa.bb.cc", "dd-_.ee", "ff.gg.hh.ii.jj"}));
  EXPECT_EQ(reader.op(), Operation::kNotify);
  EXPECT_EQ(primitive.op, Operation::kRetrieve);  // the binding compares; the reader does not overwrite

  EXPECT_NE(refusal(kCoap, {"tkns=not a token"}).find("compact"), std::string::npos);
  EXPECT_NE(refusal(kCoap, {"tkns=a.b+c=d"}).find("compact"), std::string::npos);
  EXPECT_NE(refusal(kCoap, {"op=0"}).find("from 1 to 5"), std::string::npos);
  EXPECT_NE(refusal(kCoap, {"op=6"}).find("from 1 to 5"), std::string::npos);
  EXPECT_NE(refusal(kCoap, {"op=1", "op=1"}).find("once"), std::string::npos);
  // HTTP carries tokens in Authorization and the operation in the method: there they are unknown fields.
  EXPECT_EQ(refusal(kHttp, {"tkns=aa.bb.cc"}), "the field 'tkns' is not supported");
  EXPECT_EQ(refusal(kHttp, {"op=2"}), "the field 'op' is not supported");
}

//= TS-0009 V3.9.1 §6.2.2.2
//= type=test
TEST(Query, RefusesWhatTheTableDoesNotAllow) {
  // A 0..1 field: one value, once.
  for (const std::string_view name : {"rcn", "fu", "lim", "lvl"}) {
    const std::string field = concat({name, "=1"});
    const std::string once = concat({"'", name, "' takes one value, once"});
    EXPECT_EQ(refusal(kHttp, {field, field}), once);
    EXPECT_EQ(refusal(kHttp, {concat({field, "+2"})}), once);
  }
  // The ranges.
  EXPECT_EQ(refusal(kHttp, {"rcn=255"}), "");
  EXPECT_EQ(refusal(kHttp, {"rcn=256"}), "'rcn' must be a decimal number from 0 to 255");
  EXPECT_EQ(refusal(kHttp, {"fu=0"}), "'fu' must be a decimal number from 1 to 255");
  EXPECT_EQ(refusal(kHttp, {"lim=4294967296"}), "'lim' must be a decimal number from 0 to 4294967295");
  EXPECT_EQ(refusal(kHttp, {"lvl=-1"}), "'lvl' must be a decimal number from 0 to 4294967295");
  EXPECT_EQ(refusal(kHttp, {"ty=3+0"}), "'ty' must be a decimal number from 1 to 4294967295");
  for (const std::string_view field : {"rcn=01", "rcn=1a", "rcn=x", "lvl=1.5", "ty=cnt", "lim= 1"}) {
    EXPECT_NE(refusal(kHttp, {field}).find("decimal number"), std::string::npos) << field;
  }
  // Names: only the given ones, case-sensitive; the other fields of the table and attribute names are refused.
  for (const std::string_view field : {"RCN=1", "rt=1", "drt=2", "ltids=x", "atrl=ri", "cr=Sam", "x=1"}) {
    EXPECT_NE(refusal(kHttp, {field}).find("is not supported"), std::string::npos) << field;
  }
  // Malformed fields and values.
  EXPECT_EQ(refusal(kHttp, {"rcn"}), "a field without a name or a value");
  EXPECT_EQ(refusal(kHttp, {"=1"}), "a field without a name or a value");
  EXPECT_EQ(refusal(kHttp, {""}), "a field without a name or a value");
  EXPECT_EQ(refusal(kHttp, {"rcn="}), "an empty value of 'rcn'");
  EXPECT_EQ(refusal(kHttp, {"ty=2++3"}), "an empty value of 'ty'");
  EXPECT_EQ(refusal(kHttp, {"rids=r1+"}), "an empty value of 'rids'");
  EXPECT_EQ(refusal(kHttp, {std::string_view("lbl=a\0b", 7)}), "a NUL in a value of 'lbl'");
  Request primitive;
  EXPECT_FALSE(QueryReader(kHttp).read("lbl", Values{}, primitive));
  // '+' is the list separator, so a signed number is a list with an empty value first.
  EXPECT_EQ(refusal(kHttp, {"rcn=+1"}), "an empty value of 'rcn'");
}

TEST(Query, DecodesEachValueWithTheBindingsDecoder) {
  // A stand-in decoder: "%2B" is '+', any other '%' is malformed.
  const QueryReader::Decode decode = [](std::string_view text) -> std::optional<std::string> {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '%') {
        out += text[i];
      } else if (text.substr(i, 3) == "%2B") {
        out += '+';
        i += 2;
      } else {
        return std::nullopt;
      }
    }
    return out;
  };
  Request primitive;
  QueryReader reader(kHttp);
  ASSERT_TRUE(reader.read_field("lbl=a%2Bb+c", primitive, decode));
  EXPECT_EQ(primitive.fc->lbl, (Values{"a+b", "c"}));  // split before decoding
  const Result<void> bad = reader.read_field("lbl=a%zz", primitive, decode);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().detail(), "a badly encoded value of 'lbl'");
  // Without a decoder the text is taken as it is; '=' after the first one belongs to the value.
  ASSERT_TRUE(reader.read_field("lbl=%zz=&", primitive));
  EXPECT_EQ(primitive.fc->lbl.back(), "%zz=&");
}

//= TS-0009 V3.9.1 §6.2.2.2 (Table 6.2.2.2-1)
//= type=test
TEST(Query, FieldsOfAPrimitiveInTableOrder) {
  Request none;
  EXPECT_TRUE(query_fields(none, kCoap).empty());

  Request request;
  request.op = Operation::kNotify;  // never written as op
  request.rcn = 1;
  request.fc = FilterCriteria{};
  request.fc->fu = 1;
  request.fc->ty = {2, 3};
  request.fc->lbl = {"l 1", "l+2"};
  request.fc->lim = 0;
  request.fc->lvl = 7;
  request.rids = {"r1"};
  request.tids = {"t1", "t2"};
  request.tkns = {"a.b.c"};
  // Table 6.2.2.2-1 lists rcn ... lbl, ty, lim ... fu ... lvl ... rids, tids.
  const std::vector<QueryField> http = {{"rcn", {"1"}},    {"lbl", {"l 1", "l+2"}}, {"ty", {"2", "3"}},
                                        {"lim", {"0"}},    {"fu", {"1"}},           {"lvl", {"7"}},
                                        {"rids", {"r1"}},  {"tids", {"t1", "t2"}}};
  EXPECT_EQ(query_fields(request, kHttp), http);
  std::vector<QueryField> coap = http;
  coap.push_back({"tkns", {"a.b.c"}});
  EXPECT_EQ(query_fields(request, kCoap), coap);

  // Filter criteria with nothing but the default usage still say so.
  Request default_fc;
  default_fc.fc = FilterCriteria{};
  EXPECT_EQ(query_fields(default_fc, kHttp), (std::vector<QueryField>{{"fu", {"2"}}}));

  // What query_fields writes, QueryReader reads back to the same parameters.
  Request back;
  QueryReader reader(kCoap);
  for (const QueryField& field : query_fields(request, kCoap)) {
    ASSERT_TRUE(reader.read(field.name, field.values, back)) << field.name;
  }
  EXPECT_EQ(back.rcn, request.rcn);
  ASSERT_TRUE(back.fc);
  EXPECT_EQ(back.fc->fu, 1);
  EXPECT_EQ(back.fc->ty, request.fc->ty);
  EXPECT_EQ(back.fc->lbl, request.fc->lbl);
  EXPECT_EQ(back.fc->lim, request.fc->lim);
  EXPECT_EQ(back.fc->lvl, request.fc->lvl);
  EXPECT_EQ(back.rids, request.rids);
  EXPECT_EQ(back.tids, request.tids);
  EXPECT_EQ(back.tkns, request.tkns);
  EXPECT_FALSE(reader.op());
}

TEST(Query, CompactJoseAlphabet) {
  // RFC 7515 §7.1 / RFC 7516 §7.1: base64url (RFC 4648 §5: A-Z a-z 0-9 - _) parts joined by '.'.
  EXPECT_TRUE(is_compact_jose("eyJ0eXAiOiJK.eyJpc3MiOiJqb2UiLA0KIC.dBjftJeZ4CVP"));
  EXPECT_TRUE(is_compact_jose("a-_.b.c"));
  for (const std::string_view token : {"", "a.b.c=", "a+b.c", "a/b.c", "a b.c", "Bearer a.b.c", "a.b,c"}) {
    EXPECT_FALSE(is_compact_jose(token)) << token;
  }
}

}  // namespace
}  // namespace m2msec::onem2m
