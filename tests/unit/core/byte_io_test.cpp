#include <gtest/gtest.h>

#include "m2msec/core/byte_io.h"

namespace m2msec {
namespace {

TEST(ByteIo, RoundTripsBigEndianIntegersAndVectors) {
  ByteWriter w;
  w.write_u8(0x01);
  w.write_u16(0x0203);
  ASSERT_TRUE(w.write_u24(0x040506));
  w.write_u32(0x0708090a);
  w.write_u64(0x0b0c0d0e0f101112ull);
  ASSERT_TRUE(w.write_prefixed_u8(Bytes{0xaa, 0xbb}));
  ASSERT_TRUE(w.write_prefixed_u16(Bytes{0xcc}));
  const Bytes expected{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
                       0x0f, 0x10, 0x11, 0x12, 0x02, 0xaa, 0xbb, 0x00, 0x01, 0xcc};
  EXPECT_EQ(w.bytes(), expected);

  ByteReader r(w.bytes());
  EXPECT_EQ(*r.read_u8(), 0x01);
  EXPECT_EQ(*r.read_u16(), 0x0203);
  EXPECT_EQ(*r.read_u24(), 0x040506u);
  EXPECT_EQ(*r.read_u32(), 0x0708090au);
  EXPECT_EQ(*r.read_u64(), 0x0b0c0d0e0f101112ull);
  auto v8 = r.read_prefixed_u8();
  ASSERT_TRUE(v8);
  EXPECT_EQ(Bytes(v8->begin(), v8->end()), (Bytes{0xaa, 0xbb}));
  auto v16 = r.read_prefixed_u16();
  ASSERT_TRUE(v16);
  EXPECT_EQ(Bytes(v16->begin(), v16->end()), Bytes{0xcc});
  EXPECT_TRUE(r.expect_end());
}

TEST(ByteIo, RefusesTruncationWithoutMovingTheCursor) {
  const Bytes data{0x00, 0x05, 0x01};
  ByteReader r(data);
  auto v = r.read_prefixed_u16();  // claims 5 octets, has 1
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().category(), Category::kProtocol);
  EXPECT_EQ(v.error().rsc(), Rsc::kBadRequest);
  EXPECT_FALSE(r.read_u32());
  EXPECT_FALSE(r.read_bytes(2));
}

TEST(ByteIo, ExpectEndRefusesTrailingOctets) {
  const Bytes data{0x01, 0x02};
  ByteReader r(data);
  ASSERT_TRUE(r.read_u8());
  EXPECT_FALSE(r.expect_end());
  ASSERT_TRUE(r.read_u8());
  EXPECT_TRUE(r.expect_end());
  EXPECT_FALSE(r.read_u8());
}

TEST(ByteIo, WriterRefusesOversizedVectorsAndValues) {
  ByteWriter w;
  EXPECT_FALSE(w.write_prefixed_u8(Bytes(256)));
  EXPECT_FALSE(w.write_prefixed_u16(Bytes(65536)));
  EXPECT_FALSE(w.write_u24(0x1000000));
  EXPECT_TRUE(w.bytes().empty());
}

}  // namespace
}  // namespace m2msec
