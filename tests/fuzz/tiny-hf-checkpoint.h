// A tiny, valid Hugging Face BERT checkpoint generated in C++, for fuzz-convert
// and its seeds: config.json, tokenizer.json, vocab.txt, tokenizer_config.json,
// the sentence-transformers configs (sentence_bert_config.json, modules.json,
// 1_Pooling/config.json) and model.safetensors with float32 weights of every
// tensor converter/src/arch/bert.cc reads. hidden 8, 2 heads, intermediate 16,
// 32 positions, a 40-piece WordPiece vocabulary.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace heed::fuzz {

struct TinyHfOptions {
  bool classify = false;             // BertForSequenceClassification ("bert." prefix, pooler, classifier)
  int layers = 1;                    // 1 or 2
  bool three_labels = false;         // classification: id2label with 3 labels (else 2)
  bool strip_accents_false = false;  // strip_accents false (else null) in both tokenizer files
  bool crlf_vocab = false;           // vocab.txt with "\r\n" line ends
  bool bert_processing = false;      // tokenizer.json post_processor BertProcessing (else TemplateProcessing)
  bool cls_pooling = false;          // 1_Pooling/config.json: CLS pooling (else mean)
};

// The files in write order: path inside the model directory -> content.
using TinyHfFiles = std::vector<std::pair<std::string, std::string>>;

inline constexpr int kTinyHfHidden = 8;
inline constexpr int kTinyHfHeads = 2;
inline constexpr int kTinyHfIntermediate = 16;
inline constexpr int kTinyHfPositions = 32;

inline const std::vector<std::string>& tiny_hf_vocab() {
  static const std::vector<std::string> v = {
      "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the",  "cat",  "sat",   "on",    "mat",
      "a",     "dog",   "##s",   "##ing", "##ed",   "run",  "quick", "brown", "fox",  "jump",
      "over",  "lazy",  "man",   "is",    "play",   "in",   "of",   "and",   "to",    "how",
      "do",    "i",     "you",   "can",   "rain",   ".",    ",",    "!",     "?",     "caf"};
  return v;
}

// ---- safetensors ------------------------------------------------------------

// Float32 tensors in the order added, serialized as u64 LE header length |
// JSON header (dtype, shape, data_offsets; padded with spaces to 8 bytes, as
// the safetensors library does) | little-endian data.
class SafetensorsBuilder {
 public:
  void add(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& data) {
    tensors_.push_back({name, std::move(shape), data});
  }
  std::string bytes() const {
    std::string header = "{\"__metadata__\":{\"format\":\"pt\"}";
    std::string payload;
    for (const Tensor& t : tensors_) {
      std::string shape;
      for (int64_t d : t.shape) shape += (shape.empty() ? "" : ",") + std::to_string(d);
      const size_t begin = payload.size();
      payload.append(reinterpret_cast<const char*>(t.data.data()), t.data.size() * sizeof(float));  // LE hosts
      header += ",\"" + t.name + "\":{\"dtype\":\"F32\",\"shape\":[" + shape + "],\"data_offsets\":[" +
                std::to_string(begin) + "," + std::to_string(payload.size()) + "]}";
    }
    header += "}";
    header.resize((header.size() + 7) / 8 * 8, ' ');
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[size_t(i)] = char((uint64_t(header.size()) >> (8 * i)) & 0xFF);
    return out + header + payload;
  }

 private:
  struct Tensor {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> data;
  };
  std::vector<Tensor> tensors_;
};

// n values uniform in center +- scale, from a fixed seed.
inline std::vector<float> tiny_hf_random(size_t n, uint32_t seed, float scale = 0.1f, float center = 0.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(center - scale, center + scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

inline std::string tiny_hf_safetensors(const TinyHfOptions& o) {
  const int64_t H = kTinyHfHidden, I = kTinyHfIntermediate, V = int64_t(tiny_hf_vocab().size());
  const std::string p = o.classify ? "bert." : "";
  SafetensorsBuilder st;
  uint32_t seed = 1000;
  auto add = [&](const std::string& name, std::vector<int64_t> shape) {
    size_t n = 1;
    for (int64_t d : shape) n *= size_t(d);
    const bool gamma = name.size() > 16 && name.compare(name.size() - 16, 16, "LayerNorm.weight") == 0;
    st.add(name, shape, tiny_hf_random(n, seed++, 0.1f, gamma ? 1.0f : 0.0f));
  };
  add(p + "embeddings.word_embeddings.weight", {V, H});
  add(p + "embeddings.position_embeddings.weight", {kTinyHfPositions, H});
  add(p + "embeddings.token_type_embeddings.weight", {2, H});
  add(p + "embeddings.LayerNorm.weight", {H});
  add(p + "embeddings.LayerNorm.bias", {H});
  for (int l = 0; l < o.layers; ++l) {
    const std::string L = p + "encoder.layer." + std::to_string(l) + ".";
    for (const char* part : {"query", "key", "value"}) {
      add(L + "attention.self." + part + ".weight", {H, H});
      add(L + "attention.self." + part + ".bias", {H});
    }
    add(L + "attention.output.dense.weight", {H, H});
    add(L + "attention.output.dense.bias", {H});
    add(L + "attention.output.LayerNorm.weight", {H});
    add(L + "attention.output.LayerNorm.bias", {H});
    add(L + "intermediate.dense.weight", {I, H});
    add(L + "intermediate.dense.bias", {I});
    add(L + "output.dense.weight", {H, I});
    add(L + "output.dense.bias", {H});
    add(L + "output.LayerNorm.weight", {H});
    add(L + "output.LayerNorm.bias", {H});
  }
  if (o.classify) {
    const int64_t labels = o.three_labels ? 3 : 2;
    add(p + "pooler.dense.weight", {H, H});
    add(p + "pooler.dense.bias", {H});
    add("classifier.weight", {labels, H});
    add("classifier.bias", {labels});
  }
  return st.bytes();
}

// ---- JSON and text files ----------------------------------------------------

inline std::string tiny_hf_config(const TinyHfOptions& o) {
  std::string labels;
  if (o.classify) {
    labels = o.three_labels ? R"("id2label":{"0":"negative","1":"neutral","2":"positive"},)"
                              R"("label2id":{"negative":0,"neutral":1,"positive":2},)"
                            : R"("id2label":{"0":"LABEL_0","1":"LABEL_1"},"label2id":{"LABEL_0":0,"LABEL_1":1},)";
  }
  return std::string("{\n") + R"(  "architectures": [")" +
         (o.classify ? "BertForSequenceClassification" : "BertModel") + "\"],\n" +
         R"(  "attention_probs_dropout_prob": 0.1, "classifier_dropout": null, "hidden_act": "gelu",)" "\n"
         R"(  "hidden_dropout_prob": 0.1, "hidden_size": 8, )" + labels + "\n" +
         R"(  "initializer_range": 0.02, "intermediate_size": 16, "layer_norm_eps": 1e-12,)" "\n"
         R"(  "max_position_embeddings": 32, "model_type": "bert", "num_attention_heads": 2,)" "\n"
         R"(  "num_hidden_layers": )" + std::to_string(o.layers) + ", " +
         R"("pad_token_id": 0, "position_embedding_type": "absolute",)" "\n"
         R"(  "torch_dtype": "float32", "transformers_version": "4.41.2", "type_vocab_size": 2,)" "\n"
         R"(  "use_cache": true, "vocab_size": )" + std::to_string(tiny_hf_vocab().size()) + "\n}\n";
}

inline std::string tiny_hf_tokenizer_json(const TinyHfOptions& o) {
  const std::vector<std::string>& v = tiny_hf_vocab();
  std::string added;
  for (int id = 0; id < 5; ++id) {
    added += std::string(id ? ",\n" : "") + R"(    {"id": )" + std::to_string(id) + R"(, "content": ")" + v[size_t(id)] +
             R"(", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true})";
  }
  std::string vocab;
  for (size_t i = 0; i < v.size(); ++i) vocab += std::string(i ? ", " : "") + "\"" + v[i] + "\": " + std::to_string(i);
  const char* strip = o.strip_accents_false ? "false" : "null";
  const std::string post_processor =
      o.bert_processing
          ? R"(  "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},)" "\n"
          : R"(  "post_processor": {"type": "TemplateProcessing",)" "\n"
            R"(    "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},)"
            R"( {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],)" "\n"
            R"(    "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},)"
            R"( {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},)"
            R"( {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],)" "\n"
            R"(    "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},)"
            R"( "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},)" "\n";
  return std::string("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n") +
         "  \"added_tokens\": [\n" + added + "\n  ],\n" +
         R"(  "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, )" +
         "\"strip_accents\": " + strip + ", \"lowercase\": true},\n" +
         R"(  "pre_tokenizer": {"type": "BertPreTokenizer"},)" "\n" + post_processor +
         R"(  "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},)" "\n"
         R"(  "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",)"
         R"( "max_input_chars_per_word": 100,)" "\n    \"vocab\": {" + vocab + "}}\n}\n";
}

inline std::string tiny_hf_vocab_txt(const TinyHfOptions& o) {
  std::string s;
  for (const std::string& piece : tiny_hf_vocab()) s += piece + (o.crlf_vocab ? "\r\n" : "\n");
  return s;
}

// BertTokenizer's settings; with strip_accents_false also an AddedToken
// object for mask_token, as newer transformers versions write it.
inline std::string tiny_hf_tokenizer_config(const TinyHfOptions& o) {
  const std::string mask = o.strip_accents_false
                               ? R"({"__type": "AddedToken", "content": "[MASK]", "lstrip": true, "normalized": false,)"
                                 R"( "rstrip": false, "single_word": false})"
                               : "\"[MASK]\"";
  return std::string("{\n") + R"(  "clean_up_tokenization_spaces": true, "cls_token": "[CLS]", "do_basic_tokenize": true,)" "\n"
         R"(  "do_lower_case": true, "mask_token": )" + mask + ",\n" +
         R"(  "model_max_length": 32, "never_split": null, "pad_token": "[PAD]", "sep_token": "[SEP]",)" "\n"
         "  \"strip_accents\": " + (o.strip_accents_false ? "false" : "null") + ", " +
         R"("tokenize_chinese_chars": true, "tokenizer_class": "BertTokenizer", "unk_token": "[UNK]"})" "\n";
}

// sentence-transformers' Pooling module config: mean (or CLS) pooling.
inline std::string tiny_hf_pooling_config(const TinyHfOptions& o) {
  const char* cls = o.cls_pooling ? "true" : "false";
  const char* mean = o.cls_pooling ? "false" : "true";
  return std::string("{\n") + R"(  "word_embedding_dimension": 8, "pooling_mode_cls_token": )" + cls +
         ", \"pooling_mode_mean_tokens\": " + mean + ",\n" +
         R"(  "pooling_mode_max_tokens": false, "pooling_mode_mean_sqrt_len_tokens": false,)" "\n"
         R"(  "pooling_mode_weightedmean_tokens": false, "pooling_mode_lasttoken": false, "include_prompt": true)" "\n"
         "}\n";
}

inline TinyHfFiles tiny_hf_checkpoint(const TinyHfOptions& o) {
  return {
      {"config.json", tiny_hf_config(o)},
      {"tokenizer.json", tiny_hf_tokenizer_json(o)},
      {"vocab.txt", tiny_hf_vocab_txt(o)},
      {"tokenizer_config.json", tiny_hf_tokenizer_config(o)},
      {"sentence_bert_config.json", "{\n  \"max_seq_length\": 16,\n  \"do_lower_case\": false\n}\n"},
      {"modules.json",
       "[\n"
       R"(  {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},)" "\n"
       R"(  {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},)" "\n"
       R"(  {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})" "\n"
       "]\n"},
      {"1_Pooling/config.json", tiny_hf_pooling_config(o)},
      {"model.safetensors", tiny_hf_safetensors(o)},
  };
}

// ---- fuzz-convert's input ---------------------------------------------------

// First byte of a fuzz-convert input; the rest replaces one file.
//   bits 0-2  which file (kTinyHfFuzzedFiles; 7 means config.json too)
//   bit 3     classification variant
//   bits 4-5  precision: int8 when both are 0 (1 in 4: it calibrates, slower), else fp32
//   bit 6     two layers instead of one
//   bit 7     classification variant: id2label with 3 labels (ignored otherwise)
// Selecting vocab.txt or tokenizer_config.json removes tokenizer.json, so the
// converter reads vocab.txt + tokenizer_config.json.
inline const char* const kTinyHfFuzzedFiles[7] = {
    "config.json",  "tokenizer.json", "vocab.txt", "tokenizer_config.json", "sentence_bert_config.json",
    "modules.json", "1_Pooling/config.json"};

struct TinyHfSelector {
  int file = 0;  // index into kTinyHfFuzzedFiles
  bool int8 = false;
  TinyHfOptions options;
};

inline TinyHfSelector tiny_hf_decode(uint8_t b) {
  TinyHfSelector s;
  s.file = (b & 7) % 7;
  s.options.classify = (b & 8) != 0;
  s.int8 = (b & 0x30) == 0;
  s.options.layers = (b & 0x40) ? 2 : 1;
  s.options.three_labels = s.options.classify && (b & 0x80) != 0;
  return s;
}

inline uint8_t tiny_hf_encode(int file, bool classify, bool int8, int layers = 1, bool three_labels = false) {
  return uint8_t(file | (classify ? 8 : 0) | (int8 ? 0 : 0x10) | (layers == 2 ? 0x40 : 0) | (three_labels ? 0x80 : 0));
}

}  // namespace heed::fuzz
