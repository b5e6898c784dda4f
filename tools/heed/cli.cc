#include "cli.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <iostream>

namespace heed::cli {

bool Args::has(const std::string& name) const {
  for (const auto& f : flags)
    if (f.first == name) return true;
  return false;
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
  for (const auto& f : flags)
    if (f.first == name) return f.second;
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
        out->flags.emplace_back(a, "");
      } else {
        *error = "unknown option " + a;
        return false;
      }
    } else {
      out->positional.push_back(a);
    }
  }
  return true;
}

std::vector<std::string> read_texts(const Args& args, size_t first) {
  std::vector<std::string> texts;
  if (args.positional.size() > first) {
    texts.assign(args.positional.begin() + long(first), args.positional.end());
    return texts;
  }
  std::string line;
  while (std::getline(std::cin, line)) texts.push_back(line);
  return texts;
}

bool parse_size(const std::string& s, size_t* out) {
  if (s.empty() || s[0] == '-') return false;
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (errno || *end) return false;
  *out = size_t(v);
  return true;
}

void print_json_string(FILE* f, const std::string& s) {
  std::fputc('"', f);
  for (unsigned char c : s) {
    switch (c) {
      case '"': std::fputs("\\\"", f); break;
      case '\\': std::fputs("\\\\", f); break;
      case '\n': std::fputs("\\n", f); break;
      case '\r': std::fputs("\\r", f); break;
      case '\t': std::fputs("\\t", f); break;
      default:
        if (c < 0x20) std::fprintf(f, "\\u%04x", c);
        else std::fputc(c, f);
    }
  }
  std::fputc('"', f);
}

}  // namespace heed::cli
