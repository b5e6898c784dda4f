// Reading a Hugging Face directory (hf/hf-dir.h, arch/bert.cc's config
// checks): where Hugging Face defines the behaviour heed follows it, where it
// would tokenize in a way heed does not implement heed refuses, naming the
// file and field; counts are bounded before anything is allocated (I1, H2,
// H3, G1 of docs/SECURITY.md).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "arch/arch.h"
#include "hf/hf-dir.h"
#include "io-test-util.h"

namespace heed::conv {
namespace {

using testing::TempDir;
using testing::write_file;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

const char* const kConfig =
    R"({"model_type": "bert", "architectures": ["BertModel"], "hidden_size": 8, "num_hidden_layers": 1,
        "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 32, "vocab_size": 8})";

// kConfig with more members; a key already there is overridden (the last
// duplicate wins, as in Python's json).
std::string with(const std::string& members) {
  std::string c = kConfig;
  c.insert(c.rfind('}'), ", " + members);
  return c;
}

const std::vector<std::string> kVocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "##s"};

std::string added(int id, const std::string& content, const std::string& extra = "") {
  return R"({"id": )" + std::to_string(id) + R"(, "content": ")" + content +
         R"(", "special": true, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false)" + extra +
         "}";
}

// A tokenizer.json in the format of Hugging Face `tokenizers`, with parts
// replaceable by the tests.
struct TokenizerJson {
  std::string vocab_ids;  // "" = kVocab with ids 0..7
  std::string model_extra;
  std::string normalizer = R"({"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                               "strip_accents": null, "lowercase": true})";
  std::string post_processor = R"({"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
      "pair": [], "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                                     "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}})";
  std::string added_tokens = "[" + added(0, "[PAD]") + ", " + added(1, "[UNK]") + ", " + added(2, "[CLS]") + ", " +
                             added(3, "[SEP]") + ", " + added(4, "[MASK]") + "]";

  std::string str() const {
    std::string v = vocab_ids;
    if (v.empty()) {
      for (size_t i = 0; i < kVocab.size(); ++i) v += (i ? ", \"" : "\"") + kVocab[i] + "\": " + std::to_string(i);
    }
    return R"({"version": "1.0", "added_tokens": )" + added_tokens + R"(, "normalizer": )" + normalizer +
           R"(, "pre_tokenizer": {"type": "BertPreTokenizer"}, "post_processor": )" + post_processor +
           R"(, "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
               "max_input_chars_per_word": 100)" + model_extra + R"(, "vocab": {)" + v + "}}}";
  }
};

struct Dir {
  TempDir tmp;
  explicit Dir(const std::string& config = kConfig) { write_file(tmp.file("config.json"), config); }
  Status tokenizer(IrTokenizer* t) {
    HfDir d;
    HEED_RETURN_IF_ERROR(hf_open(tmp.path(), &d));
    return hf_read_tokenizer(&d, t);
  }
  Status config(IrGraph* g) {
    HfDir d;
    HEED_RETURN_IF_ERROR(hf_open(tmp.path(), &d));
    SafeTensors none;  // the config is checked before any weight is looked up
    return bert_build(d, none, g, nullptr, nullptr);
  }
};

TEST_SUITE("fast") {

TEST_CASE("hf: a valid tokenizer.json reads; ids come from the post-processor") {
  Dir d;
  TokenizerJson tj;
  write_file(d.tmp.file("tokenizer.json"), tj.str());
  IrTokenizer t;
  REQUIRE(d.tokenizer(&t).ok());
  CHECK(t.vocab == kVocab);
  CHECK(t.cls_id == 2);
  CHECK(t.sep_id == 3);
  CHECK(t.special_ids == std::vector<int32_t>{0, 1, 2, 3, 4});
  CHECK(t.strip_accents);  // null follows lowercase
  // BertProcessing names its ids directly.
  tj.post_processor = R"({"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 4]})";
  write_file(d.tmp.file("tokenizer.json"), tj.str());
  REQUIRE(d.tokenizer(&t).ok());
  CHECK(t.cls_id == 4);
}

// A Llama-style BPE tokenizer.json; `edit` replaces one part.
std::string llama_json(const std::string& merges = R"(["\u2581 a", "a b"])", const std::string& extra_model = "",
                       const std::string& decoder = "", const std::string& normalizer = "",
                       const std::string& pre = "null") {
  const std::string dec = decoder.empty() ? R"({"type": "Sequence", "decoders": [
      {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"},
      {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]})"
                                          : decoder;
  const std::string norm = normalizer.empty() ? R"({"type": "Sequence", "normalizers": [
      {"type": "Prepend", "prepend": "\u2581"}, {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]})"
                                              : normalizer;
  return R"({"version": "1.0", "added_tokens": [)" + added(0, "<unk>") + ", " + added(1, "<s>") + R"(],
    "normalizer": )" + norm + R"(, "pre_tokenizer": )" + pre + R"(,
    "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
      {"Sequence": {"id": "A", "type_id": 0}}], "pair": [],
      "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
    "decoder": )" + dec + R"(,
    "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "continuing_subword_prefix": null,
      "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": true)" + extra_model + R"(,
      "vocab": {"<unk>": 0, "<s>": 1, "\u2581": 2, "a": 3, "b": 4, "\u2581a": 5, "ab": 6}, "merges": )" + merges + "}}";
}

TEST_CASE("hf: a Llama-style BPE tokenizer.json reads into BPE tables") {
  Dir d;
  write_file(d.tmp.file("tokenizer.json"), llama_json());
  IrTokenizer t;
  Status st = d.tokenizer(&t);
  REQUIRE_MESSAGE(st.ok(), st.message());
  CHECK(t.kind == TokenizerKind::kBpeSentencePiece);
  CHECK(t.merges == std::vector<uint32_t>{2, 3, 3, 4});
  CHECK(t.bpe_flags == (kBpePrependSpace | kBpeReplaceSpace | kBpeByteFallback | kBpeFuseUnk));
  CHECK(t.unk_id == 0);
  CHECK(t.bos_id == 1);
  CHECK(t.eos_id == -1);
  CHECK(t.decode_strip == 1);
  CHECK(t.special_ids == std::vector<int32_t>{0, 1});
  // Merges as [a, b] pairs read the same.
  write_file(d.tmp.file("tokenizer.json"), llama_json(R"([["\u2581", "a"], ["a", "b"]])"));
  IrTokenizer p;
  REQUIRE(d.tokenizer(&p).ok());
  CHECK(p.merges == t.merges);
}

TEST_CASE("hf: BPE tokenizer.json parts heed does not implement are refused, naming the field") {
  auto refused = [](const std::string& json, const char* field) {
    Dir d;
    write_file(d.tmp.file("tokenizer.json"), json);
    IrTokenizer t;
    Status st = d.tokenizer(&t);
    CHECK(!st.ok());
    CHECK_MESSAGE(contains(st.message(), field), st.message());
  };
  refused(llama_json(R"(["a c"])"), "model.merges[0]");
  refused(llama_json(R"(["\u2581 b"])"), "model.merges[0]");  // "\u2581b" is not a token
  refused(llama_json(R"(["a  b"])"), "model.merges[0]");
  refused(llama_json(R"([["a"]])"), "model.merges[0]");
  refused(llama_json(R"(["\u2581 a", 7])"), "model.merges[1]");
  refused(llama_json("[]", R"(, "dropout": 0.5)"), "model.dropout");
  refused(llama_json("[]", R"(, "continuing_subword_prefix": "##")"), "model.continuing_subword_prefix");
  refused(llama_json("[]", R"(, "unk_token": "<nope>")"), "model.unk_token");
  refused(llama_json("[]", R"(, "fuse_unk": 1)"), "fuse_unk");
  refused(llama_json("[]", "", "null"), "decoder");
  refused(llama_json("[]", "", R"({"type": "Sequence", "decoders": [{"type": "ByteFallback"}]})"), "decoder");
  refused(llama_json("[]", "", "", R"({"type": "NFKC"})"), "normalizer.type");
  refused(llama_json("[]", "", "", R"({"type": "Prepend", "prepend": "_"})"), "normalizer");
  refused(llama_json("[]", "", "", "", R"({"type": "Whitespace"})"), "pre_tokenizer.type");
  // Byte level: no normalizer, a ByteLevel decoder.
  refused(llama_json("[]", "", R"({"type": "ByteLevel"})", "", R"({"type": "ByteLevel"})"), "normalizer.type");
  refused(llama_json("[]", "", "", R"(null)", R"({"type": "ByteLevel"})"), "decoder.type");
}

TEST_CASE("hf: tokenizer.json values Hugging Face would not accept are refused, naming the field") {
  struct Case {
    const char* what;
    void (*edit)(TokenizerJson*);
    heed_status code;
    const char* message;
  };
  const Case cases[] = {
      {"float id", [](TokenizerJson* t) { t->vocab_ids = R"("[PAD]": 0, "[UNK]": 1.0, "[CLS]": 2, "[SEP]": 3)"; },
       HEED_ERROR_INVALID_ARGUMENT, "model.vocab['[UNK]'] must be an integer id"},
      {"fractional id", [](TokenizerJson* t) { t->vocab_ids = R"("[PAD]": 0, "[UNK]": 1, "[CLS]": 2.5, "[SEP]": 3)"; },
       HEED_ERROR_INVALID_ARGUMENT, "model.vocab['[CLS]'] must be an integer id"},
      {"strip_accents yes",
       [](TokenizerJson* t) { t->normalizer = R"({"type": "BertNormalizer", "strip_accents": "yes"})"; },
       HEED_ERROR_INVALID_ARGUMENT, "'strip_accents' must be true, false or null"},
      {"lowercase 1", [](TokenizerJson* t) { t->normalizer = R"({"type": "BertNormalizer", "lowercase": 1})"; },
       HEED_ERROR_INVALID_ARGUMENT, "lowercase"},
      {"prefix not a string", [](TokenizerJson* t) { t->model_extra = R"(, "continuing_subword_prefix": 7)"; },
       HEED_ERROR_INVALID_ARGUMENT, "continuing_subword_prefix"},
      {"max_input_chars_per_word 1000", [](TokenizerJson* t) { t->model_extra = R"(, "max_input_chars_per_word": 1000)"; },
       HEED_ERROR_UNSUPPORTED, "model.max_input_chars_per_word 1000 is not supported (heed supports 1..256)"},
      {"added id float", [](TokenizerJson* t) { t->added_tokens = "[" + added(0, "[PAD]") + R"(, {"id": 2.0, "content": "[CLS]", "special": true}])"; },
       HEED_ERROR_INVALID_ARGUMENT, "added_tokens[1]: id must be an integer id"},
      {"added content differs", [](TokenizerJson* t) { t->added_tokens = "[" + added(2, "<s>") + "]"; },
       HEED_ERROR_UNSUPPORTED, "content '<s>' that differs from the vocabulary's piece of id 2"},
      {"added not special", [](TokenizerJson* t) { t->added_tokens = R"([{"id": 5, "content": "the", "special": false}])"; },
       HEED_ERROR_UNSUPPORTED, "non-special added tokens are not supported"},
      {"added lstrip", [](TokenizerJson* t) { t->added_tokens = "[" + added(4, "[MASK]").replace(added(4, "[MASK]").find("\"lstrip\": false"), 15, "\"lstrip\": true") + "]"; },
       HEED_ERROR_UNSUPPORTED, "lstrip = true"},
      {"post_processor null", [](TokenizerJson* t) { t->post_processor = "null"; },
       HEED_ERROR_UNSUPPORTED, "post_processor null is not supported"},
      {"post_processor Roberta", [](TokenizerJson* t) { t->post_processor = R"({"type": "RobertaProcessing"})"; },
       HEED_ERROR_UNSUPPORTED, "post_processor.type 'RobertaProcessing'"},
      {"template two ids", [](TokenizerJson* t) {
         t->post_processor = R"({"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
             {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
             "special_tokens": {"[CLS]": {"ids": [2, 4]}, "[SEP]": {"ids": [3]}}})"; },
       HEED_ERROR_UNSUPPORTED, "more than one id"},
      {"template id out of range", [](TokenizerJson* t) {
         t->post_processor = R"({"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
             {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
             "special_tokens": {"[CLS]": {"ids": [99]}, "[SEP]": {"ids": [3]}}})"; },
       HEED_ERROR_INVALID_ARGUMENT, "special_tokens['[CLS]'].ids[0] must be an integer id in [0, 8)"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    Dir d;
    TokenizerJson tj;
    c.edit(&tj);
    write_file(d.tmp.file("tokenizer.json"), tj.str());
    IrTokenizer t;
    const Status s = d.tokenizer(&t);
    CHECK(s.code() == c.code);
    CHECK(contains(s.message(), c.message));
    CHECK(contains(s.message(), "tokenizer.json"));
  }
}

TEST_CASE("hf: more special tokens than the runtime holds are refused by the converter") {
  // 1100 pieces, each an added special token: the runtime's cap is 1024.
  Dir d;
  TokenizerJson tj;
  tj.vocab_ids.clear();
  tj.added_tokens = "[";
  for (int i = 0; i < 1100; ++i) {
    const std::string piece = i < 5 ? kVocab[size_t(i)] : "[unused" + std::to_string(i) + "]";
    tj.vocab_ids += (i ? ", \"" : "\"") + piece + "\": " + std::to_string(i);
    tj.added_tokens += (i ? ", " : "") + added(i, piece);
  }
  tj.added_tokens += "]";
  write_file(d.tmp.file("tokenizer.json"), tj.str());
  IrTokenizer t;
  const Status s = d.tokenizer(&t);
  CHECK(s.code() == HEED_ERROR_UNSUPPORTED);
  CHECK(contains(s.message(), "added_tokens lists 1100 special tokens; more than heed's cap of 1024"));
}

TEST_CASE("hf: vocab.txt: a piece listed twice has its last id, as in Hugging Face") {
  Dir d;
  write_file(d.tmp.file("vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\n[CLS]\ncat\r\n##s\n");
  IrTokenizer t;
  REQUIRE(d.tokenizer(&t).ok());
  CHECK(t.cls_id == 6);
  CHECK(t.vocab.size() == 9);
  CHECK(t.vocab[7] == "cat");  // CRLF line end stripped
  // tokenizer_config.json names the special tokens (string or AddedToken form).
  write_file(d.tmp.file("tokenizer_config.json"),
             R"({"do_lower_case": false, "cls_token": {"content": "the"}, "sep_token": "cat",
                 "tokenize_chinese_chars": false, "strip_accents": null})");
  t = IrTokenizer();
  REQUIRE(d.tokenizer(&t).ok());
  CHECK(t.cls_id == 5);
  CHECK(t.sep_id == 7);
  CHECK_FALSE(t.lowercase);
  CHECK_FALSE(t.strip_accents);
  CHECK_FALSE(t.handle_chinese_chars);
}

TEST_CASE("hf: vocab.txt and tokenizer_config.json that are malformed are refused, naming the line or field") {
  struct Case {
    std::string vocab, config, message;
  };
  const Case cases[] = {
      {"[PAD]\n[UNK]\n[CLS]\n[SEP]\nca\xff" "t\n", "", "vocab.txt:5: token is not valid UTF-8"},
      {"[PAD]\n[UNK]\n\n[CLS]\n[SEP]\n", "", "vocab.txt:3: empty token"},
      {"[PAD]\n[UNK]\n[CLS]\n[SEP]\na\rb\n", "", "vocab.txt:5: carriage return inside a token"},
      {"[PAD]\n[UNK]\n[CLS]\n[SEP]\n", R"({"strip_accents": "yes"})", "'strip_accents' must be true, false or null"},
      {"[PAD]\n[UNK]\n[CLS]\n[SEP]\n", R"({"do_lower_case": "true"})", "do_lower_case"},
      {"[PAD]\n[UNK]\n[CLS]\n[SEP]\n", R"({"cls_token": 5})", "'cls_token' must be a string"},
      {"[PAD]\n[UNK]\n[SEP]\n", "", "special token '[CLS]' is not in the vocabulary"},
  };
  for (const Case& c : cases) {
    INFO(c.message);
    Dir d;
    write_file(d.tmp.file("vocab.txt"), c.vocab);
    if (!c.config.empty()) write_file(d.tmp.file("tokenizer_config.json"), c.config);
    IrTokenizer t;
    const Status s = d.tokenizer(&t);
    CHECK(s.code() == HEED_ERROR_INVALID_ARGUMENT);
    CHECK(contains(s.message(), c.message));
  }
}

TEST_CASE("hf: a FIFO or a directory under a file's name is named as such, not as missing") {
  for (const char* name : {"config.json", "tokenizer.json", "vocab.txt", "sentence_bert_config.json", "modules.json"}) {
    INFO(name);
    Dir d;
    write_file(d.tmp.file("vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n");
    ::unlink(d.tmp.file(name).c_str());
    const bool fifo = std::string(name) != "modules.json";
    REQUIRE((fifo ? ::mkfifo(d.tmp.file(name).c_str(), 0600) : ::mkdir(d.tmp.file(name).c_str(), 0700)) == 0);
    alarm(20);  // a blocking open would hang here: fail instead
    IrTokenizer t;
    const Status s = d.tokenizer(&t);
    alarm(0);
    CHECK(s.code() == HEED_ERROR_IO);
    CHECK(contains(s.message(), std::string(name) + ": not a regular file (" + (fifo ? "a FIFO" : "a directory") + ")"));
  }
}

TEST_CASE("hf: config counts are bounded before anything is allocated for them") {
  struct Case {
    std::string edit, message;
  };
  const Case cases[] = {
      {R"("architectures": ["BertForSequenceClassification"], "num_labels": 1000000000000)",
       "field 'num_labels' is 1000000000000, outside 1..65536"},
      {R"("architectures": ["BertForSequenceClassification"], "num_labels": 70000)",
       "field 'num_labels' is 70000, outside 1..65536"},
      {R"("architectures": ["BertForSequenceClassification"], "num_labels": 0)", "field 'num_labels' is 0"},
      {R"("architectures": ["BertForSequenceClassification"], "id2label": {"0": "a", "00": "b"})", "'id2label'"},
      {R"("architectures": ["BertForSequenceClassification"], "id2label": {"0": "a", "2": "b"})", "'id2label'"},
      {R"("layer_norm_eps": 1e-50)", "field 'layer_norm_eps' is 1e-50, outside 1e-30..1"},
      {R"("layer_norm_eps": 5)", "field 'layer_norm_eps' is 5"},
      {R"("num_attention_heads": 8192, "hidden_size": 8192)", "field 'num_attention_heads' is 8192, outside 1..4096"},
      {R"("num_attention_heads": 1, "hidden_size": 8192)", "head size cap of 4096"},
      {R"("max_position_embeddings": 100000)", "field 'max_position_embeddings' is 100000, outside 2..65536"},
      {R"("vocab_size": 5000000000)", "field 'vocab_size' is 5000000000"},
      {R"("position_embedding_type": 5)", "'position_embedding_type' must be a string"},
  };
  for (const Case& c : cases) {
    INFO(c.edit);
    Dir d(with(c.edit));
    IrGraph g;
    const auto t0 = std::chrono::steady_clock::now();
    const Status s = d.config(&g);
    CHECK(s.code() == HEED_ERROR_INVALID_ARGUMENT);
    CHECK(contains(s.message(), "config.json: "));
    CHECK(contains(s.message(), c.message));
    CHECK(g.labels.empty());
    // Not a timing gate: 10^12 label strings would take hours, not a minute.
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60));
  }
}

TEST_CASE("hf: labels follow transformers: id2label wins over num_labels, else LABEL_i") {
  // Both reach the weights (none here): the labels are set before that.
  const std::string cls = R"("architectures": ["BertForSequenceClassification"], )";
  Dir d(with(cls + R"("id2label": {"1": "b\u0000\t\nz", "0": "a"}, "num_labels": 7)"));
  IrGraph g;
  const Status s = d.config(&g);
  CHECK(contains(s.message(), "missing tensor"));
  REQUIRE(g.labels.size() == 2);
  CHECK(g.labels[0] == "a");
  CHECK(g.labels[1] == std::string("b\0\t\nz", 5));
  Dir d2(with(cls + R"("num_labels": 3)"));
  IrGraph g2;
  CHECK(contains(d2.config(&g2).message(), "missing tensor"));
  CHECK(g2.labels == std::vector<std::string>{"LABEL_0", "LABEL_1", "LABEL_2"});
}

TEST_CASE("hf: generation ids: generation_config.json replaces config.json (as from_pretrained); eos may be a list") {
  auto read = [](const std::string& config, const char* generation_config, HfGenerationIds* out) {
    Dir d(config);
    if (generation_config) write_file(d.tmp.file("generation_config.json"), generation_config);
    HfDir h;
    HEED_RETURN_IF_ERROR(hf_open(d.tmp.path(), &h));
    const size_t before = h.read.size();
    const Status s = hf_read_generation_ids(&h, 1, 2, out);
    // generation_config.json is an input (checksummed, never the output).
    CHECK(h.read.size() == before + (generation_config ? 1 : 0));
    return s;
  };
  HfGenerationIds g;
  REQUIRE(read(kConfig, nullptr, &g).ok());  // absent from config.json: the architecture's defaults
  CHECK(g.bos == 1);
  CHECK(g.eos == std::vector<int64_t>{2});
  CHECK(contains(g.source, "config.json"));
  REQUIRE(read(with(R"("bos_token_id": null, "eos_token_id": null)"), nullptr, &g).ok());  // null: none
  CHECK(g.bos == -1);
  CHECK(g.eos.empty());
  REQUIRE(read(with(R"("bos_token_id": 5, "eos_token_id": [7, 3, 7])"), nullptr, &g).ok());
  CHECK(g.bos == 5);
  CHECK(g.eos == std::vector<int64_t>{7, 3, 7});  // as written (the converter drops repeats)
  // generation_config.json wins as a whole: a field it lacks is none there.
  REQUIRE(read(with(R"("bos_token_id": 5, "eos_token_id": 6)"), R"({"eos_token_id": [4, 1]})", &g).ok());
  CHECK(g.bos == -1);
  CHECK(g.eos == std::vector<int64_t>{4, 1});
  CHECK(contains(g.source, "generation_config.json"));
  REQUIRE(read(with(R"("eos_token_id": 6)"), R"({"bos_token_id": 0, "eos_token_id": 9})", &g).ok());
  CHECK(g.bos == 0);
  CHECK(g.eos == std::vector<int64_t>{9});
  REQUIRE(read(kConfig, "{}", &g).ok());
  CHECK(g.eos.empty());
  // Malformed: named by file and field.
  Status s = read(with(R"("eos_token_id": "</s>")"), nullptr, &g);
  CHECK(s.code() == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(contains(s.message(), "config.json: field 'eos_token_id' must be an integer id, a list of them or null"));
  s = read(kConfig, R"({"eos_token_id": [2, "x"]})", &g);
  CHECK(contains(s.message(), "generation_config.json: field 'eos_token_id'[1] must be an integer id"));
  s = read(kConfig, R"({"bos_token_id": [1]})", &g);
  CHECK(contains(s.message(), "field 'bos_token_id' must be an integer id or null"));
  std::string many = "[0";
  for (int i = 1; i < 65; ++i) many += ", " + std::to_string(i);
  s = read(kConfig, (R"({"eos_token_id": )" + many + "]}").c_str(), &g);
  CHECK(contains(s.message(), "lists 65 ids (heed reads at most 64)"));
  s = read(kConfig, "[1]", &g);
  CHECK(contains(s.message(), "generation_config.json: top level must be an object"));
}

}  // TEST_SUITE
}  // namespace
}  // namespace heed::conv
