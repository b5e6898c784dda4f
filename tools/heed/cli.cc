#include "cli.h"

#include <heed/heed.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

// Internal header: the CLI escapes text with the runtime's strict UTF-8
// decoder, so "valid UTF-8" means the same thing here as in the tokenizer.
#include "tokenizer/utf8.h"
// Internal: the attention flags take up to kMaxSeq tokens, the runtime's cap.
#include "format/model.h"

namespace heed::cli {

bool Args::has(const std::string& name) const {
  for (const auto& f : flags)
    if (f.first == name) return true;
  return false;
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
  for (auto it = flags.rbegin(); it != flags.rend(); ++it)
    if (it->first == name) return it->second;
  return fallback;
}

bool parse_args(int argc, char** argv, const std::vector<std::string>& valued,
                const std::vector<std::string>& switches, Args* out, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      for (++i; i < argc; ++i) out->positional.push_back(argv[i]);
      break;
    }
    if (a.size() > 1 && a[0] == '-') {
      std::string value;
      const size_t eq = a.find('=');
      if (eq != std::string::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
      }
      if (std::find(valued.begin(), valued.end(), a) != valued.end()) {
        if (eq == std::string::npos) {
          if (i + 1 >= argc) {
            *error = "option " + a + " needs a value";
            return false;
          }
          value = argv[++i];
        }
        out->flags.emplace_back(a, value);
      } else if (std::find(switches.begin(), switches.end(), a) != switches.end()) {
        if (eq != std::string::npos) {
          *error = "option " + a + " takes no value";
          return false;
        }
        out->flags.emplace_back(a, "");
      } else {
        *error = "unknown option " + escape_text(a);
        return false;
      }
    } else {
      out->positional.push_back(a);
    }
  }
  return true;
}

bool flag_kv_cache(const Args& args, int* out, std::string* err) {
  const std::string s = args.has("--kv") ? args.get("--kv") : "auto";
  if (s == "auto") *out = HEED_KV_CACHE_AUTO;
  else if (s == "f32") *out = HEED_KV_CACHE_F32;
  else if (s == "int8") *out = HEED_KV_CACHE_INT8;
  else {
    *err = "--kv: '" + escape_text(s) + "' is not one of auto, f32, int8";
    return false;
  }
  return true;
}

const char* const kAttentionFlags[5] = {"--attention", "--window", "--global", "--global-at", "--sinks"};

bool flag_attention(const Args& args, std::string* spec, std::string* err) {
  spec->clear();
  auto add = [&](const std::string& item) { *spec += (spec->empty() ? "" : ",") + item; };
  if (args.has("--attention")) {
    if (args.get("--attention").empty()) {
      *err = "--attention needs a spec (e.g. window=256,global=2)";
      return false;
    }
    add(args.get("--attention"));
  }
  uint64_t v = 0;
  if (args.has("--window")) {
    if (args.get("--window") == "dense") {
      add("dense");
    } else if (flag_uint(args, "--window", 0, 1, uint64_t(kMaxSeq), &v, err)) {
      add("window=" + std::to_string(v));
    } else {
      *err += " (or 'dense')";
      return false;
    }
  }
  if (args.has("--global")) {
    if (!flag_uint(args, "--global", 0, 0, uint64_t(kMaxSeq), &v, err)) return false;
    add("global=" + std::to_string(v));
  }
  if (args.has("--global-at")) {
    const std::string& g = args.get("--global-at");
    if (g.empty() || g.find(',') != std::string::npos) {
      *err = "--global-at takes positions separated by ':' (e.g. 0:17:33)";
      return false;
    }
    add("global-at=" + g);
  }
  if (args.has("--sinks")) {
    if (!flag_uint(args, "--sinks", 0, 0, uint64_t(kMaxSeq), &v, err)) return false;
    add("sinks=" + std::to_string(v));
  }
  return true;
}

bool flag_uint(const Args& args, const char* name, uint64_t fallback, uint64_t min, uint64_t max,
               uint64_t* out, std::string* error) {
  if (!args.has(name)) {
    *out = fallback;
    return true;
  }
  const std::string s = args.get(name);
  uint64_t v = 0;
  bool ok = !s.empty() && s.size() <= 20;
  for (size_t i = 0; ok && i < s.size(); ++i) {
    const unsigned d = unsigned(static_cast<unsigned char>(s[i])) - '0';
    if (d > 9 || v > (UINT64_MAX - d) / 10) ok = false;
    else v = v * 10 + d;
  }
  if (!ok || v < min || v > max) {
    *error = std::string(name) + ": '" + escape_text(s) + "' is not an integer in " + std::to_string(min) + ".." +
             std::to_string(max);
    return false;
  }
  *out = v;
  return true;
}

TextSource::TextSource(const Args& args, size_t first, uint64_t max_line_bytes)
    : args_(args), arg_(first), from_stdin_(args.positional.size() <= first), max_line_(max_line_bytes) {}

bool TextSource::fill() {
  if (eof_ || error_) return false;
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buf_, sizeof buf_);
    if (n > 0) {
      pos_ = 0;
      end_ = size_t(n);
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    if (errno != EINTR) {
      error_ = true;
      return false;
    }
  }
}

TextSource::Next TextSource::next(std::string* text) {
  text->clear();
  if (!from_stdin_) {
    if (arg_ >= args_.positional.size()) return Next::kEnd;
    *text = args_.positional[arg_++];
    ++line_no_;
    return Next::kText;
  }
  bool any = false, too_long = false;
  for (;;) {
    if (pos_ == end_ && !fill()) break;
    any = true;
    const char* start = buf_ + pos_;
    const char* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - pos_));
    const size_t take = nl ? size_t(nl - start) : end_ - pos_;
    if (!too_long && text->size() + take > max_line_) {
      too_long = true;
      text->clear();
      text->shrink_to_fit();
    }
    if (!too_long) text->append(start, take);
    pos_ += take;
    if (nl) {
      ++pos_;
      break;
    }
  }
  if (error_) return Next::kReadError;
  if (!any) return Next::kEnd;
  ++line_no_;
  return too_long ? Next::kTooLong : Next::kText;
}

std::string TextSource::where() const {
  return (from_stdin_ ? "stdin line " : "argument ") + std::to_string(line_no_);
}

namespace {

// Walks arbitrary bytes: ascii(c) for each ASCII byte, sequence(p, n, cp) for
// each valid multi-byte UTF-8 sequence, invalid(c) for each byte that starts
// none.
template <typename Ascii, typename Sequence, typename Invalid>
void walk_utf8(std::string_view s, Ascii ascii, Sequence sequence, Invalid invalid) {
  const auto* b = reinterpret_cast<const uint8_t*>(s.data());
  for (size_t i = 0; i < s.size();) {
    if (b[i] < 0x80) {
      ascii(b[i++]);
      continue;
    }
    uint32_t cp;
    const size_t k = utf8::decode(b + i, s.size() - i, &cp);
    if (k == 1) invalid(b[i]);
    else sequence(s.data() + i, k, cp);
    i += k;
  }
}

// The escapes JSON and the text form share, or nullptr.
const char* short_escape(uint8_t c) {
  switch (c) {
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: return nullptr;
  }
}

bool is_control(uint8_t c) { return c < 0x20 || c == 0x7F; }

}  // namespace

void print_json_string(FILE* f, std::string_view s) {
  std::fputc('"', f);
  walk_utf8(
      s,
      [&](uint8_t c) {
        if (c == '"') std::fputs("\\\"", f);
        else if (const char* e = short_escape(c)) std::fputs(e, f);
        else if (is_control(c)) std::fprintf(f, "\\u%04x", c);
        else std::fputc(c, f);
      },
      [&](const char* p, size_t n, uint32_t) { std::fwrite(p, 1, n, f); },
      [&](uint8_t) { std::fputs("\\ufffd", f); });
  std::fputc('"', f);
}

std::string escape_text(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  auto hex = [&](uint8_t c) {
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 15];
  };
  walk_utf8(
      s,
      [&](uint8_t c) {
        if (const char* e = short_escape(c)) out += e;
        else if (is_control(c)) hex(c);
        else out += char(c);
      },
      [&](const char* p, size_t n, uint32_t cp) {
        if (cp <= 0x9F) {  // a C1 control (U+0080..U+009F)
          for (size_t k = 0; k < n; ++k) hex(uint8_t(p[k]));
        } else {
          out.append(p, n);
        }
      },
      hex);
  return out;
}

bool parse_ids(const std::string& s, const char* flag, size_t max_count, std::vector<int32_t>* out,
               std::string* error) {
  out->clear();
  size_t i = 0;
  while (true) {
    if (out->size() == max_count) {
      *error = std::string(flag) + ": more than the session's " + std::to_string(max_count) + " tokens";
      return false;
    }
    size_t start = i;
    uint64_t v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 11) v = v * 10 + uint64_t(s[i++] - '0');
    if (i == start || v > uint64_t(INT32_MAX) || (i < s.size() && s[i] != ',')) {
      *error = std::string(flag) + ": '" + escape_text(s.substr(start, 24)) + "' is not a token id in 0.." + std::to_string(INT32_MAX) +
               " (ids are decimal, separated by commas)";
      return false;
    }
    out->push_back(int32_t(v));
    if (i == s.size()) return true;
    ++i;  // the comma
  }
}

}  // namespace heed::cli
