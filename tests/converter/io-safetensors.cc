// safetensors reader: valid files and shards, exact f16/bf16 conversion, and every
// malformed-header class of docs/SECURITY.md H1. All files are generated here.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "io-test-util.h"
#include "io/safetensors.h"

namespace heed::conv {
namespace {

using testing::TempDir;
using testing::write_file;

// u64 little-endian header length | header | data.
std::string st_bytes(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(n >> (8 * i));
  return out + header + data;
}

std::string f32_bytes(const std::vector<float>& v) {
  std::string s(v.size() * 4, '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t b;
    std::memcpy(&b, &v[i], 4);
    for (int k = 0; k < 4; ++k) s[4 * i + k] = static_cast<char>(b >> (8 * k));
  }
  return s;
}

std::string u16_bytes(const std::vector<uint16_t>& v) {
  std::string s(v.size() * 2, '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    s[2 * i] = static_cast<char>(v[i] & 0xFF);
    s[2 * i + 1] = static_cast<char>(v[i] >> 8);
  }
  return s;
}

uint32_t float_bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// Writes `bytes` as dir/name and returns the open_file status message ("ok" on success).
std::string open_msg(const TempDir& dir, const std::string& name, const std::string& bytes,
                     heed_status want = HEED_ERROR_INVALID_ARGUMENT) {
  write_file(dir.file(name), bytes);
  SafeTensors st;
  const Status s = st.open_file(dir.file(name));
  if (!s.ok()) {
    CHECK(s.code() == want);
    CHECK(st.tensors().empty());
    CHECK(st.files().empty());
  }
  return s.message();
}

// Header with one tensor entry given as raw JSON.
std::string one(const std::string& entry) { return "{\"w\": " + entry + "}"; }

TEST_SUITE("fast") {

TEST_CASE("safetensors: a valid file with F32, F16, BF16, I64, scalar and empty tensors") {
  TempDir dir;
  // Python's writer pads the header with spaces; the data section starts unaligned here.
  const std::string header =
      R"({"__metadata__": {"format": "pt"},)"
      R"( "a.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},)"
      R"( "b": {"dtype": "F16", "shape": [4], "data_offsets": [24, 32]},)"
      R"( "c": {"dtype": "BF16", "shape": [2], "data_offsets": [32, 36]},)"
      R"( "ids": {"dtype": "I64", "shape": [1], "data_offsets": [36, 44]},)"
      R"( "s": {"dtype": "F32", "shape": [], "data_offsets": [44, 48]},)"
      R"( "empty": {"dtype": "F32", "shape": [0, 5], "data_offsets": [48, 48]}}   )";
  std::string data = f32_bytes({1, 2, 3, 4, 5, -6.5f}) + u16_bytes({0x3C00, 0xC000, 0x3555, 0x7BFF}) +
                     u16_bytes({0x3F80, 0xC0A0}) + std::string("\x07\0\0\0\0\0\0\0", 8) +
                     f32_bytes({0.25f});
  write_file(dir.file("model.safetensors"), st_bytes(header, data));

  SafeTensors st;
  REQUIRE(st.open_file(dir.file("model.safetensors")).ok());
  REQUIRE(st.files().size() == 1);
  CHECK(st.files()[0] == dir.file("model.safetensors"));
  REQUIRE(st.tensors().size() == 6);  // __metadata__ is not a tensor
  CHECK(st.tensors()[0].name == "a.weight");  // file order
  CHECK(st.tensors()[5].name == "empty");

  const SafeTensorInfo* a = st.find("a.weight");
  REQUIRE(a != nullptr);
  CHECK(a->dtype == "F32");
  CHECK(a->shape == std::vector<int64_t>{2, 3});
  CHECK(a->begin == 0);
  CHECK(a->end == 24);
  CHECK(a->file == 0);
  CHECK(SafeTensors::element_count(*a) == 6);
  CHECK(st.find("nope") == nullptr);
  CHECK(st.find("__metadata__") == nullptr);

  std::vector<float> v;
  REQUIRE(st.read_f32(*a, &v).ok());
  CHECK(v == std::vector<float>{1, 2, 3, 4, 5, -6.5f});
  REQUIRE(st.read_f32(*st.find("b"), &v).ok());
  CHECK(v == std::vector<float>{1.0f, -2.0f, 0.333251953125f, 65504.0f});
  REQUIRE(st.read_f32(*st.find("c"), &v).ok());
  CHECK(v == std::vector<float>{1.0f, -5.0f});
  REQUIRE(st.read_f32(*st.find("s"), &v).ok());
  CHECK(v == std::vector<float>{0.25f});
  CHECK(SafeTensors::element_count(*st.find("s")) == 1);
  REQUIRE(st.read_f32(*st.find("empty"), &v).ok());
  CHECK(v.empty());

  const Status s = st.read_f32(*st.find("ids"), &v);
  CHECK(s.code() == HEED_ERROR_UNSUPPORTED);
  CHECK(std::string(s.message()) ==
        "model.safetensors: tensor 'ids': dtype I64 cannot be read as float (need F32, F16 or BF16)");
  const uint8_t* raw = nullptr;
  size_t raw_size = 0;
  REQUIRE(st.raw_bytes(*st.find("ids"), &raw, &raw_size).ok());
  REQUIRE(raw_size == 8);
  CHECK(raw[0] == 7);

  // A SafeTensorInfo that does not belong to this object is rejected, not trusted.
  SafeTensorInfo forged = *a;
  forged.file = 3;
  CHECK(st.read_f32(forged, &v).code() == HEED_ERROR_INVALID_ARGUMENT);
  forged = *a;
  forged.end = 1 << 20;
  CHECK(st.read_f32(forged, &v).code() == HEED_ERROR_INVALID_ARGUMENT);
  forged = *a;
  forged.shape = {100};
  CHECK(st.read_f32(forged, &v).code() == HEED_ERROR_INVALID_ARGUMENT);

  // Moving keeps the mapping alive.
  SafeTensors moved = std::move(st);
  REQUIRE(moved.read_f32(*moved.find("a.weight"), &v).ok());
  CHECK(v[5] == -6.5f);
}

TEST_CASE("safetensors: f16 -> f32 is exact for all 65536 bit patterns") {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float got = f16_bits_to_f32(static_cast<uint16_t>(h));
    const uint32_t sign = h >> 15, exp = (h >> 10) & 31, mant = h & 1023;
    if (exp == 31) {
      // Inf / NaN: exponent all ones, mantissa shifted, payload and sign kept.
      CHECK(float_bits(got) == ((sign << 31) | 0x7F800000u | (mant << 13)));
      continue;
    }
    // Independent reference: value = mant * 2^-24 (subnormal) or (1024 + mant) * 2^(exp-25).
    const double mag = exp == 0 ? std::ldexp(static_cast<double>(mant), -24)
                                : std::ldexp(static_cast<double>(1024 + mant), static_cast<int>(exp) - 25);
    const float want = static_cast<float>(sign ? -mag : mag);
    INFO("h = ", h);
    CHECK(float_bits(got) == float_bits(want));
  }
}

TEST_CASE("safetensors: F16/BF16 special values in a file, checked bit for bit") {
  // Expected f32 bit patterns (also what numpy's float16 -> float32 gives).
  const std::vector<uint16_t> f16 = {0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x3C00,
                                     0xC000, 0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0x7C01, 0x3555};
  const std::vector<uint32_t> f16_want = {0x00000000, 0x80000000, 0x33800000, 0xB3800000, 0x387FC000,
                                          0x38800000, 0x3F800000, 0xC0000000, 0x477FE000, 0x7F800000,
                                          0xFF800000, 0x7FC00000, 0x7F802000, 0x3EAAA000};
  const std::vector<uint16_t> bf16 = {0x0000, 0x8000, 0x0001, 0x007F, 0x0080, 0x3F80, 0xC0A0,
                                      0x7F7F, 0x7F80, 0xFF80, 0x7FC0, 0xFFC1, 0x3EAB};
  TempDir dir;
  const std::string header =
      "{\"h\": {\"dtype\": \"F16\", \"shape\": [14], \"data_offsets\": [0, 28]},"
      " \"b\": {\"dtype\": \"BF16\", \"shape\": [13], \"data_offsets\": [28, 54]}}";
  write_file(dir.file("x.safetensors"), st_bytes(header, u16_bytes(f16) + u16_bytes(bf16)));
  SafeTensors st;
  REQUIRE(st.open_file(dir.file("x.safetensors")).ok());
  std::vector<float> v;
  REQUIRE(st.read_f32(*st.find("h"), &v).ok());
  REQUIRE(v.size() == f16.size());
  for (size_t i = 0; i < v.size(); ++i) {
    INFO("f16 bits ", f16[i]);
    CHECK(float_bits(v[i]) == f16_want[i]);
  }
  REQUIRE(st.read_f32(*st.find("b"), &v).ok());
  REQUIRE(v.size() == bf16.size());
  for (size_t i = 0; i < v.size(); ++i) CHECK(float_bits(v[i]) == uint32_t{bf16[i]} << 16);
  CHECK(v[5] == 1.0f);
  CHECK(v[6] == -5.0f);
  CHECK(std::isinf(v[8]));
  CHECK(std::isnan(v[11]));
  CHECK(std::fpclassify(v[2]) == FP_SUBNORMAL);
}

TEST_CASE("safetensors: short files and bad header lengths") {
  TempDir dir;
  CHECK(open_msg(dir, "e.safetensors", "") ==
        "e.safetensors: file is 0 bytes, too short for the 8-byte header length");
  CHECK(open_msg(dir, "s.safetensors", std::string(7, '\0')) ==
        "s.safetensors: file is 7 bytes, too short for the 8-byte header length");
  // Length 0: an empty header is not JSON.
  CHECK(std::string(open_msg(dir, "z.safetensors", std::string(8, '\0'))).find("expected a value") !=
        std::string::npos);

  std::string big = st_bytes("{}", "");
  big[0] = 0x10;  // header length 16, file has only 2 bytes after the length field
  CHECK(open_msg(dir, "l.safetensors", big) ==
        "l.safetensors: header length 16 exceeds the 2 bytes after the length field");
  std::string huge = st_bytes("{}", "");
  for (int i = 0; i < 8; ++i) huge[i] = '\xFF';  // 2^64 - 1: no wrap-around in 8 + N
  CHECK(open_msg(dir, "h.safetensors", huge) ==
        "h.safetensors: header length 18446744073709551615 exceeds the 104857600-byte cap");
  std::string cap = st_bytes("{}", "");
  cap[0] = 0x01;
  cap[2] = 0x40;
  cap[3] = 0x06;  // 0x06400001 = 100 MiB + 1
  CHECK(open_msg(dir, "c.safetensors", cap) ==
        "c.safetensors: header length 104857601 exceeds the 104857600-byte cap");
}

TEST_CASE("safetensors: header must be a JSON object") {
  TempDir dir;
  CHECK(open_msg(dir, "j.safetensors", st_bytes("{\"w\": {\"dtype\": \"F32\",", "")) ==
        "j.safetensors header:1:23: expected '\"' (member name), found end of input");
  CHECK(open_msg(dir, "a.safetensors", st_bytes("[]", "")) == "a.safetensors: header is not a JSON object");
  CHECK(open_msg(dir, "n.safetensors", st_bytes("null", "")) == "n.safetensors: header is not a JSON object");
  CHECK(open_msg(dir, "u.safetensors", st_bytes("{\"w\xFF\": 1}", "")).find("invalid UTF-8") !=
        std::string::npos);
  CHECK(open_msg(dir, "m.safetensors", st_bytes("{\"__metadata__\": 5}", "")) ==
        "m.safetensors: '__metadata__' must be a JSON object");
  // A header of only metadata (or nothing) is a valid file with no tensors.
  CHECK(open_msg(dir, "ok.safetensors", st_bytes("{\"__metadata__\": {\"k\": \"v\"}}", "")) == "ok");
  CHECK(open_msg(dir, "ok2.safetensors", st_bytes("{}", "")) == "ok");
}

TEST_CASE("safetensors: entry fields must be present and well typed") {
  TempDir dir;
  auto msg = [&](const std::string& entry, const std::string& data = std::string(16, '\0')) {
    return open_msg(dir, "f.safetensors", st_bytes(one(entry), data));
  };
  const std::string ok_tail = R"(, "shape": [4], "data_offsets": [0, 16]})";
  CHECK(msg("5") == "f.safetensors: tensor 'w': entry is not a JSON object");
  CHECK(msg(R"({"shape": [4], "data_offsets": [0, 16]})") == "f.safetensors: tensor 'w': missing 'dtype'");
  CHECK(msg(R"({"dtype": 4)" + ok_tail) == "f.safetensors: tensor 'w': 'dtype' must be a string");
  CHECK(msg(R"({"dtype": "F31")" + ok_tail) == "f.safetensors: tensor 'w': unknown dtype 'F31'");
  CHECK(msg(R"({"dtype": "f32")" + ok_tail) == "f.safetensors: tensor 'w': unknown dtype 'f32'");
  CHECK(msg(R"({"dtype": "F4")" + ok_tail) == "f.safetensors: tensor 'w': unknown dtype 'F4'");
  CHECK(msg(R"({"dtype": "F32", "data_offsets": [0, 16]})") == "f.safetensors: tensor 'w': missing 'shape'");
  CHECK(msg(R"({"dtype": "F32", "shape": 4, "data_offsets": [0, 16]})") ==
        "f.safetensors: tensor 'w': 'shape' must be an array");
  CHECK(msg(R"({"dtype": "F32", "shape": [2, -2], "data_offsets": [0, 16]})") ==
        "f.safetensors: tensor 'w': shape[1] must be a non-negative integer");
  CHECK(msg(R"({"dtype": "F32", "shape": [1.5], "data_offsets": [0, 16]})") ==
        "f.safetensors: tensor 'w': shape[0] must be a non-negative integer");
  CHECK(msg(R"({"dtype": "F32", "shape": ["4"], "data_offsets": [0, 16]})") ==
        "f.safetensors: tensor 'w': shape[0] must be a non-negative integer");
  CHECK(msg(R"({"dtype": "F32", "shape": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1], "data_offsets": [0, 4]})") ==
        "f.safetensors: tensor 'w': rank 17 exceeds the cap of 16");
  CHECK(msg(R"({"dtype": "F32", "shape": [4]})") == "f.safetensors: tensor 'w': missing 'data_offsets'");
  const std::string bad_offsets =
      "f.safetensors: tensor 'w': 'data_offsets' must be [begin, end] of non-negative integers";
  for (const char* offs : {"16", "[16]", "[0, 16, 32]", "[\"0\", 16]", "[-1, 16]", "[0.5, 16]",
                           "[0, 1e30]", "{}", "[0, null]"}) {
    INFO(offs);
    CHECK(msg(std::string(R"({"dtype": "F32", "shape": [4], "data_offsets": )") + offs + "}") == bad_offsets);
  }
  // Unknown extra keys are ignored.
  CHECK(msg(R"({"dtype": "F32", "shape": [4], "data_offsets": [0, 16], "extra": 1})") == "ok");
}

TEST_CASE("safetensors: counts, ranges and sizes use checked arithmetic") {
  TempDir dir;
  auto msg = [&](const std::string& entry, size_t data_size = 16) {
    return open_msg(dir, "g.safetensors", st_bytes(one(entry), std::string(data_size, '\0')));
  };
  CHECK(msg(R"({"dtype": "F32", "shape": [4294967296, 4294967296, 2], "data_offsets": [0, 16]})") ==
        "g.safetensors: tensor 'w': shape [4294967296, 4294967296, 2]: element count overflows 64 bits");
  CHECK(msg(R"({"dtype": "F32", "shape": [4611686018427387904], "data_offsets": [0, 16]})") ==
        "g.safetensors: tensor 'w': shape [4611686018427387904] of F32: byte count overflows 64 bits");
  CHECK(msg(R"({"dtype": "F32", "shape": [4], "data_offsets": [16, 0]})") ==
        "g.safetensors: tensor 'w': data_offsets [16, 0]: end before begin");
  CHECK(msg(R"({"dtype": "F32", "shape": [4], "data_offsets": [0, 16]})", 15) ==
        "g.safetensors: tensor 'w': data_offsets [0, 16] end beyond the 15-byte data section");
  CHECK(msg(R"({"dtype": "F32", "shape": [2], "data_offsets": [18446744073709551608, 9223372036854775807]})") ==
        "g.safetensors: tensor 'w': 'data_offsets' must be [begin, end] of non-negative integers");
  CHECK(msg(R"({"dtype": "F32", "shape": [2], "data_offsets": [9223372036854775800, 9223372036854775807]})") ==
        "g.safetensors: tensor 'w': data_offsets [9223372036854775800, 9223372036854775807] end beyond the "
        "16-byte data section");
  CHECK(msg(R"({"dtype": "F32", "shape": [3], "data_offsets": [0, 16]})") ==
        "g.safetensors: tensor 'w': data_offsets [0, 16] hold 16 bytes, shape [3] of F32 needs 12");
  CHECK(msg(R"({"dtype": "BF16", "shape": [0], "data_offsets": [0, 2]})") ==
        "g.safetensors: tensor 'w': data_offsets [0, 2] hold 2 bytes, shape [0] of BF16 needs 0");
  // The example from the design notes, verbatim.
  const std::string hdr =
      R"({"embeddings.word_embeddings.weight": {"dtype": "F32", "shape": [30522, 384], "data_offsets": [0, 100]}})";
  CHECK(open_msg(dir, "model.safetensors", st_bytes(hdr, std::string(100, '\0'))) ==
        "model.safetensors: tensor 'embeddings.word_embeddings.weight': data_offsets [0, 100] hold 100 "
        "bytes, shape [30522, 384] of F32 needs 46881792");
  // Zero-element tensors anywhere in range are fine.
  CHECK(msg(R"({"dtype": "F32", "shape": [0, 7], "data_offsets": [16, 16]})") == "ok");
}

TEST_CASE("safetensors: overlapping tensors and duplicate names") {
  TempDir dir;
  const std::string data(16, '\0');
  CHECK(open_msg(dir, "o.safetensors",
                 st_bytes(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                          R"( "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                          data)) ==
        "o.safetensors: tensor 'b': data_offsets [4, 12] overlap tensor 'a' [0, 8]");
  // Same range twice, listed in reverse file order.
  CHECK(open_msg(dir, "o2.safetensors",
                 st_bytes(R"({"b": {"dtype": "F32", "shape": [1], "data_offsets": [12, 16]},)"
                          R"( "a": {"dtype": "I32", "shape": [1], "data_offsets": [12, 16]}})",
                          data)) ==
        "o2.safetensors: tensor 'a': data_offsets [12, 16] overlap tensor 'b' [12, 16]");
  // One tensor inside another.
  CHECK(open_msg(dir, "o3.safetensors",
                 st_bytes(R"({"a": {"dtype": "U8", "shape": [16], "data_offsets": [0, 16]},)"
                          R"( "b": {"dtype": "U8", "shape": [2], "data_offsets": [5, 7]}})",
                          data)) ==
        "o3.safetensors: tensor 'b': data_offsets [5, 7] overlap tensor 'a' [0, 16]");
  // Adjacent ranges, holes, and empty tensors inside others are fine.
  CHECK(open_msg(dir, "ok.safetensors",
                 st_bytes(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                          R"( "b": {"dtype": "F32", "shape": [1], "data_offsets": [12, 16]},)"
                          R"( "c": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]},)"
                          R"( "e": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]}})",
                          data + std::string(4, '\0'))) == "ok");
  CHECK(open_msg(dir, "d.safetensors",
                 st_bytes(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                          R"( "a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})",
                          data)) == "d.safetensors: tensor 'a': duplicate name in the header");
}

TEST_CASE("safetensors: shards, duplicate names across files, open_dir") {
  TempDir dir;
  const std::string d8(8, '\0');
  write_file(dir.file("model-00002-of-00002.safetensors"),
             st_bytes(R"({"b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", f32_bytes({3, 4})));
  write_file(dir.file("model-00001-of-00002.safetensors"),
             st_bytes(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", f32_bytes({1, 2})));
  write_file(dir.file("model.safetensors.index.json"), "{}");
  write_file(dir.file(".hidden.safetensors"), "garbage");
  write_file(dir.file("notes.txt"), "x");

  SafeTensors st;
  REQUIRE(st.open_dir(dir.path()).ok());
  REQUIRE(st.files().size() == 2);
  CHECK(st.files()[0] == dir.file("model-00001-of-00002.safetensors"));
  CHECK(st.files()[1] == dir.file("model-00002-of-00002.safetensors"));
  REQUIRE(st.tensors().size() == 2);
  CHECK(st.find("a")->file == 0);
  CHECK(st.find("b")->file == 1);
  std::vector<float> v;
  REQUIRE(st.read_f32(*st.find("b"), &v).ok());
  CHECK(v == std::vector<float>{3, 4});

  // A third shard redefining 'a' is rejected and leaves the object unchanged.
  write_file(dir.file("extra.bin"),
             st_bytes(R"({"c": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                      R"( "a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})",
                      d8 + d8));
  const Status s = st.open_file(dir.file("extra.bin"));
  CHECK(s.code() == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(s.message()) == "extra.bin: tensor 'a': already defined in model-00001-of-00002.safetensors");
  CHECK(st.files().size() == 2);
  CHECK(st.tensors().size() == 2);
  CHECK(st.find("c") == nullptr);
  REQUIRE(st.read_f32(*st.find("a"), &v).ok());
  CHECK(v == std::vector<float>{1, 2});

  // Opening the same file twice duplicates every name.
  CHECK(std::string(st.open_file(dir.file("model-00001-of-00002.safetensors")).message()) ==
        "model-00001-of-00002.safetensors: tensor 'a': already defined in model-00001-of-00002.safetensors");

  TempDir empty;
  write_file(empty.file("readme.md"), "x");
  SafeTensors none;
  Status e = none.open_dir(empty.path());
  CHECK(e.code() == HEED_ERROR_IO);
  CHECK(std::string(e.message()) == empty.path() + ": no *.safetensors files");
  e = none.open_dir(empty.file("does-not-exist"));
  CHECK(e.code() == HEED_ERROR_IO);
  // A bad shard fails the whole directory with that shard's error.
  write_file(empty.file("bad.safetensors"), "1234");
  e = none.open_dir(empty.path());
  CHECK(std::string(e.message()) == "bad.safetensors: file is 4 bytes, too short for the 8-byte header length");
  // A directory under a shard's name is named, not skipped (I1).
  TempDir odd;
  REQUIRE(std::filesystem::create_directory(odd.file("model.safetensors")));
  e = none.open_dir(odd.path());
  CHECK(e.code() == HEED_ERROR_IO);
  CHECK(std::string(e.message()) == odd.file("model.safetensors") + ": not a regular file (a directory)");
}

TEST_CASE("safetensors: files that cannot be opened") {
  TempDir dir;
  SafeTensors st;
  Status s = st.open_file(dir.file("missing.safetensors"));
  CHECK(s.code() == HEED_ERROR_IO);
  CHECK(std::string(s.message()).find("missing.safetensors: cannot open") != std::string::npos);
  s = st.open_file(dir.path());
  CHECK(s.code() == HEED_ERROR_IO);
  CHECK(std::string(s.message()).find("not a regular file") != std::string::npos);
}

TEST_CASE("safetensors: every prefix and byte flip of a valid file is handled") {
  TempDir dir;
  const std::string header =
      R"({"a": {"dtype": "F16", "shape": [2, 2], "data_offsets": [0, 8]},)"
      R"( "b": {"dtype": "BF16", "shape": [3], "data_offsets": [8, 14]}})";
  const std::string file = st_bytes(header, std::string(14, '\x3C'));
  write_file(dir.file("v.safetensors"), file);
  {
    SafeTensors st;
    REQUIRE(st.open_file(dir.file("v.safetensors")).ok());
  }
  // Every proper prefix drops data the header points at, or cuts the header itself.
  for (size_t n = 0; n < file.size(); ++n) {
    write_file(dir.file("p.safetensors"), file.substr(0, n));
    SafeTensors st;
    const Status s = st.open_file(dir.file("p.safetensors"));
    INFO("prefix ", n);
    CHECK(s.code() == HEED_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(s.message()).rfind("p.safetensors", 0) == 0);
  }
  // Byte substitutions in the length field and header: success or a named error, never a crash.
  for (size_t i = 0; i < 8 + header.size(); ++i) {
    for (int c : {0x00, 0x01, 0x7F, 0xFF, int{'0'}, int{'9'}, int{'-'}, int{'['}, int{'"'}, int{'}'}}) {
      std::string m = file;
      m[i] = static_cast<char>(c);
      write_file(dir.file("m.safetensors"), m);
      SafeTensors st;
      const Status s = st.open_file(dir.file("m.safetensors"));
      if (s.ok()) {
        std::vector<float> v;
        for (const SafeTensorInfo& t : st.tensors()) {
          const Status r = st.read_f32(t, &v);
          CHECK((r.ok() || r.code() == HEED_ERROR_UNSUPPORTED));
        }
      } else {
        CHECK(std::string(s.message()).rfind("m.safetensors", 0) == 0);
      }
    }
  }
}

}  // TEST_SUITE("fast")

}  // namespace
}  // namespace heed::conv
