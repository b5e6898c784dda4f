// libFuzzer target: any byte string through json_parse (config.json,
// tokenizer.json and safetensors headers are untrusted; docs/SECURITY.md H1/H2).
// On success the DOM must respect the stated caps, hold only valid UTF-8, and
// survive a print -> parse round trip unchanged.
#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz-common.h"
#include "io/json.h"

namespace {

using heed::conv::JsonValue;

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const uint8_t c = uint8_t(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07u;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      const uint8_t d = uint8_t(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3Fu);
    }
    static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

void print_string(const std::string& s, std::string* out) {
  out->push_back('"');
  for (char ch : s) {
    const uint8_t c = uint8_t(ch);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(ch);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out->append(buf);
    } else {
      out->push_back(ch);
    }
  }
  out->push_back('"');
}

// Recursion is bounded by kJsonMaxDepth (checked before printing).
void print(const JsonValue& v, std::string* out) {
  char buf[64];
  switch (v.type()) {
    case JsonValue::Type::kNull: out->append("null"); break;
    case JsonValue::Type::kBool: out->append(v.as_bool() ? "true" : "false"); break;
    case JsonValue::Type::kNumber: {
      // as_int64 true: an int64 literal, or a double holding an integer of
      // magnitude <= 2^53; both read back identically from the integer.
      // Otherwise a double: always with '.' and an exponent, so it reads back
      // as a double literal (as_int64 stays false).
      int64_t i = 0;
      if (v.as_int64(&i)) {
        std::snprintf(buf, sizeof buf, "%" PRId64, i);
      } else {
        std::snprintf(buf, sizeof buf, "%.17e", v.as_number());
      }
      out->append(buf);
      break;
    }
    case JsonValue::Type::kString: print_string(v.as_string(), out); break;
    case JsonValue::Type::kArray: {
      out->push_back('[');
      bool first = true;
      for (const JsonValue& x : v.items()) {
        if (!first) out->push_back(',');
        first = false;
        print(x, out);
      }
      out->push_back(']');
      break;
    }
    case JsonValue::Type::kObject: {
      out->push_back('{');
      bool first = true;
      for (const auto& m : v.members()) {
        if (!first) out->push_back(',');
        first = false;
        print_string(m.first, out);
        out->push_back(':');
        print(m.second, out);
      }
      out->push_back('}');
      break;
    }
  }
}

bool same(const JsonValue& a, const JsonValue& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case JsonValue::Type::kNull: return true;
    case JsonValue::Type::kBool: return a.as_bool() == b.as_bool();
    case JsonValue::Type::kNumber: {
      int64_t x = 0, y = 0;
      const bool xi = a.as_int64(&x), yi = b.as_int64(&y);
      return a.as_number() == b.as_number() && xi == yi && (!xi || x == y);
    }
    case JsonValue::Type::kString: return a.as_string() == b.as_string();
    case JsonValue::Type::kArray:
      if (a.items().size() != b.items().size()) return false;
      for (size_t i = 0; i < a.items().size(); ++i)
        if (!same(a.items()[i], b.items()[i])) return false;
      return true;
    case JsonValue::Type::kObject:
      if (a.members().size() != b.members().size()) return false;
      for (size_t i = 0; i < a.members().size(); ++i)
        if (a.members()[i].first != b.members()[i].first || !same(a.members()[i].second, b.members()[i].second))
          return false;
      return true;
  }
  return false;
}

// Iterative walk: value count, depth, UTF-8 of strings and keys, find().
void walk(const JsonValue& root, size_t* values, size_t* depth) {
  std::vector<std::pair<const JsonValue*, size_t>> stack{{&root, 0}};
  *values = 0;
  *depth = 0;
  while (!stack.empty()) {
    auto [v, d] = stack.back();
    stack.pop_back();
    ++*values;
    if (v->is_array() || v->is_object()) {
      if (d + 1 > *depth) *depth = d + 1;
    }
    if (v->is_string()) HEED_FUZZ_CHECK(valid_utf8(v->as_string()));
    for (const JsonValue& x : v->items()) stack.push_back({&x, d + 1});
    for (const auto& m : v->members()) {
      HEED_FUZZ_CHECK(valid_utf8(m.first));
      stack.push_back({&m.second, d + 1});
    }
    // find() returns the last duplicate.
    if (v->is_object() && !v->members().empty() && v->members().size() <= 64) {
      const auto& key = v->members().back().first;
      HEED_FUZZ_CHECK(v->find(key) == &v->members().back().second);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace heed::conv;
  const std::vector<char> copy(data, data + size);  // exact-size heap copy for ASan
  JsonValue v;
  heed::Status s = json_parse(std::string_view(copy.data(), size), "fuzz.json", &v);
  if (!s.ok()) {
    HEED_FUZZ_CHECK(s.code() == HEED_ERROR_INVALID_ARGUMENT || s.code() == HEED_ERROR_OUT_OF_MEMORY);
    HEED_FUZZ_CHECK(std::string_view(s.message()).rfind("fuzz.json", 0) == 0);
    HEED_FUZZ_CHECK(v.is_null());
    return 0;
  }
  size_t values = 0, depth = 0;
  walk(v, &values, &depth);
  HEED_FUZZ_CHECK(values <= kJsonMaxValues);
  HEED_FUZZ_CHECK(depth <= kJsonMaxDepth);

  // Typed getters never crash, whatever the type.
  int64_t i = 0;
  double d = 0;
  std::string str;
  bool b = false;
  for (const char* key : {"hidden_size", "model_type", "dtype", "shape", "data_offsets", ""}) {
    (void)json_get_int(v, key, "fuzz.json", &i);
    (void)json_get_number(v, key, "fuzz.json", &d);
    (void)json_get_string(v, key, "fuzz.json", &str);
    (void)json_get_bool(v, key, "fuzz.json", &b);
  }

  // Copy (recursive, bounded by the depth cap), then print -> parse -> same.
  const JsonValue c = v;
  std::string text;
  print(c, &text);
  JsonValue back;
  heed::Status s2 = json_parse(text, "roundtrip.json", &back);
  if (!s2.ok()) std::fprintf(stderr, "round trip text: %.200s\nerror: %s\n", text.c_str(), s2.message());
  HEED_FUZZ_CHECK(s2.ok());
  HEED_FUZZ_CHECK(same(v, back));
  return 0;
}
