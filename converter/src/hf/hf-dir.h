// Reading a Hugging Face model directory: config.json, tokenizer.json (or
// vocab.txt), sentence-transformers configs, and the checksums of the files.
// Every error names the file and the field.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "io/json.h"
#include "ir.h"

namespace heed::conv {

struct HfDir {
  std::string path;
  JsonValue config;                  // config.json
  std::string config_name;           // "<dir>/config.json"
  std::string architecture;          // architectures[0]
  std::string model_type;            // "bert"
  int32_t st_max_seq_length = 0;     // sentence_bert_config.json, 0 if absent
  int pooling = 0;                   // 1 mean, 2 cls (modules.json + 1_Pooling)
  bool normalize = false;            // modules.json has a Normalize module
};

Status hf_open(const std::string& dir, HfDir* out);

// Reads tokenizer.json (WordPiece with BertNormalizer) or falls back to
// vocab.txt + tokenizer_config.json.
Status hf_read_tokenizer(const HfDir& dir, IrTokenizer* out);

// Size and SHA-256 of every regular file the conversion reads.
Status hf_source_files(const HfDir& dir, const std::vector<std::string>& names, std::vector<IrSourceFile>* out);

std::string path_join(const std::string& a, const std::string& b);
bool file_exists(const std::string& path);

}  // namespace heed::conv
