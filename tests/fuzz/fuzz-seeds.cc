// Writes the seed corpora for the fuzz targets:
//   fuzz-seeds <dir>
// creates <dir>/fuzz-model-load, <dir>/fuzz-tokenize, <dir>/fuzz-bpe, <dir>/fuzz-safetensors,
// <dir>/fuzz-json and <dir>/fuzz-convert, one file per seed. Every seed model
// is loaded and run once here, so a broken seed fails the generator rather
// than silently shrinking the corpus (fuzz-convert checks at start that each
// unmodified checkpoint variant converts).
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz-common.h"
#include "tiny-hf-checkpoint.h"

namespace {

bool g_failed = false;

void make_dir(const std::string& d) {
  if (mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "fuzz-seeds: cannot create %s: %s\n", d.c_str(), std::strerror(errno));
    std::exit(1);
  }
}

void write_file(const std::string& path, const void* data, size_t n) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (n && std::fwrite(data, 1, n, f) != n) || std::fclose(f) != 0) {
    std::fprintf(stderr, "fuzz-seeds: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}
void write_file(const std::string& path, const std::string& s) { write_file(path, s.data(), s.size()); }

// Loads, creates a session and runs once: the seed must be a working model.
void check_model(const std::string& name, const std::vector<uint8_t>& bytes) {
  heed::fuzz::AlignedCopy a(bytes.data(), bytes.size());
  heed_model* m = nullptr;
  heed_status s = heed_model_load_from_buffer(a.ptr, a.size, &m);
  if (s != HEED_OK) {
    std::fprintf(stderr, "fuzz-seeds: seed %s does not load: %s\n", name.c_str(), heed_last_error());
    g_failed = true;
    return;
  }
  heed_model_info info;
  heed_model_get_info(m, &info);
  heed_session_options o;
  heed_session_options_init(&o);
  o.max_seq = info.max_seq < 16 ? info.max_seq : 16;
  heed_session* sess = nullptr;
  s = heed_session_create(m, &o, nullptr, 0, &sess);
  float out[256];
  size_t n = 0;
  // A model with a BPE tokenizer (heed_detokenize works) takes ids, not text.
  size_t text_len = 0;
  const bool bpe = heed_detokenize(m, nullptr, 0, 0, nullptr, 0, &text_len) == HEED_OK;
  if (s == HEED_OK && bpe) {
    const int32_t ids[2] = {1, 2};
    s = heed_session_run(sess, ids, 2, out, 256, &n);
  } else if (s == HEED_OK) {
    s = info.task == HEED_TASK_SEQUENCE_CLASSIFICATION ? heed_classify_text(sess, "the cat", SIZE_MAX, out, 256, &n)
                                                       : heed_embed_text(sess, "the cat", SIZE_MAX, out, 256, &n);
  }
  if (s != HEED_OK) {
    std::fprintf(stderr, "fuzz-seeds: seed %s does not run: %s\n", name.c_str(), heed_last_error());
    g_failed = true;
  } else {
    std::printf("  %-32s %7zu bytes  %s %s, output %zu\n", name.c_str(), bytes.size(), info.architecture,
                info.precision, n);
  }
  heed_session_free(sess);
  heed_model_free(m);
}

// safetensors file: u64 LE header length | header JSON | data.
std::string safetensors(const std::string& header, const std::string& payload) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[size_t(i)] = char((n >> (8 * i)) & 0xFF);
  return out + header + payload;
}

std::string f32_bytes(std::vector<float> v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(&s[0], v.data(), s.size());  // little-endian hosts only (x86-64, aarch64)
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz-seeds <dir>\n");
    return 2;
  }
  const std::string root = argv[1];
  make_dir(root);

  // ---- models
  const std::string md = root + "/fuzz-model-load";
  make_dir(md);
  std::printf("fuzz-model-load seeds:\n");
  for (const auto& [name, bytes] : heed::fuzz::seed_models()) {
    if (bytes.empty()) {
      std::fprintf(stderr, "fuzz-seeds: seed %s does not serialize\n", name.c_str());
      g_failed = true;
      continue;
    }
    check_model(name, bytes);
    write_file(md + "/" + name, bytes.data(), bytes.size());
  }

  // ---- texts
  const std::string td = root + "/fuzz-tokenize";
  make_dir(td);
  const std::vector<std::string> texts = {
      "",
      "The cat sat on the mat.",
      "the dogs running, a doggy's run! unaffable?",
      "Caf\xc3\xa9 cafe\xcc\x81 CAF\xc3\x89 na\xc3\xafve",           // precomposed and combining accents
      "\xe4\xb8\xad\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e text \xe6\x97\xa5\xe6\x9c\xac",  // CJK
      "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xf0\x9f\x98\x80\xf0\x9f\x98\x80 \xce\xa3\xce\xbf\xcf\x86",
      "hello[MASK]world [CLS] [SEP][unused0][PAD]",
      "supercalifragilisticexpialidocious antidisestablishmentarianism",
      std::string("nul\0inside\ttab\nnewline\r\x01\x7f", 25),
      "\xff\xfe\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80 bad utf-8 \xe2\x82",  // invalid, overlong, surrogate, > U+10FFFF
      "\xe2\x80\x8b\xe2\x80\x83\xc2\xa0zero\xe2\x80\x8dwidth\xef\xbb\xbf",
      std::string(300, 'a') + " " + std::string(70, 'x'),
      "1 2 3 0123 x2 x3 q q q",
  };
  for (size_t i = 0; i < texts.size(); ++i) write_file(td + "/text-" + std::to_string(i) + ".txt", texts[i]);

  // ---- BPE: the same texts behind a mode byte (text / ids, byte level / sentencepiece)
  const std::string bd = root + "/fuzz-bpe";
  make_dir(bd);
  for (size_t i = 0; i < texts.size(); ++i) {
    for (char mode : {'\x00', '\x01', '\x02', '\x03'}) {
      write_file(bd + "/bpe-" + std::to_string(i) + "-" + std::to_string(int(mode)), std::string(1, mode) + texts[i]);
    }
  }

  // ---- safetensors
  const std::string sd = root + "/fuzz-safetensors";
  make_dir(sd);
  write_file(sd + "/f32.safetensors",
             safetensors(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
                         R"("b":{"dtype":"F32","shape":[3],"data_offsets":[24,36]}})",
                         f32_bytes({1, 2, 3, 4, 5, 6, -1, 0.5f, 1e-40f})));
  write_file(sd + "/mixed.safetensors",
             safetensors(R"({"__metadata__":{"format":"pt"},)"
                         R"("h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},)"
                         R"("bf":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},)"
                         R"("ids":{"dtype":"I64","shape":[1],"data_offsets":[8,16]},)"
                         R"("mask":{"dtype":"BOOL","shape":[],"data_offsets":[16,17]},)"
                         R"("e":{"dtype":"F32","shape":[0,4],"data_offsets":[17,17]}})",
                         std::string("\x00\x3c\x00\xfc\x80\x3f\x80\x7f\x07\x00\x00\x00\x00\x00\x00\x00\x01", 17)));
  write_file(sd + "/hole.safetensors",
             safetensors(R"({"a":{"dtype":"I8","shape":[4],"data_offsets":[8,12]},)"
                         R"("d":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})",
                         std::string(12, '\x11')));
  write_file(sd + "/empty.safetensors", safetensors("{}", ""));
  write_file(sd + "/padded.safetensors",
             safetensors(R"({"x":{"dtype":"U16","shape":[1,1,1,1],"data_offsets":[0,2]}}        )", "ab"));

  // ---- json (config.json, tokenizer.json fragments, edge cases)
  const std::string jd = root + "/fuzz-json";
  make_dir(jd);
  const std::vector<std::string> jsons = {
      R"({"architectures":["BertModel"],"hidden_size":384,"num_attention_heads":12,)"
      R"("intermediate_size":1536,"layer_norm_eps":1e-12,"max_position_embeddings":512,)"
      R"("model_type":"bert","num_hidden_layers":6,"vocab_size":30522,"id2label":{"0":"NEG","1":"POS"}})",
      R"({"version":"1.0","added_tokens":[{"id":0,"content":"[PAD]","special":true}],)"
      R"("normalizer":{"type":"BertNormalizer","clean_text":true,"lowercase":true,"strip_accents":null},)"
      R"("model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##",)"
      R"("max_input_chars_per_word":100,"vocab":{"[PAD]":0,"[UNK]":1,"the":2}}})",
      R"(["\u0000\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00",-0,0.0,-1.5e-3,1E+2,9223372036854775807,)"
      R"(-9223372036854775808,9223372036854775808,1e-400,4.9406564584124654e-324,true,false,null])",
      "\xef\xbb\xbf {\"bom\" : [ ] , \"dup\":1, \"dup\":2, \"\":{}}\n",
      std::string(40, '[') + std::string(40, ']'),
      "\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"",
      "123",
  };
  for (size_t i = 0; i < jsons.size(); ++i) write_file(jd + "/json-" + std::to_string(i) + ".json", jsons[i]);
  // safetensors headers are JSON too.
  for (const char* f : {"f32", "mixed", "hole"}) {
    FILE* in = std::fopen((sd + "/" + f + ".safetensors").c_str(), "rb");
    std::string s;
    int c;
    while (in && (c = std::fgetc(in)) != EOF) s.push_back(char(c));
    if (in) std::fclose(in);
    uint64_t n = 0;
    for (int i = 0; i < 8 && size_t(i) < s.size(); ++i) n |= uint64_t(uint8_t(s[size_t(i)])) << (8 * i);
    if (s.size() >= 8 + n) write_file(jd + "/header-" + f + ".json", s.substr(8, n));
  }

  // ---- converter inputs: selector byte + one file of the tiny checkpoint
  // (tests/fuzz/tiny-hf-checkpoint.h), for both variants and both precisions.
  const std::string cd = root + "/fuzz-convert";
  make_dir(cd);
  using heed::fuzz::TinyHfOptions;
  size_t n_convert = 0;
  // Seeds for `o`'s checkpoint, one per fuzzed file (`only`: just that one).
  auto convert_seeds = [&](const std::string& tag, const TinyHfOptions& o, bool int8, const char* only = nullptr) {
    const heed::fuzz::TinyHfFiles files = heed::fuzz::tiny_hf_checkpoint(o);
    for (int f = 0; f < 7; ++f) {
      const std::string name = heed::fuzz::kTinyHfFuzzedFiles[f];
      if (only && name != only) continue;
      for (const auto& [n, content] : files) {
        if (n != name) continue;
        std::string seed(1, char(heed::fuzz::tiny_hf_encode(f, o.classify, int8, o.layers, o.three_labels)));
        std::string file = name;
        for (char& c : file) c = c == '/' ? '-' : c;
        write_file(cd + "/" + tag + (int8 ? "-int8-" : "-fp32-") + file, seed + content);
        ++n_convert;
      }
    }
  };
  for (bool classify : {false, true}) {
    for (bool int8 : {false, true}) {
      TinyHfOptions o;
      o.classify = classify;
      convert_seeds(classify ? "cls" : "emb", o, int8);
    }
  }
  {
    TinyHfOptions o;
    o.layers = 2;
    convert_seeds("emb-2layers", o, false, "config.json");
    o.classify = true;
    o.three_labels = true;
    convert_seeds("cls-2layers-3labels", o, false, "config.json");
    convert_seeds("cls-2layers-3labels", o, true, "config.json");
    o = TinyHfOptions();
    o.strip_accents_false = true;
    convert_seeds("emb-nostrip", o, false, "tokenizer.json");
    convert_seeds("emb-nostrip", o, false, "tokenizer_config.json");
    o = TinyHfOptions();
    o.crlf_vocab = true;
    convert_seeds("emb-crlf", o, false, "vocab.txt");
    o = TinyHfOptions();
    o.bert_processing = true;
    convert_seeds("emb-bertprocessing", o, false, "tokenizer.json");
    o = TinyHfOptions();
    o.cls_pooling = true;
    convert_seeds("emb-clspool", o, false, "1_Pooling/config.json");
  }
  std::printf("fuzz-convert seeds: %zu\n", n_convert);

  if (g_failed) return 1;
  std::printf("seeds written to %s\n", root.c_str());
  return 0;
}
