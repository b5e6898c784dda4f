// libFuzzer target: the converter's readers of a Hugging Face model directory
// (config.json, tokenizer.json, vocab.txt, tokenizer_config.json,
// sentence_bert_config.json, modules.json, 1_Pooling/config.json) through
// heed::conv::convert(), as `heed convert` runs it.
//
// The directory is the fixed valid tiny checkpoint of tiny-hf-checkpoint.h
// with one file replaced by the input after its first byte; that byte selects
// the file, the checkpoint variant and the precision (tiny_hf_decode).
// convert() must return OK or a listed error (INTERNAL is a finding: "converter
// produced an invalid model") with a message. On OK the output loads and runs
// one text; on error the output directory holds nothing (no model, no
// temporary file).
#include <dirent.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "convert.h"
#include "fuzz-common.h"
#include "tiny-hf-checkpoint.h"

namespace {

using heed::fuzz::TinyHfFiles;
using heed::fuzz::TinyHfOptions;

constexpr const char* kPrefix = "heed-fuzz-convert-";

std::string g_root;    // <tmp>/heed-fuzz-convert-<pid>-XXXXXX
std::string g_model;   // <root>/model: the checkpoint directory
std::string g_outdir;  // <root>/out
std::string g_output;  // <root>/out/model.heed
// What each checkpoint file holds on disk now; a missing key: not on disk.
std::map<std::string, std::string> g_on_disk;
bool g_verbose = false;  // HEED_FUZZ_VERBOSE set: print each input's status (for replays)

void remove_tree(const std::string& path) {
  nftw(path.c_str(), [](const char* p, const struct stat*, int, struct FTW*) { return ::remove(p); }, 16,
       FTW_DEPTH | FTW_PHYS);
}

void cleanup() {
  if (!g_root.empty()) remove_tree(g_root);
}

// Directories of earlier runs that died without cleaning up (a crash ends the
// process with _Exit, so atexit handlers do not run): named by a pid that no
// longer exists.
void remove_stale(const std::string& base) {
  DIR* d = opendir(base.c_str());
  if (!d) return;
  std::vector<std::string> stale;
  while (const dirent* e = readdir(d)) {
    if (std::strncmp(e->d_name, kPrefix, std::strlen(kPrefix)) != 0) continue;
    const long pid = std::strtol(e->d_name + std::strlen(kPrefix), nullptr, 10);
    if (pid > 0 && kill(pid_t(pid), 0) != 0 && errno == ESRCH) stale.push_back(base + "/" + e->d_name);
  }
  closedir(d);
  for (const std::string& s : stale) remove_tree(s);
}

// Makes `name` in the checkpoint hold `content`, or removes it (nullptr);
// writes only when that changes what is on disk.
void put(const std::string& name, const std::string* content) {
  auto it = g_on_disk.find(name);
  const std::string path = g_model + "/" + name;
  if (!content) {
    if (it == g_on_disk.end()) return;
    HEED_FUZZ_CHECK(::unlink(path.c_str()) == 0);
    g_on_disk.erase(it);
    return;
  }
  if (it != g_on_disk.end() && it->second == *content) return;
  FILE* f = std::fopen(path.c_str(), "wb");
  HEED_FUZZ_CHECK(f != nullptr);
  HEED_FUZZ_CHECK(content->empty() || std::fwrite(content->data(), 1, content->size(), f) == content->size());
  HEED_FUZZ_CHECK(std::fclose(f) == 0);
  g_on_disk[name] = *content;
}

// The valid checkpoint of one variant, generated once.
const TinyHfFiles& checkpoint(const TinyHfOptions& o) {
  static std::map<int, TinyHfFiles> cache;
  const int key = (o.classify ? 1 : 0) | (o.layers == 2 ? 2 : 0) | (o.three_labels ? 4 : 0);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, heed::fuzz::tiny_hf_checkpoint(o)).first;
  return it->second;
}

// Names in the output directory.
std::vector<std::string> outdir_entries() {
  std::vector<std::string> names;
  DIR* d = opendir(g_outdir.c_str());
  HEED_FUZZ_CHECK(d != nullptr);
  while (const dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
  }
  closedir(d);
  return names;
}

// Loads the converted model from its file and runs one short text with the
// call of its task.
void check_output(size_t file_bytes) {
  struct stat st;
  HEED_FUZZ_CHECK(::stat(g_output.c_str(), &st) == 0 && S_ISREG(st.st_mode));
  HEED_FUZZ_CHECK(size_t(st.st_size) == file_bytes);
  heed_model* m = nullptr;
  heed_status s = heed_model_load(g_output.c_str(), &m);
  HEED_FUZZ_CHECK(s == HEED_OK);
  heed_model_info info;
  HEED_FUZZ_CHECK(heed_model_get_info(m, &info) == HEED_OK);
  heed_session_options o;
  heed_session_options_init(&o);
  heed_session* sess = nullptr;
  HEED_FUZZ_CHECK(heed_session_create(m, &o, nullptr, 0, &sess) == HEED_OK);
  float out[64];
  size_t n = 0;
  const char* text = "The quick brown fox, caf\xc3\xa9!";
  s = info.task == HEED_TASK_SEQUENCE_CLASSIFICATION ? heed_classify_text(sess, text, SIZE_MAX, out, 64, &n)
                                                     : heed_embed_text(sess, text, SIZE_MAX, out, 64, &n);
  // NON_FINITE is documented for runs (weights that overflow on this text).
  HEED_FUZZ_CHECK(s == HEED_OK || heed::fuzz::is_listed_error(s) || s == HEED_ERROR_NON_FINITE);
  heed_session_free(sess);
  heed_model_free(m);
}

// One conversion of the checkpoint as it is on disk now; checks the contract.
heed_status convert_and_check(bool int8) {
  heed::conv::ConvertOptions o;
  o.input_dir = g_model;
  o.output_path = g_output;
  o.precision = int8 ? "int8" : "fp32";
  o.log = nullptr;
  heed::conv::ConvertResult r;
  const heed::Status s = heed::conv::convert(o, &r);
  if (g_verbose) std::fprintf(stderr, "convert (%s): %s %s\n", o.precision.c_str(), heed_status_name(s.code()), s.message());
  if (!s.ok()) {
    HEED_FUZZ_CHECK(heed::fuzz::is_listed_error(s.code()));  // INTERNAL: an invalid model was produced
    HEED_FUZZ_CHECK(s.message() != nullptr && s.message()[0] != '\0');
    HEED_FUZZ_CHECK(outdir_entries().empty());
    return s.code();
  }
  HEED_FUZZ_CHECK(outdir_entries() == std::vector<std::string>{"model.heed"});
  check_output(r.file_bytes);
  HEED_FUZZ_CHECK(::unlink(g_output.c_str()) == 0);
  return HEED_OK;
}

// Writes the checkpoint of `sel`'s variant with its file replaced by `fuzzed`.
void prepare(const heed::fuzz::TinyHfSelector& sel, const std::string* fuzzed) {
  const std::string replaced = fuzzed ? heed::fuzz::kTinyHfFuzzedFiles[sel.file] : "";
  const bool no_tokenizer_json = fuzzed && (replaced == "vocab.txt" || replaced == "tokenizer_config.json");
  for (const auto& [name, content] : checkpoint(sel.options)) {
    if (name == replaced) {
      put(name, fuzzed);
    } else if (name == "tokenizer.json" && no_tokenizer_json) {
      put(name, nullptr);
    } else {
      put(name, &content);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_verbose = std::getenv("HEED_FUZZ_VERBOSE") != nullptr;
  const char* tmp = std::getenv("TMPDIR");
  std::string base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : tmp && *tmp ? tmp : "/tmp";
  remove_stale(base);
  std::string tmpl = base + "/" + kPrefix + std::to_string(getpid()) + "-XXXXXX";
  HEED_FUZZ_CHECK(mkdtemp(&tmpl[0]) != nullptr);
  g_root = tmpl;
  std::atexit(cleanup);
  g_model = g_root + "/model";
  g_outdir = g_root + "/out";
  g_output = g_outdir + "/model.heed";
  for (const std::string& d : {g_model, g_model + "/1_Pooling", g_outdir}) HEED_FUZZ_CHECK(mkdir(d.c_str(), 0755) == 0);
  // Every unmodified variant converts (else the target would fuzz nothing).
  for (int v = 0; v < 6; ++v) {
    heed::fuzz::TinyHfSelector sel;
    sel.options.classify = v >= 2;
    sel.options.layers = v % 2 ? 2 : 1;
    sel.options.three_labels = v >= 4;
    prepare(sel, nullptr);
    HEED_FUZZ_CHECK(convert_and_check(false) == HEED_OK);
    if (v == 0 || v == 5) HEED_FUZZ_CHECK(convert_and_check(true) == HEED_OK);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const heed::fuzz::TinyHfSelector sel = heed::fuzz::tiny_hf_decode(data[0]);
  const std::string fuzzed(reinterpret_cast<const char*>(data) + 1, size - 1);
  prepare(sel, &fuzzed);
  if (g_verbose) {
    std::fprintf(stderr, "selector 0x%02x: %s replaced (%zu bytes), %s, %d layer(s)%s\n", data[0],
                 heed::fuzz::kTinyHfFuzzedFiles[sel.file], fuzzed.size(),
                 sel.options.classify ? "classification" : "embedding", sel.options.layers,
                 sel.options.three_labels ? ", 3 labels" : "");
  }
  convert_and_check(sel.int8);
  return 0;
}
