#include "accelerator/detail/key_buffer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace accelerator::detail {
namespace {

TEST(KeyBuffer, JoinsPrefixAndRestWithAColon) {
  KeyBuffer key;
  key.assign("user", "42");
  EXPECT_EQ(key.view(), "user:42");
}

TEST(KeyBuffer, KeysAtAndPastTheInlineSizeReadBackWhole) {
  // The last inline size, the first spilled one and a long one.
  for (std::size_t size :
       {std::size_t{KeyBuffer::kInlineBytes}, std::size_t{KeyBuffer::kInlineBytes} + 1, std::size_t{300}}) {
    const std::string rest(size - 2, 'k');  // "a" + ':' + rest
    KeyBuffer key;
    key.assign("a", rest);
    EXPECT_EQ(key.view(), "a:" + rest) << size;
    EXPECT_EQ(key.view().size(), size);
  }
}

TEST(KeyBuffer, ReassigningAShortKeyAfterALongOneForgetsTheLongOne) {
  KeyBuffer key;
  key.assign("area", std::string(200, 'x'));
  key.assign("area", "7");
  EXPECT_EQ(key.view(), "area:7");
  EXPECT_EQ(key.string(), "area:7");
}

TEST(KeyBuffer, StringHoldsTheKeyAndMayBeMovedFrom) {
  KeyBuffer key;
  key.assign("orders", "2026-12-03");
  std::string& owned = key.string();
  EXPECT_EQ(owned, "orders:2026-12-03");
  EXPECT_EQ(key.view(), "orders:2026-12-03") << "the view follows the string once made";
  EXPECT_EQ(&key.string(), &owned) << "a second call returns the same string";
  std::string taken = std::move(owned);
  EXPECT_EQ(taken, "orders:2026-12-03");
}

TEST(KeyBuffer, JoinKeyWritesTheSameBytesIntoAStringAsIntoABuffer) {
  const std::string long_rest(100, 'z');
  for (const std::string& rest : {std::string("1"), long_rest}) {
    KeyBuffer buffer;
    join_key(buffer, "ns", rest);
    std::string text = "left over";
    join_key(text, "ns", rest);
    EXPECT_EQ(buffer.view(), text);
    EXPECT_EQ(text, "ns:" + rest);
  }
}

}  // namespace
}  // namespace accelerator::detail
