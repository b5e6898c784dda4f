#include "hf/hf-dir.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "io/sha256.h"

namespace heed::conv {

std::string path_join(const std::string& a, const std::string& b) {
  if (a.empty() || a.back() == '/') return a + b;
  return a + "/" + b;
}

bool file_exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Status hf_open(const std::string& dir, HfDir* out) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::Error(HEED_ERROR_IO, "%s: not a directory", dir.c_str());
  }
  out->path = dir;
  out->config_name = path_join(dir, "config.json");
  if (!file_exists(out->config_name)) {
    return Status::Error(HEED_ERROR_IO, "%s: missing (a Hugging Face model directory has config.json)",
                         out->config_name.c_str());
  }
  HEED_RETURN_IF_ERROR(json_parse_file(out->config_name, &out->config));
  if (!out->config.is_object()) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: top level must be an object", out->config_name.c_str());
  }
  HEED_RETURN_IF_ERROR(json_get_string(out->config, "model_type", out->config_name, &out->model_type));
  const JsonValue* archs = out->config.find("architectures");
  if (archs && archs->is_array() && !archs->items().empty() && archs->items()[0].is_string()) {
    out->architecture = archs->items()[0].as_string();
  } else if (archs && !archs->is_null()) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: field 'architectures' must be a list of strings",
                         out->config_name.c_str());
  }

  // sentence-transformers: max_seq_length, pooling and normalization.
  const std::string sbert = path_join(dir, "sentence_bert_config.json");
  if (file_exists(sbert)) {
    JsonValue v;
    HEED_RETURN_IF_ERROR(json_parse_file(sbert, &v));
    int64_t n = 0;
    if (v.find("max_seq_length")) {
      HEED_RETURN_IF_ERROR(json_get_int(v, "max_seq_length", sbert, &n));
      if (n < 2 || n > kMaxSeq) {
        return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: max_seq_length %lld out of range", sbert.c_str(),
                             (long long)n);
      }
      out->st_max_seq_length = int32_t(n);
    }
  }
  const std::string modules = path_join(dir, "modules.json");
  if (file_exists(modules)) {
    JsonValue v;
    HEED_RETURN_IF_ERROR(json_parse_file(modules, &v));
    if (!v.is_array()) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: must be a list", modules.c_str());
    for (const JsonValue& m : v.items()) {
      const JsonValue* type = m.find("type");
      const JsonValue* p = m.find("path");
      if (!type || !type->is_string()) {
        return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: module without a 'type' string", modules.c_str());
      }
      const std::string& t = type->as_string();
      if (t.find("Normalize") != std::string::npos) out->normalize = true;
      if (t.find("Pooling") != std::string::npos) {
        const std::string pcfg = path_join(path_join(dir, p && p->is_string() ? p->as_string() : "1_Pooling"),
                                           "config.json");
        out->pooling = 1;
        if (file_exists(pcfg)) {
          JsonValue pc;
          HEED_RETURN_IF_ERROR(json_parse_file(pcfg, &pc));
          bool mean = false, cls = false;
          if (pc.find("pooling_mode_mean_tokens")) HEED_RETURN_IF_ERROR(json_get_bool(pc, "pooling_mode_mean_tokens", pcfg, &mean));
          if (pc.find("pooling_mode_cls_token")) HEED_RETURN_IF_ERROR(json_get_bool(pc, "pooling_mode_cls_token", pcfg, &cls));
          for (const char* other : {"pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens"}) {
            const JsonValue* o = pc.find(other);
            if (o && o->is_bool() && o->as_bool()) {
              return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: %s is not supported", pcfg.c_str(), other);
            }
          }
          if (mean == cls) {
            return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: exactly one of mean or cls pooling must be set",
                                 pcfg.c_str());
          }
          out->pooling = mean ? 1 : 2;
        }
      }
    }
  }
  return Status::Ok();
}

namespace {

Status read_text_file(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::Error(HEED_ERROR_IO, "%s: cannot open", path.c_str());
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return Status::Ok();
}

Status vocab_id(const IrTokenizer& t, const std::string& piece, const std::string& src, int32_t* id) {
  for (size_t i = 0; i < t.vocab.size(); ++i) {
    if (t.vocab[i] == piece) {
      *id = int32_t(i);
      return Status::Ok();
    }
  }
  return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: special token '%s' is not in the vocabulary", src.c_str(),
                       piece.c_str());
}

Status read_tokenizer_json(const std::string& path, IrTokenizer* t) {
  JsonValue root;
  HEED_RETURN_IF_ERROR(json_parse_file(path, &root));
  const JsonValue* model = root.find("model");
  if (!model || !model->is_object()) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: missing field 'model'", path.c_str());
  std::string type;
  HEED_RETURN_IF_ERROR(json_get_string(*model, "type", path, &type));
  if (type != "WordPiece") {
    return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: model.type '%s' is not supported (WordPiece only)", path.c_str(),
                         type.c_str());
  }
  const JsonValue* vocab = model->find("vocab");
  if (!vocab || !vocab->is_object() || vocab->members().empty()) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: model.vocab must be a non-empty object", path.c_str());
  }
  const size_t n = vocab->members().size();
  if (n > (size_t(1) << 22)) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: vocabulary too large", path.c_str());
  t->vocab.assign(n, std::string());
  std::vector<uint8_t> seen(n, 0);
  for (const auto& [piece, idv] : vocab->members()) {
    if (!idv.is_number() || idv.as_number() < 0 || idv.as_number() >= double(n) ||
        idv.as_number() != double(int64_t(idv.as_number()))) {
      return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: model.vocab['%s'] must be an id in [0, %zu)",
                           path.c_str(), piece.c_str(), n);
    }
    const size_t id = size_t(idv.as_number());
    if (seen[id]) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: model.vocab: id %zu used twice", path.c_str(), id);
    seen[id] = 1;
    if (piece.empty()) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: model.vocab has an empty token", path.c_str());
    t->vocab[id] = piece;
  }
  std::string unk = "[UNK]";
  if (model->find("unk_token")) HEED_RETURN_IF_ERROR(json_get_string(*model, "unk_token", path, &unk));
  HEED_RETURN_IF_ERROR(vocab_id(*t, unk, path, &t->unk_id));
  if (const JsonValue* p = model->find("continuing_subword_prefix"); p && p->is_string()) t->continuing_prefix = p->as_string();
  if (model->find("max_input_chars_per_word")) {
    int64_t m = 0;
    HEED_RETURN_IF_ERROR(json_get_int(*model, "max_input_chars_per_word", path, &m));
    if (m <= 0 || m > 1 << 20) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: max_input_chars_per_word out of range", path.c_str());
    t->max_input_chars_per_word = int32_t(m);
  }
  // Normalizer: BertNormalizer (or none).
  const JsonValue* norm = root.find("normalizer");
  if (norm && !norm->is_null()) {
    std::string ntype;
    HEED_RETURN_IF_ERROR(json_get_string(*norm, "type", path, &ntype));
    if (ntype != "BertNormalizer") {
      return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: normalizer.type '%s' is not supported (BertNormalizer only)",
                           path.c_str(), ntype.c_str());
    }
    if (norm->find("clean_text")) HEED_RETURN_IF_ERROR(json_get_bool(*norm, "clean_text", path, &t->clean_text));
    if (norm->find("handle_chinese_chars")) HEED_RETURN_IF_ERROR(json_get_bool(*norm, "handle_chinese_chars", path, &t->handle_chinese_chars));
    if (norm->find("lowercase")) HEED_RETURN_IF_ERROR(json_get_bool(*norm, "lowercase", path, &t->lowercase));
    const JsonValue* sa = norm->find("strip_accents");
    t->strip_accents = (sa && sa->is_bool()) ? sa->as_bool() : t->lowercase;
  } else {
    t->clean_text = t->handle_chinese_chars = t->lowercase = t->strip_accents = false;
  }
  const JsonValue* pre = root.find("pre_tokenizer");
  if (pre && !pre->is_null()) {
    std::string ptype;
    HEED_RETURN_IF_ERROR(json_get_string(*pre, "type", path, &ptype));
    if (ptype != "BertPreTokenizer") {
      return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: pre_tokenizer.type '%s' is not supported", path.c_str(), ptype.c_str());
    }
  }
  // Special tokens: the added tokens flagged special are matched verbatim.
  if (const JsonValue* added = root.find("added_tokens"); added && added->is_array()) {
    for (const JsonValue& a : added->items()) {
      const JsonValue* sp = a.find("special");
      const JsonValue* id = a.find("id");
      if (sp && sp->is_bool() && sp->as_bool() && id && id->is_number()) {
        const double v = id->as_number();
        if (v < 0 || v >= double(t->vocab.size())) {
          return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: added_tokens id %g outside the vocabulary", path.c_str(), v);
        }
        t->special_ids.push_back(int32_t(v));
      }
    }
  }
  return Status::Ok();
}

Status read_vocab_txt(const std::string& path, IrTokenizer* t) {
  std::string text;
  HEED_RETURN_IF_ERROR(read_text_file(path, &text));
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s:%zu: empty token", path.c_str(), t->vocab.size() + 1);
    t->vocab.push_back(line);
  }
  if (t->vocab.empty()) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: empty vocabulary", path.c_str());
  HEED_RETURN_IF_ERROR(vocab_id(*t, "[UNK]", path, &t->unk_id));
  for (const char* s : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
    int32_t id;
    if (vocab_id(*t, s, path, &id).ok()) t->special_ids.push_back(id);
  }
  return Status::Ok();
}

}  // namespace

Status hf_read_tokenizer(const HfDir& dir, IrTokenizer* t) {
  const std::string tj = path_join(dir.path, "tokenizer.json");
  const std::string vt = path_join(dir.path, "vocab.txt");
  if (file_exists(tj)) {
    HEED_RETURN_IF_ERROR(read_tokenizer_json(tj, t));
  } else if (file_exists(vt)) {
    HEED_RETURN_IF_ERROR(read_vocab_txt(vt, t));
    const std::string tc = path_join(dir.path, "tokenizer_config.json");
    if (file_exists(tc)) {
      JsonValue v;
      HEED_RETURN_IF_ERROR(json_parse_file(tc, &v));
      if (v.find("do_lower_case")) HEED_RETURN_IF_ERROR(json_get_bool(v, "do_lower_case", tc, &t->lowercase));
      const JsonValue* sa = v.find("strip_accents");
      t->strip_accents = (sa && sa->is_bool()) ? sa->as_bool() : t->lowercase;
    }
  } else {
    return Status::Error(HEED_ERROR_IO, "%s: missing tokenizer.json (and no vocab.txt)", dir.path.c_str());
  }
  const std::string src = file_exists(tj) ? tj : vt;
  HEED_RETURN_IF_ERROR(vocab_id(*t, "[CLS]", src, &t->cls_id));
  HEED_RETURN_IF_ERROR(vocab_id(*t, "[SEP]", src, &t->sep_id));
  if (!vocab_id(*t, "[PAD]", src, &t->pad_id).ok()) t->pad_id = -1;
  return Status::Ok();
}

Status hf_source_files(const HfDir& dir, const std::vector<std::string>& names, std::vector<IrSourceFile>* out) {
  for (const std::string& n : names) {
    const std::string p = path_join(dir.path, n);
    if (!file_exists(p)) continue;
    struct stat st;
    stat(p.c_str(), &st);
    IrSourceFile f;
    f.name = n;
    f.size = uint64_t(st.st_size);
    HEED_RETURN_IF_ERROR(sha256_file_hex(p, &f.sha256));
    out->push_back(f);
  }
  return Status::Ok();
}

}  // namespace heed::conv
