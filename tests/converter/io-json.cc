// JSON parser: RFC 8259 conformance, error positions and messages, hostile inputs
// (depth bombs, every prefix and byte flip of a document), field helpers and speed.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>

#include "io-test-util.h"
#include "io/json.h"

namespace heed::conv {
namespace {

JsonValue parse_ok(std::string_view text) {
  JsonValue v;
  const Status s = json_parse(text, "t.json", &v);
  INFO("text: ", std::string(text), " -> ", s.message());
  CHECK(s.ok());
  return v;
}

// Message of a failed parse ("" if it unexpectedly succeeded).
std::string parse_err(std::string_view text) {
  JsonValue v;
  const Status s = json_parse(text, "t.json", &v);
  INFO("text: ", std::string(text));
  CHECK_FALSE(s.ok());
  if (s.ok()) return "";
  CHECK(s.code() == HEED_ERROR_INVALID_ARGUMENT);
  return s.message();
}

std::string parse_err_with(std::string_view text, const JsonLimits& limits) {
  JsonValue v;
  const Status s = json_parse(text, "t.json", &v, limits);
  CHECK_FALSE(s.ok());
  return s.ok() ? "" : s.message();
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_SUITE("fast") {

TEST_CASE("json: scalars, arrays and objects") {
  JsonValue v = parse_ok(R"( {"a": null, "b": true, "c": false, "d": -12.5e1, "e": "x",
                              "f": [1, [2, []], {}], "g": {"h": "i"}} )");
  REQUIRE(v.is_object());
  CHECK(v.members().size() == 7);
  CHECK(v.members()[0].first == "a");
  CHECK(v.find("a")->is_null());
  CHECK(v.find("b")->as_bool());
  CHECK(v.find("c")->is_bool());
  CHECK_FALSE(v.find("c")->as_bool());
  CHECK(v.find("d")->as_number() == -125.0);
  CHECK(v.find("e")->as_string() == "x");
  const JsonValue& f = *v.find("f");
  REQUIRE(f.is_array());
  REQUIRE(f.items().size() == 3);
  CHECK(f.items()[1].items()[1].is_array());
  CHECK(f.items()[1].items()[1].items().empty());
  CHECK(f.items()[2].is_object());
  CHECK(v.find("g")->find("h")->as_string() == "i");
  CHECK(v.find("zz") == nullptr);

  // Mismatched accessors do not crash.
  CHECK(v.find("e")->as_number() == 0.0);
  CHECK(v.find("d")->as_string().empty());
  CHECK(v.find("d")->items().empty());
  CHECK(v.find("d")->members().empty());
  CHECK(v.find("d")->find("x") == nullptr);

  // Top-level scalars are valid JSON texts.
  CHECK(parse_ok("42").as_number() == 42.0);
  CHECK(parse_ok(" \"s\" ").as_string() == "s");
  CHECK(parse_ok("null").is_null());
  CHECK(parse_ok("\t\r\n[ ]\n").is_array());
}

TEST_CASE("json: duplicate keys keep file order, find returns the last") {
  JsonValue v = parse_ok(R"({"k": 1, "x": 0, "k": 2})");
  REQUIRE(v.members().size() == 3);
  CHECK(v.members()[0].second.as_number() == 1.0);
  CHECK(v.find("k")->as_number() == 2.0);
}

TEST_CASE("json: numbers") {
  CHECK(parse_ok("0").as_number() == 0.0);
  CHECK(parse_ok("-0.0").as_number() == 0.0);
  CHECK(std::signbit(parse_ok("-0").as_number()));
  CHECK(parse_ok("0.1").as_number() == 0.1);
  CHECK(parse_ok("1E3").as_number() == 1000.0);
  CHECK(parse_ok("1e+3").as_number() == 1000.0);
  CHECK(parse_ok("25e-1").as_number() == 2.5);
  CHECK(parse_ok("1e-400").as_number() == 0.0);  // underflow rounds to zero
  CHECK(parse_ok("-1e-400").as_number() == 0.0);
  CHECK(parse_ok("0.0000000000000000000000000000000000000000001e-300").as_number() == 0.0);
  CHECK(parse_ok("1.7976931348623157e308").as_number() == 1.7976931348623157e308);

  int64_t i = 0;
  CHECK(parse_ok("9223372036854775807").as_int64(&i));
  CHECK(i == INT64_MAX);
  CHECK(parse_ok("-9223372036854775808").as_int64(&i));
  CHECK(i == INT64_MIN);
  CHECK(parse_ok("9007199254740993").as_int64(&i));  // 2^53 + 1, exact
  CHECK(i == 9007199254740993);
  CHECK(parse_ok("7.68e2").as_int64(&i));
  CHECK(i == 768);
  CHECK(parse_ok("-0").as_int64(&i));
  CHECK(i == 0);
  CHECK_FALSE(parse_ok("9223372036854775808").as_int64(&i));
  CHECK_FALSE(parse_ok("18446744073709551616").as_int64(&i));
  CHECK_FALSE(parse_ok("1e19").as_int64(&i));
  CHECK_FALSE(parse_ok("0.5").as_int64(&i));
  CHECK_FALSE(parse_ok("\"5\"").as_int64(&i));
  CHECK(parse_ok("18446744073709551616").as_number() == 18446744073709551616.0);

  CHECK(contains(parse_err("1e400"), "out of range"));
  CHECK(contains(parse_err("-123456789e999999999999999999"), "out of range"));
  CHECK(contains(parse_err("01"), "leading zeros"));
  CHECK(contains(parse_err("-01"), "leading zeros"));
  CHECK(contains(parse_err("[00]"), "leading zeros"));
  CHECK(contains(parse_err("-"), "expected a digit after '-'"));
  CHECK(contains(parse_err("1."), "expected a digit after '.'"));
  CHECK(contains(parse_err("1.e3"), "expected a digit after '.'"));
  CHECK(contains(parse_err("1e"), "exponent"));
  CHECK(contains(parse_err("1e+"), "exponent"));
  CHECK(contains(parse_err(".5"), "expected a value"));
  CHECK(contains(parse_err("+1"), "expected a value"));
  CHECK(contains(parse_err("NaN"), "expected a value"));
  CHECK(contains(parse_err("Infinity"), "expected a value"));
  CHECK(contains(parse_err("-Infinity"), "expected a digit"));
  CHECK(contains(parse_err("0x10"), "expected end of input"));
}

TEST_CASE("json: strings, escapes and UTF-8") {
  CHECK(parse_ok(R"("a\"b\\c\/d\be\ff\ng\rh\ti")").as_string() == "a\"b\\c/d\be\ff\ng\rh\ti");
  CHECK(parse_ok(R"("\u0041\u00e9\u20AC")").as_string() == "A\xC3\xA9\xE2\x82\xAC");
  CHECK(parse_ok(R"("\ud83d\ude00")").as_string() == "\xF0\x9F\x98\x80");  // U+1F600
  CHECK(parse_ok(R"("\uDBFF\uDFFF")").as_string() == "\xF4\x8F\xBF\xBF");  // U+10FFFF
  CHECK(parse_ok(R"("\u0000")").as_string() == std::string(1, '\0'));
  // Raw UTF-8 of every length, including the boundary code points.
  const std::string raw = "\"\x7F \xC2\x80 \xDF\xBF \xE0\xA0\x80 \xED\x9F\xBF \xEE\x80\x80 \xEF\xBF\xBF "
                          "\xF0\x90\x80\x80 \xF4\x8F\xBF\xBF\"";
  CHECK(parse_ok(raw).as_string() == raw.substr(1, raw.size() - 2));
  CHECK(parse_ok("\"\xE2\x82\xAC\"").as_string() == "\xE2\x82\xAC");

  CHECK(contains(parse_err(R"("\ud800")"), "high surrogate"));
  CHECK(contains(parse_err(R"("\ud800x")"), "high surrogate"));
  CHECK(contains(parse_err(R"("\ud800\u0041")"), "high surrogate"));
  CHECK(contains(parse_err(R"("\ud800\ud800")"), "high surrogate"));
  CHECK(contains(parse_err(R"("\udc00")"), "lone low surrogate"));
  CHECK(contains(parse_err(R"("\u12")"), "4 hex digits"));
  CHECK(contains(parse_err(R"("\u12G4")"), "4 hex digits"));
  CHECK(contains(parse_err(R"("\x")"), "invalid escape"));
  CHECK(contains(parse_err(R"("\')"), "invalid escape"));
  CHECK(contains(parse_err("\"a\nb\""), "control characters"));
  CHECK(contains(parse_err(std::string("\"a\0b\"", 5)), "control characters"));
  CHECK(contains(parse_err("\"a\tb\""), "control characters"));
  CHECK(contains(parse_err("\"abc"), "unterminated string"));
  CHECK(contains(parse_err("\"abc\\"), "unterminated string"));
  CHECK(contains(parse_err("'abc'"), "expected a value"));

  const char* bad_utf8[] = {
      "\"\x80\"",              // lone continuation byte
      "\"\xC0\xAF\"",          // overlong '/'
      "\"\xC1\xBF\"",          // overlong
      "\"\xE0\x80\xAF\"",      // overlong 3-byte
      "\"\xF0\x80\x80\xAF\"",  // overlong 4-byte
      "\"\xED\xA0\x80\"",      // encoded surrogate U+D800
      "\"\xED\xBF\xBF\"",      // encoded surrogate U+DFFF
      "\"\xF4\x90\x80\x80\"",  // U+110000
      "\"\xF5\x80\x80\x80\"",  // lead byte beyond F4
      "\"\xFF\"",
      "\"\xC3\"",              // truncated by the quote
      "\"\xE2\x82\"",
      "\"\xF0\x9F\x98\"",
      "\"\xC3",                // truncated by the end of input
  };
  for (const char* t : bad_utf8) CHECK(contains(parse_err(t), "invalid UTF-8"));
}

TEST_CASE("json: structural errors name source, line, column and what was expected") {
  CHECK(parse_err("{\n  \"a\": 1,\n  \"b\": 2 ]") == "t.json:3:10: expected ',' or '}', found ']'");
  CHECK(parse_err("[1 2]") == "t.json:1:4: expected ',' or ']', found '2'");
  CHECK(parse_err("[1,]") == "t.json:1:4: expected a value, found ']'");
  CHECK(parse_err("{,}") == "t.json:1:2: expected '\"' (member name) or '}', found ','");
  CHECK(parse_err("{\"a\":1,}") == "t.json:1:8: expected '\"' (member name), found '}'");
  CHECK(parse_err("{\"a\" 1}") == "t.json:1:6: expected ':' after member name, found '1'");
  CHECK(parse_err("{1:2}") == "t.json:1:2: expected '\"' (member name) or '}', found '1'");
  CHECK(parse_err("") == "t.json:1:1: expected a value, found end of input");
  CHECK(parse_err("  \n ") == "t.json:2:2: expected a value, found end of input");
  CHECK(parse_err("[") == "t.json:1:2: expected a value, found end of input");
  CHECK(parse_err("{\"a\":1") == "t.json:1:7: expected ',' or '}', found end of input");
  CHECK(parse_err("[1] x") == "t.json:1:5: expected end of input after the top-level value, found 'x'");
  CHECK(parse_err("{} {}") == "t.json:1:4: expected end of input after the top-level value, found '{'");
  CHECK(parse_err("[nul]") == "t.json:1:2: expected a value, found 'n'");
  CHECK(parse_err("truex") == "t.json:1:5: expected end of input after the top-level value, found 'x'");
  CHECK(parse_err("[1] // c") == "t.json:1:5: expected end of input after the top-level value, found '/'");
  CHECK(parse_err(std::string("[1]\0", 4)) ==
        "t.json:1:4: expected end of input after the top-level value, found byte 0x00");
  CHECK(parse_err("\x0B[]") == "t.json:1:1: expected a value, found byte 0x0B");  // VT is not JSON whitespace
  // Columns count characters: "é" is one column although two bytes.
  CHECK(parse_err("[\"\xC3\xA9\" x]") == "t.json:1:6: expected ',' or ']', found 'x'");
  // The unterminated string is reported where it starts.
  CHECK(parse_err("[\n \"abc") == "t.json:2:2: unterminated string, found '\"'");
}

TEST_CASE("json: a leading UTF-8 byte order mark is skipped") {
  CHECK(parse_ok("\xEF\xBB\xBF{\"a\":1}").find("a")->as_number() == 1.0);
  CHECK(contains(parse_err("\xEF\xBB\xBF\xEF\xBB\xBF{}"), "expected a value"));
}

TEST_CASE("json: nesting depth is capped at 512 without recursion") {
  auto nested = [](size_t depth, char open, char close, const char* inner) {
    std::string s;
    for (size_t i = 0; i < depth; ++i) {
      s += open;
      if (open == '{') s += "\"k\":";
    }
    s += inner;
    s += std::string(depth, close);
    return s;
  };
  CHECK(parse_ok(nested(512, '[', ']', "1")).is_array());
  CHECK(parse_ok(nested(512, '[', ']', "")).is_array());
  CHECK(parse_ok(nested(512, '{', '}', "1")).is_object());
  CHECK(contains(parse_err(nested(513, '[', ']', "1")), "nested deeper than 512"));
  CHECK(contains(parse_err(nested(512, '[', ']', "[]")), "nested deeper than 512"));
  CHECK(contains(parse_err(nested(513, '{', '}', "1")), "nested deeper than 512"));
  // A depth bomb far beyond the cap: an error, not a stack overflow.
  CHECK(contains(parse_err(std::string(1000000, '[')), "nested deeper than 512"));
  std::string mixed;
  for (int i = 0; i < 100000; ++i) mixed += "{\"a\":[";
  CHECK(contains(parse_err(mixed), "nested deeper than 512"));
  // Deep but within the cap: the DOM is copied and destroyed fine.
  JsonValue deep = parse_ok(nested(512, '[', ']', "7"));
  JsonValue copy = deep;
  const JsonValue* p = &copy;
  for (int i = 0; i < 512; ++i) p = &p->items()[0];
  CHECK(p->as_number() == 7.0);
}

TEST_CASE("json: every prefix and every single-byte change of a document is handled") {
  const std::string doc =
      "{\"architectures\": [\"BertModel\"], \"hidden_size\": 384, \"eps\": 1e-12,\n"
      " \"name\": \"caf\xC3\xA9 \\u00e9\\ud83d\\ude00\", \"flag\": true, \"none\": null, \"x\": [-0.5, {}]}";
  parse_ok(doc);
  // Every proper prefix of an object is incomplete.
  for (size_t n = 0; n < doc.size(); ++n) {
    JsonValue v;
    CHECK_FALSE(json_parse(std::string_view(doc).substr(0, n), "t.json", &v).ok());
  }
  // Byte substitutions: any outcome but a crash; errors are INVALID_ARGUMENT with a position.
  const unsigned char subs[] = {0x00, '"', '\\', '[', ']', '{', '}', ',', ':', '0', '-', 'e',
                                0x80, 0xC3, 0xED, 0xFF};
  for (size_t i = 0; i < doc.size(); ++i) {
    for (unsigned char c : subs) {
      std::string m = doc;
      m[i] = static_cast<char>(c);
      JsonValue v;
      const Status s = json_parse(m, "t.json", &v);
      if (!s.ok()) {
        CHECK(s.code() == HEED_ERROR_INVALID_ARGUMENT);
        CHECK(std::string(s.message()).rfind("t.json:", 0) == 0);
      }
    }
  }
}

TEST_CASE("json: a failed parse leaves the output untouched") {
  JsonValue v = parse_ok("[1,2,3]");
  CHECK_FALSE(json_parse("[1,2", "t.json", &v).ok());
  CHECK(v.items().size() == 3);
}

TEST_CASE("json: field helpers") {
  JsonValue cfg = parse_ok(R"({"hidden_size": 384, "float_int": 768.0, "frac": 0.5, "huge": 1e30,
      "big_literal": 9223372036854775808, "neg": -3, "name": "bert", "flag": false,
      "nothing": null, "eps": 1e-12})");
  int64_t i = -1;
  CHECK(json_get_int(cfg, "hidden_size", "config.json", &i).ok());
  CHECK(i == 384);
  CHECK(json_get_int(cfg, "float_int", "config.json", &i).ok());
  CHECK(i == 768);
  CHECK(json_get_int(cfg, "neg", "config.json", &i).ok());
  CHECK(i == -3);

  i = 99;
  Status s = json_get_int(cfg, "num_heads", "config.json", &i);
  CHECK(s.code() == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(s.message()) == "config.json: missing field 'num_heads'");
  s = json_get_int(cfg, "frac", "config.json", &i);
  CHECK(std::string(s.message()) == "config.json: field 'frac' must be an integer, found 0.5");
  s = json_get_int(cfg, "huge", "config.json", &i);
  CHECK(contains(s.message(), "config.json: field 'huge' must be an integer"));
  s = json_get_int(cfg, "big_literal", "config.json", &i);
  CHECK(contains(s.message(), "config.json: field 'big_literal' must be an integer"));
  s = json_get_int(cfg, "name", "config.json", &i);
  CHECK(std::string(s.message()) == "config.json: field 'name' must be an integer, found a string");
  s = json_get_int(cfg, "nothing", "config.json", &i);
  CHECK(std::string(s.message()) == "config.json: field 'nothing' must be an integer, found null");
  CHECK(i == 99);  // untouched on error

  double d = 0;
  CHECK(json_get_number(cfg, "eps", "config.json", &d).ok());
  CHECK(d == 1e-12);
  CHECK(json_get_number(cfg, "hidden_size", "config.json", &d).ok());
  CHECK(d == 384.0);
  CHECK(std::string(json_get_number(cfg, "flag", "config.json", &d).message()) ==
        "config.json: field 'flag' must be a number, found a boolean");

  std::string str;
  CHECK(json_get_string(cfg, "name", "config.json", &str).ok());
  CHECK(str == "bert");
  CHECK(std::string(json_get_string(cfg, "hidden_size", "config.json", &str).message()) ==
        "config.json: field 'hidden_size' must be a string, found 384");
  CHECK(std::string(json_get_string(cfg, "model_type", "config.json", &str).message()) ==
        "config.json: missing field 'model_type'");

  bool b = true;
  CHECK(json_get_bool(cfg, "flag", "config.json", &b).ok());
  CHECK_FALSE(b);
  CHECK(std::string(json_get_bool(cfg, "name", "config.json", &b).message()) ==
        "config.json: field 'name' must be a boolean, found a string");

  // On a non-object every field is missing.
  JsonValue arr = parse_ok("[1]");
  CHECK(std::string(json_get_int(arr, "x", "c.json", &i).message()) == "c.json: missing field 'x'");
}

TEST_CASE("json: files") {
  testing::TempDir dir;
  testing::write_file(dir.file("config.json"), "{\n  \"a\": 1,\n  \"b\": [true false]\n}\n");
  testing::write_file(dir.file("ok.json"), "{\"hidden_size\": 384}");
  JsonValue v;
  REQUIRE(json_parse_file(dir.file("ok.json"), &v).ok());
  CHECK(v.find("hidden_size")->as_number() == 384.0);

  Status s = json_parse_file(dir.file("config.json"), &v);
  CHECK(s.code() == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(s.message()) == "config.json:3:14: expected ',' or ']', found 'f'");

  s = json_parse_file(dir.file("missing.json"), &v);
  CHECK(s.code() == HEED_ERROR_IO);
  CHECK(contains(s.message(), "missing.json"));
  s = json_parse_file(dir.path(), &v);
  CHECK(s.code() == HEED_ERROR_IO);
  CHECK(contains(s.message(), "not a regular file"));
  CHECK(v.find("hidden_size") != nullptr);  // untouched by the failures
}

TEST_CASE("json: a tokenizer.json-sized document parses quickly") {
  // ~1 MB shaped like a WordPiece tokenizer.json: a big vocab object plus arrays.
  std::string text = "{\"version\": \"1.0\", \"added_tokens\": [";
  for (int i = 0; i < 5; ++i) {
    if (i) text += ',';
    text += "{\"id\": " + std::to_string(i) + ", \"content\": \"[unused" + std::to_string(i) +
            "]\", \"special\": true, \"lstrip\": false}";
  }
  text += "], \"model\": {\"type\": \"WordPiece\", \"vocab\": {";
  for (int i = 0; i < 50000; ++i) {
    if (i) text += ", ";
    text += "\"##tok\\u00e9n" + std::to_string(i) + "\": " + std::to_string(i);
  }
  text += "}, \"merges\": [";
  for (int i = 0; i < 10000; ++i) {
    if (i) text += ", ";
    text += "[\"a" + std::to_string(i) + "\", \"b\"]";
  }
  text += "]}}";
  CHECK(text.size() > 1000000);

  const auto t0 = std::chrono::steady_clock::now();
  JsonValue v = parse_ok(text);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("parsed ", text.size(), " bytes in ", ms, " ms");
  const JsonValue* vocab = v.find("model")->find("vocab");
  REQUIRE(vocab != nullptr);
  REQUIRE(vocab->members().size() == 50000);
  CHECK(vocab->members()[123].first == "##tok\xC3\xA9n123");
  CHECK(vocab->members()[49999].second.as_number() == 49999.0);
  CHECK(v.find("model")->find("merges")->items().size() == 10000);
  // Generous bound (sanitizers, slow CI); catches quadratic behaviour, not tuning.
  CHECK(ms < 2000.0);
}

TEST_CASE("json: per-file value and depth caps stop the DOM before it grows") {
  // A tiny document holding many values is the memory bomb (about 80 bytes of
  // DOM per value): the cap counts values as they are parsed.
  JsonLimits limits;
  limits.max_values = 1000;
  std::string arr = "[";
  for (int i = 0; i < 999; ++i) arr += i ? ",0" : "0";
  arr += "]";  // 1000 values: the array and its 999 elements
  JsonValue v;
  CHECK(json_parse(arr, "t.json", &v, limits).ok());
  arr.insert(1, "0,");
  const Status s = json_parse(arr, "t.json", &v, limits);
  CHECK(s.code() == HEED_ERROR_OUT_OF_MEMORY);
  CHECK(contains(s.message(), "more than 1000 values in one document"));
  limits.max_depth = 3;
  CHECK(json_parse("[[[1]]]", "t.json", &v, limits).ok());
  CHECK(contains(parse_err_with("[[[[1]]]]", limits), "nested deeper than 3"));
  // A cap above the parser's own is the parser's own.
  limits.max_depth = 100000;
  CHECK(contains(parse_err_with(std::string(1000, '['), limits), "nested deeper than 512"));
}

TEST_CASE("json: json_parse_file applies the caller's byte cap") {
  testing::TempDir dir;
  testing::write_file(dir.file("a.json"), "{\"a\": [1, 2, 3]}");
  JsonValue v;
  CHECK(json_parse_file(dir.file("a.json"), &v, 16).ok());
  const Status s = json_parse_file(dir.file("a.json"), &v, 15);
  CHECK(s.code() == HEED_ERROR_OUT_OF_MEMORY);
  CHECK(contains(s.message(), "larger than the 15-byte cap"));
  JsonLimits few;
  few.max_values = 4;
  CHECK(json_parse_file(dir.file("a.json"), &v, 100, few).code() == HEED_ERROR_OUT_OF_MEMORY);
}

TEST_CASE("json: as_integer_literal accepts integer literals only") {
  int64_t x = 0;
  CHECK(parse_ok("5").as_integer_literal(&x));
  CHECK(x == 5);
  CHECK(parse_ok("-7").as_integer_literal(&x));
  CHECK(x == -7);
  for (const char* t : {"5.0", "5e0", "5.5", "\"5\"", "true", "null", "18446744073709551615"}) {
    INFO(t);
    CHECK_FALSE(parse_ok(t).as_integer_literal(&x));
  }
  CHECK(parse_ok("5.0").as_int64(&x));  // the lenient form still reads config integers
}

}  // TEST_SUITE("fast")

}  // namespace
}  // namespace heed::conv
