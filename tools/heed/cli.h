// Shared helpers of the `heed` subcommands. Each subcommand lives in its own
// file and returns a process exit code (0 ok, 1 failed, 2 usage error).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace heed::cli {

struct Args {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> flags;  // --name value (value "" for switches)
  bool has(const std::string& name) const;
  // Value of the last occurrence of `name`, or `fallback`.
  std::string get(const std::string& name, const std::string& fallback = "") const;
};

// Parses argv; `valued` lists flags that take a value. Returns false with a
// message on unknown flags or a missing value.
bool parse_args(int argc, char** argv, const std::vector<std::string>& valued,
                const std::vector<std::string>& switches, Args* out, std::string* error);

// The one parser of numeric flags: unsigned decimal digits only (no sign,
// space, prefix or suffix), in [min, max]. Absent flag: `fallback`. On
// failure *error names the flag, the value and the range, e.g.
//   "--iters: ' -1' is not an integer in 1..1000000".
bool flag_uint(const Args& args, const char* name, uint64_t fallback, uint64_t min, uint64_t max,
               uint64_t* out, std::string* error);

// "1,2,3": decimal token ids in 0..INT32_MAX separated by single commas, at
// most max_count of them (checked before each one is stored). *error names
// `flag` ("--ids: ...").
// --kv auto|f32|int8 into a heed_kv_cache_type (auto without the flag).
bool flag_kv_cache(const Args& args, int* out, std::string* err);
// The attention flags every model command takes (kAttentionFlags), as one
// pattern spec for heed_session_options.attention (grammar in
// runtime/src/ops/attention-spec.h; empty without the flags): --attention
// SPEC, then --window N|dense, --global K (the first K tokens),
// --global-at P:Q:.. (these positions) and --sinks K appended to it. The
// session checks the spec against the model.
extern const char* const kAttentionFlags[5];
bool flag_attention(const Args& args, std::string* spec, std::string* err);
bool parse_ids(const std::string& s, const char* flag, size_t max_count, std::vector<int32_t>* out,
               std::string* error);

// Longest stdin line a text command accepts by default, and the most
// --max-line-bytes may ask for.
constexpr uint64_t kDefaultMaxLineBytes = uint64_t{1} << 20;
constexpr uint64_t kMaxLineBytesCap = uint64_t{256} << 20;

// Texts of a text command: the positional arguments from index `first`, or
// else stdin, one text per line ('\n'; a final line without it counts),
// streamed: one line is read, handled and printed before the next is read,
// so memory stays at one line whatever stdin holds.
class TextSource {
 public:
  enum class Next { kText, kEnd, kTooLong, kReadError };
  TextSource(const Args& args, size_t first, uint64_t max_line_bytes);
  // kTooLong: a line longer than max_line_bytes (the rest of it is skipped,
  // never stored); where() names it.
  Next next(std::string* text);
  // "argument 2" or "stdin line 12": the text next() returned last.
  std::string where() const;

 private:
  bool fill();
  const Args& args_;
  size_t arg_ = 0;
  bool from_stdin_ = false;
  uint64_t max_line_ = 0;
  uint64_t line_no_ = 0;
  char buf_[1 << 16];
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false, error_ = false;
};

// JSON string literal of arbitrary bytes: '"', '\\' and control characters
// escaped, each byte that is not valid UTF-8 as \ufffd: always valid JSON.
// Every JSON string heed prints goes through this.
void print_json_string(FILE* f, std::string_view s);

// Text-output form of arbitrary bytes (labels, names from a model file):
// valid printable UTF-8 as is; '\\' as \\, tab \t, newline \n, CR \r; other
// control characters (C0, DEL, C1) and invalid UTF-8 bytes as \xHH. The
// result has no tab, newline or terminal control sequence, and the original
// bytes can be recovered from it.
std::string escape_text(std::string_view s);

// The kernels a table holds, one "family: variant" per entry (bench,
// inspect). Declared here, defined in cmd-bench.cc (it needs the runtime's
// internal kernel tables).
struct KernelNames {
  const char* isa;
  std::vector<std::pair<const char*, const char*>> families;  // family, variant
};
KernelNames kernel_names(int isa_index);

int cmd_convert(int argc, char** argv);
int cmd_inspect(int argc, char** argv);
int cmd_tokenize(int argc, char** argv);
int cmd_embed(int argc, char** argv);
int cmd_classify(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_logits(int argc, char** argv);
int cmd_perplexity(int argc, char** argv);
int cmd_generate(int argc, char** argv);

}  // namespace heed::cli
