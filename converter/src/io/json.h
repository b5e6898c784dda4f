// JSON (RFC 8259) parser to an immutable DOM, for config.json, tokenizer.json and
// safetensors headers. These files come from the network: every byte string yields
// either a DOM or an error naming source:line:column and what was expected.
//
// Contract:
//   - Strict RFC 8259: no comments, no trailing commas, no leading zeros, no NaN/Infinity,
//     no control characters or invalid UTF-8 inside strings, no lone surrogates in \u
//     escapes, nothing but whitespace after the value. Any value may be the top level.
//     One leading UTF-8 byte order mark is skipped (RFC 8259 section 8.1 allows this).
//   - Nesting depth is capped at kJsonMaxDepth. The parser is iterative (no recursion on
//     file data); JsonValue's copy and destruction recurse, but never deeper than the cap.
//   - Integer literals that fit in int64 are kept exactly (see as_int64); other numbers as
//     double (round to nearest). A literal whose magnitude overflows double is an error;
//     one that underflows becomes (signed) zero.
//   - Strings are stored as UTF-8 with escapes resolved (may contain U+0000).
//   - Objects keep members in file order, duplicates included; find() returns the last.
//   - Memory: a value costs 40 bytes (+ an object member's key) plus vector slack. A
//     document may hold at most kJsonMaxValues values (~700 MB of DOM at worst; the largest
//     Hugging Face tokenizer.json files hold a few million); json_parse_file caps the input
//     at kJsonMaxFileBytes.
// Thread safety: a parsed JsonValue is immutable and may be read from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"

namespace heed::conv {

inline constexpr size_t kJsonMaxDepth = 512;                      // arrays + objects open at once
inline constexpr uint64_t kJsonMaxFileBytes = uint64_t{256} << 20;  // json_parse_file input cap
inline constexpr size_t kJsonMaxValues = size_t{1} << 24;           // values per document

// Per-document caps, checked while parsing (before the value is stored), so a
// document's DOM never grows past max_values values whatever the input. Each
// reader states its own, tighter caps (docs/SECURITY.md lists them).
struct JsonLimits {
  size_t max_values = kJsonMaxValues;  // <= kJsonMaxValues
  size_t max_depth = kJsonMaxDepth;    // <= kJsonMaxDepth
};

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  JsonValue() = default;  // null

  Type type() const;
  bool is_null() const { return type() == Type::kNull; }
  bool is_bool() const { return type() == Type::kBool; }
  bool is_number() const { return type() == Type::kNumber; }
  bool is_string() const { return type() == Type::kString; }
  bool is_array() const { return type() == Type::kArray; }
  bool is_object() const { return type() == Type::kObject; }

  // Precondition: matching type. On a mismatch they do not crash; they return
  // false / 0.0 / an empty string.
  bool as_bool() const;
  double as_number() const;
  const std::string& as_string() const;

  // True (and *out set) if this is a number holding an integer that int64 represents
  // exactly: an integer literal in [-2^63, 2^63-1] ("768", "-0"), or a non-integer
  // literal whose double value is an integer of magnitude <= 2^53 ("7.68e2", "1.0").
  bool as_int64(int64_t* out) const;
  // True (and *out set) only for an integer literal (no fraction or exponent) that
  // fits int64: what a strict reader of ids wants ("5.0" and "5e0" are not ids).
  bool as_integer_literal(int64_t* out) const;

  const std::vector<JsonValue>& items() const;  // array; empty otherwise
  const std::vector<std::pair<std::string, JsonValue>>& members() const;  // object, file order
  // Object member by key (last duplicate wins) or nullptr; nullptr for non-objects.
  // Linear in the member count: iterate members() for large objects.
  const JsonValue* find(std::string_view key) const;

 private:
  friend class JsonParser;
  using Array = std::vector<JsonValue>;
  using Object = std::vector<std::pair<std::string, JsonValue>>;

  // Numbers: int64_t for integer literals that fit, double otherwise. 40 bytes per value.
  std::variant<std::monostate, bool, int64_t, double, std::string, Array, Object> v_;
};

// Parses `text`. `source_name` (e.g. "config.json") prefixes error messages:
//   "config.json:3:17: expected ',' or '}', found ']'"   (line and column are 1-based;
// the column counts UTF-8 characters). Errors: HEED_ERROR_INVALID_ARGUMENT for malformed
// text, HEED_ERROR_OUT_OF_MEMORY for more than kJsonMaxValues values or a failed
// allocation. *out is written only on success.
Status json_parse(std::string_view text, std::string_view source_name, JsonValue* out,
                  const JsonLimits& limits = JsonLimits());

// Reads and parses a file; errors name the file's base name. HEED_ERROR_IO if it cannot
// be opened/read or is not a regular file (a FIFO or device is refused without
// blocking), HEED_ERROR_OUT_OF_MEMORY if larger than max_bytes (<= kJsonMaxFileBytes),
// otherwise as json_parse.
Status json_parse_file(const std::string& path, JsonValue* out, uint64_t max_bytes = kJsonMaxFileBytes,
                       const JsonLimits& limits = JsonLimits());

// Typed field access on an object, for config files. `source` names the file in errors:
//   missing (or obj not an object): "config.json: missing field 'hidden_size'"
//   wrong type:                     "config.json: field 'hidden_size' must be an integer, found 0.5"
//                                   (found: the number, or "a string", "null", ...)
// json_get_int accepts what JsonValue::as_int64 accepts. Errors are
// HEED_ERROR_INVALID_ARGUMENT; *out is written only on success. A JSON null counts as
// present with the wrong type.
Status json_get_int(const JsonValue& obj, std::string_view key, std::string_view source,
                    int64_t* out);
Status json_get_number(const JsonValue& obj, std::string_view key, std::string_view source,
                       double* out);
Status json_get_string(const JsonValue& obj, std::string_view key, std::string_view source,
                       std::string* out);
Status json_get_bool(const JsonValue& obj, std::string_view key, std::string_view source,
                     bool* out);

}  // namespace heed::conv
