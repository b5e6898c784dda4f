#include "io/json.h"

#include "io/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <algorithm>

namespace heed::conv {

JsonValue::Type JsonValue::type() const {
  switch (v_.index()) {
    case 0: return Type::kNull;
    case 1: return Type::kBool;
    case 2:
    case 3: return Type::kNumber;
    case 4: return Type::kString;
    case 5: return Type::kArray;
    default: return Type::kObject;
  }
}

bool JsonValue::as_bool() const {
  const bool* b = std::get_if<bool>(&v_);
  return b != nullptr && *b;
}

double JsonValue::as_number() const {
  if (const int64_t* i = std::get_if<int64_t>(&v_)) return static_cast<double>(*i);
  if (const double* d = std::get_if<double>(&v_)) return *d;
  return 0.0;
}

const std::string& JsonValue::as_string() const {
  static const std::string kEmpty;
  const std::string* s = std::get_if<std::string>(&v_);
  return s != nullptr ? *s : kEmpty;
}

bool JsonValue::as_int64(int64_t* out) const {
  if (const int64_t* i = std::get_if<int64_t>(&v_)) {
    *out = *i;
    return true;
  }
  const double* d = std::get_if<double>(&v_);
  // 2^53: beyond it a double no longer pins down one integer of the literal.
  constexpr double kMaxExact = 9007199254740992.0;
  if (d == nullptr || !(std::fabs(*d) <= kMaxExact) || std::trunc(*d) != *d) return false;
  *out = static_cast<int64_t>(*d);
  return true;
}

bool JsonValue::as_integer_literal(int64_t* out) const {
  const int64_t* i = std::get_if<int64_t>(&v_);
  if (i == nullptr) return false;
  *out = *i;
  return true;
}

const std::vector<JsonValue>& JsonValue::items() const {
  static const Array kEmpty;
  const Array* a = std::get_if<Array>(&v_);
  return a != nullptr ? *a : kEmpty;
}

const std::vector<std::pair<std::string, JsonValue>>& JsonValue::members() const {
  static const Object kEmpty;
  const Object* o = std::get_if<Object>(&v_);
  return o != nullptr ? *o : kEmpty;
}

const JsonValue* JsonValue::find(std::string_view key) const {
  const Object* o = std::get_if<Object>(&v_);
  if (o == nullptr) return nullptr;
  for (size_t i = o->size(); i-- > 0;) {
    if ((*o)[i].first == key) return &(*o)[i].second;
  }
  return nullptr;
}

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Length of the well-formed UTF-8 sequence at p (Unicode table 3-7: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0 if ill-formed or cut off by `end`.
size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end) {
  const size_t avail = static_cast<size_t>(end - p);
  const unsigned char b0 = p[0];
  auto cont = [&](size_t i, unsigned char lo, unsigned char hi) {
    return i < avail && p[i] >= lo && p[i] <= hi;
  };
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1, 0x80, 0xBF) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;
    return cont(1, lo, hi) && cont(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return cont(1, lo, hi) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

const char* type_name(JsonValue::Type t) {
  switch (t) {
    case JsonValue::Type::kNull: return "null";
    case JsonValue::Type::kBool: return "a boolean";
    case JsonValue::Type::kNumber: return "a number";
    case JsonValue::Type::kString: return "a string";
    case JsonValue::Type::kArray: return "an array";
    case JsonValue::Type::kObject: return "an object";
  }
  return "?";
}

}  // namespace

// Iterative parser: containers being filled live on an explicit stack (at most
// kJsonMaxDepth frames), so hostile nesting costs heap, never native stack.
class JsonParser {
 public:
  JsonParser(std::string_view text, std::string_view source, const JsonLimits& limits)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), source_(source),
        max_values_(std::min(limits.max_values, kJsonMaxValues)),
        max_depth_(std::min(limits.max_depth, kJsonMaxDepth)) {}

  Status parse(JsonValue* out) {
    if (end_ - p_ >= 3 && std::memcmp(p_, "\xEF\xBB\xBF", 3) == 0) p_ += 3;
    struct Frame {
      bool is_array = false;
      JsonValue::Array items;
      JsonValue::Object members;
      std::string key;  // objects: name of the member whose value is being parsed
    };
    std::vector<Frame> stack;
    JsonValue value;
    size_t value_count = 0;
    for (;;) {
      // Expect a value; containers push a frame and loop back here for their first element.
      skip_ws();
      if (p_ == end_) return error(p_, "expected a value");
      if (++value_count > max_values_) {
        char what[80];
        std::snprintf(what, sizeof what, "more than %zu values in one document (the cap for this file)", max_values_);
        return error(p_, what, HEED_ERROR_OUT_OF_MEMORY);
      }
      const char c = *p_;
      if (c == '[' || c == '{') {
        if (stack.size() >= max_depth_) {
          char what[64];
          std::snprintf(what, sizeof what, "arrays/objects nested deeper than %zu", max_depth_);
          return error(p_, what);
        }
        ++p_;
        stack.emplace_back();
        stack.back().is_array = c == '[';
        skip_ws();
        if (p_ < end_ && *p_ == (c == '[' ? ']' : '}')) {
          ++p_;
          value = close(&stack.back());
          stack.pop_back();
        } else if (c == '[') {
          continue;
        } else {
          HEED_RETURN_IF_ERROR(parse_key("expected '\"' (member name) or '}'", &stack.back().key));
          continue;
        }
      } else {
        HEED_RETURN_IF_ERROR(parse_scalar(&value));
      }

      // `value` is complete: hand it to its container, closing containers as they end.
      for (;;) {
        if (stack.empty()) {
          skip_ws();
          if (p_ != end_) return error(p_, "expected end of input after the top-level value");
          *out = std::move(value);
          return Status::Ok();
        }
        Frame& top = stack.back();
        skip_ws();
        if (top.is_array) {
          top.items.push_back(std::move(value));
          if (p_ < end_ && *p_ == ',') {
            ++p_;
            break;
          }
          if (p_ < end_ && *p_ == ']') {
            ++p_;
            value = close(&top);
            stack.pop_back();
            continue;
          }
          return error(p_, "expected ',' or ']'");
        }
        top.members.emplace_back(std::move(top.key), std::move(value));
        if (p_ < end_ && *p_ == ',') {
          ++p_;
          skip_ws();
          HEED_RETURN_IF_ERROR(parse_key("expected '\"' (member name)", &top.key));
          break;
        }
        if (p_ < end_ && *p_ == '}') {
          ++p_;
          value = close(&top);
          stack.pop_back();
          continue;
        }
        return error(p_, "expected ',' or '}'");
      }
    }
  }

 private:
  void skip_ws() {
    while (p_ < end_ && is_ws(*p_)) ++p_;
  }

  // "source:line:col: what, found X". Line/column are computed only here, on failure.
  template <typename Frame>
  static JsonValue close(Frame* f) {
    JsonValue v;
    if (f->is_array) {
      f->items.shrink_to_fit();
      v.v_ = std::move(f->items);
    } else {
      f->members.shrink_to_fit();
      v.v_ = std::move(f->members);
    }
    return v;
  }

  Status error(const char* at, const char* what, heed_status code = HEED_ERROR_INVALID_ARGUMENT) const {
    size_t line = 1, col = 1;
    for (const char* q = begin_; q < at; ++q) {
      const unsigned char b = static_cast<unsigned char>(*q);
      if (b == '\n') {
        ++line;
        col = 1;
      } else if ((b & 0xC0) != 0x80) {
        ++col;  // count characters, not UTF-8 continuation bytes
      }
    }
    char found[16];
    if (at >= end_) {
      std::snprintf(found, sizeof found, "end of input");
    } else {
      const unsigned char b = static_cast<unsigned char>(*at);
      if (b > 0x20 && b < 0x7F) {
        std::snprintf(found, sizeof found, "'%c'", b);
      } else {
        std::snprintf(found, sizeof found, "byte 0x%02X", b);
      }
    }
    return Status::Error(code, "%.*s:%zu:%zu: %s, found %s",
                         static_cast<int>(source_.size()), source_.data(), line, col, what,
                         found);
  }

  // Member name then ':' (p_ at the name's opening quote after whitespace).
  Status parse_key(const char* expected, std::string* key) {
    if (p_ == end_ || *p_ != '"') return error(p_, expected);
    HEED_RETURN_IF_ERROR(parse_string(key));
    skip_ws();
    if (p_ == end_ || *p_ != ':') return error(p_, "expected ':' after member name");
    ++p_;
    return Status::Ok();
  }

  Status parse_scalar(JsonValue* v) {
    const char c = *p_;
    if (c == '"') {
      std::string str;
      HEED_RETURN_IF_ERROR(parse_string(&str));
      v->v_ = std::move(str);
      return Status::Ok();
    }
    if (c == '-' || is_digit(c)) return parse_number(v);
    auto literal = [&](const char* word, size_t n) {
      if (static_cast<size_t>(end_ - p_) >= n && std::memcmp(p_, word, n) == 0) {
        p_ += n;
        return true;
      }
      return false;
    };
    if (literal("true", 4) || literal("false", 5)) {
      v->v_ = c == 't';
      return Status::Ok();
    }
    if (literal("null", 4)) {
      v->v_ = std::monostate();
      return Status::Ok();
    }
    return error(p_, "expected a value");
  }

  Status parse_number(JsonValue* v) {
    const char* start = p_;
    const char* q = p_;
    const bool negative = *q == '-';
    if (negative) ++q;
    if (q == end_ || !is_digit(*q)) return error(q, "expected a digit after '-'");
    const char* int_begin = q;
    if (*q == '0') {
      ++q;
      if (q < end_ && is_digit(*q)) return error(q - 1, "leading zeros are not allowed in numbers");
    } else {
      while (q < end_ && is_digit(*q)) ++q;
    }
    const char* int_end = q;
    const char* frac_begin = q;
    const char* frac_end = q;
    bool is_integer = true;
    if (q < end_ && *q == '.') {
      is_integer = false;
      ++q;
      if (q == end_ || !is_digit(*q)) return error(q, "expected a digit after '.'");
      frac_begin = q;
      while (q < end_ && is_digit(*q)) ++q;
      frac_end = q;
    }
    int64_t exp10 = 0;  // saturates; only its sign and rough size matter below
    if (q < end_ && (*q == 'e' || *q == 'E')) {
      is_integer = false;
      ++q;
      bool exp_negative = false;
      if (q < end_ && (*q == '+' || *q == '-')) exp_negative = *q++ == '-';
      if (q == end_ || !is_digit(*q)) return error(q, "expected a digit in the exponent");
      while (q < end_ && is_digit(*q)) {
        if (exp10 < 1000000) exp10 = exp10 * 10 + (*q - '0');
        ++q;
      }
      if (exp_negative) exp10 = -exp10;
    }
    p_ = q;

    double d = 0.0;
    const std::from_chars_result r = std::from_chars(start, q, d, std::chars_format::general);
    if (r.ec == std::errc::result_out_of_range) {
      // Decide overflow vs underflow from the decimal exponent of the first nonzero digit.
      int64_t lead = 0;
      const char* nz = int_begin;
      while (nz < int_end && *nz == '0') ++nz;
      if (nz < int_end) {
        lead = (int_end - nz) - 1;
      } else {
        const char* f = frac_begin;
        while (f < frac_end && *f == '0') ++f;
        lead = -((f - frac_begin) + 1);
      }
      if (lead + exp10 > 0) return error(start, "number out of range (overflows double)");
      d = negative ? -0.0 : 0.0;
    } else if (r.ec != std::errc() || r.ptr != q) {
      return error(start, "malformed number");
    }
    v->v_ = d;

    if (is_integer) {
      // Exact int64 for integer literals: accumulate the magnitude in uint64.
      uint64_t mag = 0;
      bool fits = true;
      for (const char* c = int_begin; c < int_end; ++c) {
        const uint64_t digit = static_cast<uint64_t>(*c - '0');
        if (mag > (UINT64_MAX - digit) / 10) {
          fits = false;
          break;
        }
        mag = mag * 10 + digit;
      }
      const uint64_t limit = negative ? (uint64_t{1} << 63) : (uint64_t{1} << 63) - 1;
      if (fits && mag <= limit && !(negative && mag == 0)) {  // "-0" stays double -0.0
        // Two's-complement wrap of 0 - mag is the intended result for mag == 2^63.
        v->v_ = negative ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
      }
    }
    return Status::Ok();
  }

  // p_ at the opening quote. Resolves escapes, validates UTF-8.
  Status parse_string(std::string* out) {
    const char* open = p_;
    ++p_;
    out->clear();
    for (;;) {
      const char* run = p_;
      while (p_ < end_) {
        const unsigned char b = static_cast<unsigned char>(*p_);
        if (b == '"' || b == '\\' || b < 0x20 || b >= 0x80) break;
        ++p_;
      }
      out->append(run, static_cast<size_t>(p_ - run));
      if (p_ == end_) return error(open, "unterminated string");
      const unsigned char b = static_cast<unsigned char>(*p_);
      if (b == '"') {
        ++p_;
        return Status::Ok();
      }
      if (b < 0x20) return error(p_, "control characters must be escaped in strings");
      if (b >= 0x80) {
        const size_t n = utf8_sequence_length(reinterpret_cast<const unsigned char*>(p_),
                                              reinterpret_cast<const unsigned char*>(end_));
        if (n == 0) return error(p_, "invalid UTF-8 in string");
        out->append(p_, n);
        p_ += n;
        continue;
      }
      // Backslash escape.
      const char* esc = p_;
      ++p_;
      if (p_ == end_) return error(open, "unterminated string");
      const char e = *p_++;
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp = 0;
          HEED_RETURN_IF_ERROR(parse_hex4(&cp));
          if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return error(esc, "lone low surrogate \\uDC00-\\uDFFF in string");
          }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
              return error(esc, "high surrogate not followed by a \\u low surrogate");
            }
            const char* esc2 = p_;
            p_ += 2;
            uint32_t lo = 0;
            HEED_RETURN_IF_ERROR(parse_hex4(&lo));
            if (lo < 0xDC00 || lo > 0xDFFF) {
              return error(esc2, "high surrogate not followed by a \\u low surrogate");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          append_utf8(cp, out);
          break;
        }
        default:
          return error(esc, "invalid escape in string (expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)");
      }
    }
  }

  Status parse_hex4(uint32_t* cp) {
    if (end_ - p_ < 4) return error(p_, "expected 4 hex digits after \\u");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hex_value(p_[i]);
      if (h < 0) return error(p_ + i, "expected 4 hex digits after \\u");
      v = v * 16 + static_cast<uint32_t>(h);
    }
    p_ += 4;
    *cp = v;
    return Status::Ok();
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  std::string_view source_;
  size_t max_values_;
  size_t max_depth_;
};

Status json_parse(std::string_view text, std::string_view source_name, JsonValue* out,
                  const JsonLimits& limits) {
  try {
    JsonValue v;
    JsonParser parser(text, source_name, limits);
    HEED_RETURN_IF_ERROR(parser.parse(&v));
    *out = std::move(v);
    return Status::Ok();
  } catch (const std::bad_alloc&) {
    return Status::Error(HEED_ERROR_OUT_OF_MEMORY, "%.*s: out of memory while parsing JSON",
                         static_cast<int>(source_name.size()), source_name.data());
  }
}

Status json_parse_file(const std::string& path, JsonValue* out, uint64_t max_bytes, const JsonLimits& limits) {
  const size_t slash = path.find_last_of('/');
  const std::string_view base =
      slash == std::string::npos ? std::string_view(path) : std::string_view(path).substr(slash + 1);
  std::string text;
  HEED_RETURN_IF_ERROR(read_file(path, std::min(max_bytes, kJsonMaxFileBytes), &text));
  return json_parse(text, base, out, limits);
}

namespace {

// Shared lookup for the json_get_* helpers.
Status get_field(const JsonValue& obj, std::string_view key, std::string_view source,
                 const JsonValue** v) {
  *v = obj.find(key);
  if (*v == nullptr) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%.*s: missing field '%.*s'",
                         static_cast<int>(source.size()), source.data(),
                         static_cast<int>(key.size()), key.data());
  }
  return Status::Ok();
}

Status wrong_type(const JsonValue& v, std::string_view key, std::string_view source,
                  const char* want) {
  char found[48];
  if (v.is_number()) {
    std::snprintf(found, sizeof found, "%.17g", v.as_number());
  } else {
    std::snprintf(found, sizeof found, "%s", type_name(v.type()));
  }
  return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%.*s: field '%.*s' must be %s, found %s",
                       static_cast<int>(source.size()), source.data(),
                       static_cast<int>(key.size()), key.data(), want, found);
}

}  // namespace

Status json_get_int(const JsonValue& obj, std::string_view key, std::string_view source,
                    int64_t* out) {
  const JsonValue* v = nullptr;
  HEED_RETURN_IF_ERROR(get_field(obj, key, source, &v));
  int64_t i = 0;
  if (!v->as_int64(&i)) return wrong_type(*v, key, source, "an integer");
  *out = i;
  return Status::Ok();
}

Status json_get_number(const JsonValue& obj, std::string_view key, std::string_view source,
                       double* out) {
  const JsonValue* v = nullptr;
  HEED_RETURN_IF_ERROR(get_field(obj, key, source, &v));
  if (!v->is_number()) return wrong_type(*v, key, source, "a number");
  *out = v->as_number();
  return Status::Ok();
}

Status json_get_string(const JsonValue& obj, std::string_view key, std::string_view source,
                       std::string* out) {
  const JsonValue* v = nullptr;
  HEED_RETURN_IF_ERROR(get_field(obj, key, source, &v));
  if (!v->is_string()) return wrong_type(*v, key, source, "a string");
  *out = v->as_string();
  return Status::Ok();
}

Status json_get_bool(const JsonValue& obj, std::string_view key, std::string_view source,
                     bool* out) {
  const JsonValue* v = nullptr;
  HEED_RETURN_IF_ERROR(get_field(obj, key, source, &v));
  if (!v->is_bool()) return wrong_type(*v, key, source, "a boolean");
  *out = v->as_bool();
  return Status::Ok();
}

}  // namespace heed::conv
