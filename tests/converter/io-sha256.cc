// SHA-256 against the FIPS 180-4 / NIST example vectors, incremental feeding across
// block boundaries, and the streaming file reader.
#include <doctest/doctest.h>

#include <string>

#include "io-test-util.h"
#include "io/sha256.h"

namespace heed::conv {
namespace {

std::string hex_of(const std::string& s) { return sha256_hex(s.data(), s.size()); }

TEST_SUITE("fast") {

TEST_CASE("sha256: NIST example vectors") {
  CHECK(sha256_hex(nullptr, 0) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex_of("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 448 bits: the padding no longer fits in the first block.
  CHECK(hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(hex_of("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu") ==
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  CHECK(hex_of(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: incremental updates equal one-shot at every split") {
  std::string msg;
  for (int i = 0; i < 200; ++i) msg.push_back(static_cast<char>(i * 37 + 11));
  for (size_t len : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 200}) {
    const std::string whole = sha256_hex(msg.data(), len);
    for (size_t split = 0; split <= len; split += 7) {
      Sha256 h;
      h.update(msg.data(), split);
      h.update(msg.data() + split, len - split);
      CHECK(sha256_digest_hex(h.finish()) == whole);
    }
    // Byte at a time, then the object is reusable after finish().
    Sha256 h;
    for (size_t i = 0; i < len; ++i) h.update(&msg[i], 1);
    CHECK(sha256_digest_hex(h.finish()) == whole);
    h.update("abc", 3);
    CHECK(sha256_digest_hex(h.finish()) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }
}

TEST_CASE("sha256: files are streamed in 1 MiB chunks") {
  testing::TempDir dir;
  // 3 MiB + 7 bytes: crosses chunk boundaries with a partial last chunk.
  std::string big((size_t{3} << 20) + 7, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) >> 3);
  testing::write_file(dir.file("big.bin"), big);
  testing::write_file(dir.file("empty.bin"), "");
  testing::write_file(dir.file("million-a.bin"), std::string(1000000, 'a'));

  std::string hex;
  REQUIRE(sha256_file_hex(dir.file("big.bin"), &hex).ok());
  CHECK(hex == hex_of(big));
  REQUIRE(sha256_file_hex(dir.file("empty.bin"), &hex).ok());
  CHECK(hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  REQUIRE(sha256_file_hex(dir.file("million-a.bin"), &hex).ok());
  CHECK(hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

  hex = "unchanged";
  Status s = sha256_file_hex(dir.file("missing.bin"), &hex);
  CHECK(s.code() == HEED_ERROR_IO);
  CHECK(std::string(s.message()).find("missing.bin") != std::string::npos);
  CHECK(hex == "unchanged");
  s = sha256_file_hex(dir.path(), &hex);  // a directory
  CHECK(s.code() == HEED_ERROR_IO);
  CHECK(hex == "unchanged");
}

}  // TEST_SUITE("fast")

}  // namespace
}  // namespace heed::conv
