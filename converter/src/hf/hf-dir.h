// Reading a Hugging Face model directory: config.json, tokenizer.json (or
// vocab.txt), sentence-transformers configs, and the checksums of the files.
// Every error names the file and the field. Every file is opened without
// blocking and must be a regular file; each has a size cap, and each JSON
// document a value cap, checked before its DOM is built (docs/SECURITY.md).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "io/json.h"
#include "ir.h"

namespace heed::conv {

// config.json, tokenizer_config.json and the sentence-transformers configs.
inline constexpr uint64_t kConfigMaxBytes = uint64_t{16} << 20;
inline constexpr size_t kConfigMaxValues = size_t{1} << 20;
// tokenizer.json and vocab.txt.
inline constexpr uint64_t kTokenizerMaxBytes = uint64_t{64} << 20;
inline constexpr size_t kTokenizerMaxValues = size_t{1} << 22;

struct HfDir {
  std::string path;
  JsonValue config;                  // config.json
  std::string config_name;           // "<dir>/config.json"
  std::string architecture;          // architectures[0]
  std::string model_type;            // "bert"
  int32_t st_max_seq_length = 0;     // sentence_bert_config.json, 0 if absent
  int pooling = 0;                   // 1 mean, 2 cls (modules.json + 1_Pooling)
  bool normalize = false;            // modules.json has a Normalize module
  std::vector<std::string> read;     // every file read so far (paths)
};

Status hf_open(const std::string& dir, HfDir* out);

// Reads tokenizer.json (WordPiece with BertNormalizer, BertPreTokenizer and a
// [CLS] A [SEP] post-processor) or falls back to vocab.txt +
// tokenizer_config.json, as transformers' BertTokenizerFast does. Where
// Hugging Face defines a behaviour heed implements, heed follows it (a piece
// listed twice in vocab.txt has its last id); where it would behave in a way
// heed's tokenizer does not implement, or the file is malformed, the input is
// rejected naming the field.
Status hf_read_tokenizer(HfDir* dir, IrTokenizer* out);

// A causal LM's special ids for generation, as transformers' generate() sees
// them, before any range check: generation_config.json when the directory
// has one (from_pretrained replaces the generation config with it; a field
// absent or null there is "none"), else config.json (absent: the
// architecture's default, given here; null: none). eos_token_id may be an
// integer or a list of integers.
struct HfGenerationIds {
  std::string source;         // the file the ids come from
  int64_t bos = -1;           // -1: none
  std::vector<int64_t> eos;   // empty: none
};
Status hf_read_generation_ids(HfDir* dir, int64_t default_bos, int64_t default_eos, HfGenerationIds* out);

// Size and SHA-256 of every regular file the conversion reads.
Status hf_source_files(const HfDir& dir, const std::vector<std::string>& names, std::vector<IrSourceFile>* out);

std::string path_join(const std::string& a, const std::string& b);

}  // namespace heed::conv
