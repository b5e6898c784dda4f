#include "hf/hf-dir.h"

#include <sys/stat.h>

#include <algorithm>

#include "format/model.h"
#include "io/file.h"
#include "io/sha256.h"
#include "tokenizer/bpe.h"
#include "tokenizer/utf8.h"
#include "tokenizer/wordpiece.h"

#include <unordered_map>

namespace heed::conv {

std::string path_join(const std::string& a, const std::string& b) {
  if (a.empty() || a.back() == '/') return a + b;
  return a + "/" + b;
}

namespace {

constexpr heed_status kBad = HEED_ERROR_INVALID_ARGUMENT;

// A file the directory may hold: *present when it is a regular file. Anything
// else under that name (a FIFO, a directory, a device) is an error, never
// "missing" and never read.
Status optional_file(const std::string& path, bool* present) {
  const PathKind k = path_kind(path);
  if (k == PathKind::kDirectory || k == PathKind::kOther) {
    return Status::Error(HEED_ERROR_IO, "%s: not a regular file (%s)", path.c_str(), path_kind_name(path));
  }
  *present = k == PathKind::kRegular;
  return Status::Ok();
}

// A small JSON config of the directory, under the config caps.
Status parse_config(HfDir* dir, const std::string& path, JsonValue* v) {
  JsonLimits limits;
  limits.max_values = kConfigMaxValues;
  dir->read.push_back(path);
  return json_parse_file(path, v, kConfigMaxBytes, limits);
}

// A module path of modules.json: relative, inside the model directory.
bool safe_relative_path(const std::string& p) {
  if (p.empty() || p[0] == '/' || p.find('\0') != std::string::npos) return false;
  size_t start = 0;
  while (start <= p.size()) {
    const size_t end = std::min(p.find('/', start), p.size());
    if (p.compare(start, end - start, "..") == 0) return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

Status hf_open(const std::string& dir, HfDir* out) {
  if (path_kind(dir) != PathKind::kDirectory) {
    return Status::Error(HEED_ERROR_IO, "%s: not a directory (%s)", dir.c_str(), path_kind_name(dir));
  }
  out->path = dir;
  out->config_name = path_join(dir, "config.json");
  bool present = false;
  HEED_RETURN_IF_ERROR(optional_file(out->config_name, &present));
  if (!present) {
    return Status::Error(HEED_ERROR_IO, "%s: missing (a Hugging Face model directory has config.json)",
                         out->config_name.c_str());
  }
  HEED_RETURN_IF_ERROR(parse_config(out, out->config_name, &out->config));
  if (!out->config.is_object()) {
    return Status::Error(kBad, "%s: top level must be an object", out->config_name.c_str());
  }
  HEED_RETURN_IF_ERROR(json_get_string(out->config, "model_type", out->config_name, &out->model_type));
  const JsonValue* archs = out->config.find("architectures");
  if (archs && archs->is_array() && !archs->items().empty() && archs->items()[0].is_string()) {
    out->architecture = archs->items()[0].as_string();
  } else if (archs && !archs->is_null()) {
    return Status::Error(kBad, "%s: field 'architectures' must be a list of strings", out->config_name.c_str());
  }

  // sentence-transformers: max_seq_length, pooling and normalization.
  const std::string sbert = path_join(dir, "sentence_bert_config.json");
  HEED_RETURN_IF_ERROR(optional_file(sbert, &present));
  if (present) {
    JsonValue v;
    HEED_RETURN_IF_ERROR(parse_config(out, sbert, &v));
    int64_t n = 0;
    if (v.find("max_seq_length")) {
      HEED_RETURN_IF_ERROR(json_get_int(v, "max_seq_length", sbert, &n));
      if (n < 2 || n > kMaxSeq) {
        return Status::Error(kBad, "%s: field 'max_seq_length' is %lld, outside 2..%d", sbert.c_str(), (long long)n,
                             kMaxSeq);
      }
      out->st_max_seq_length = int32_t(n);
    }
  }
  const std::string modules = path_join(dir, "modules.json");
  HEED_RETURN_IF_ERROR(optional_file(modules, &present));
  if (!present) return Status::Ok();
  JsonValue v;
  HEED_RETURN_IF_ERROR(parse_config(out, modules, &v));
  if (!v.is_array()) return Status::Error(kBad, "%s: must be a list", modules.c_str());
  for (const JsonValue& m : v.items()) {
    const JsonValue* type = m.find("type");
    if (!type || !type->is_string()) {
      return Status::Error(kBad, "%s: module without a 'type' string", modules.c_str());
    }
    const std::string& t = type->as_string();
    if (t.find("Normalize") != std::string::npos) out->normalize = true;
    if (t.find("Pooling") == std::string::npos) continue;
    std::string sub = "1_Pooling";
    if (const JsonValue* p = m.find("path")) {
      if (!p->is_string() || !safe_relative_path(p->as_string())) {
        return Status::Error(kBad, "%s: module 'path' must be a relative path inside the model directory",
                             modules.c_str());
      }
      sub = p->as_string();
    }
    const std::string pcfg = path_join(path_join(dir, sub), "config.json");
    out->pooling = 1;
    HEED_RETURN_IF_ERROR(optional_file(pcfg, &present));
    if (!present) continue;
    JsonValue pc;
    HEED_RETURN_IF_ERROR(parse_config(out, pcfg, &pc));
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
      return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: exactly one of mean or cls pooling must be set", pcfg.c_str());
    }
    out->pooling = mean ? 1 : 2;
  }
  return Status::Ok();
}

namespace {

// Id of `piece`: its last occurrence, as Hugging Face's vocabulary maps
// (built by inserting every line in order) resolve a piece listed twice.
Status vocab_id(const IrTokenizer& t, const std::string& piece, const std::string& src, int32_t* id) {
  for (size_t i = t.vocab.size(); i-- > 0;) {
    if (t.vocab[i] == piece) {
      *id = int32_t(i);
      return Status::Ok();
    }
  }
  return Status::Error(kBad, "%s: special token '%s' is not in the vocabulary", src.c_str(), piece.c_str());
}

// An id field: a JSON integer literal (as serde's u32 wants: "5.0" and "5e0"
// are not ids) in [0, vocab).
Status get_id(const JsonValue& v, const std::string& src, const std::string& field, size_t vocab, int32_t* id) {
  int64_t x = 0;
  if (!v.as_integer_literal(&x) || x < 0 || uint64_t(x) >= vocab) {
    return Status::Error(kBad, "%s: %s must be an integer id in [0, %zu)", src.c_str(), field.c_str(), vocab);
  }
  *id = int32_t(x);
  return Status::Ok();
}

// Optional bool, or null where Hugging Face's field is Option<bool>
// (strip_accents): *is_null tells which; any other value is an error.
Status get_bool_or_null(const JsonValue& obj, const char* key, const std::string& src, bool* value, bool* is_null) {
  const JsonValue* v = obj.find(key);
  *is_null = !v || v->is_null();
  if (*is_null) return Status::Ok();
  if (!v->is_bool()) return Status::Error(kBad, "%s: field '%s' must be true, false or null", src.c_str(), key);
  *value = v->as_bool();
  return Status::Ok();
}

Status optional_bool(const JsonValue& obj, const char* key, const std::string& src, bool* value) {
  if (!obj.find(key)) return Status::Ok();
  return json_get_bool(obj, key, src, value);
}

// [CLS] and [SEP] ids from tokenizer.json's post_processor: BertProcessing,
// or a TemplateProcessing whose single-sequence template is
// SpecialToken Sequence(A) SpecialToken, each special token one id, every
// type_id 0 (heed feeds one segment).
Status read_post_processor(const JsonValue& pp, const std::string& src, size_t vocab, IrTokenizer* t) {
  std::string type;
  HEED_RETURN_IF_ERROR(json_get_string(pp, "type", src + " post_processor", &type));
  if (type == "BertProcessing") {
    for (const char* key : {"cls", "sep"}) {
      const JsonValue* v = pp.find(key);
      if (!v || !v->is_array() || v->items().size() != 2 || !v->items()[0].is_string()) {
        return Status::Error(kBad, "%s: post_processor.%s must be [token, id]", src.c_str(), key);
      }
      HEED_RETURN_IF_ERROR(get_id(v->items()[1], src, std::string("post_processor.") + key + "[1]", vocab,
                                  key[0] == 'c' ? &t->cls_id : &t->sep_id));
    }
    return Status::Ok();
  }
  if (type != "TemplateProcessing") {
    return Status::Error(HEED_ERROR_UNSUPPORTED,
                         "%s: post_processor.type '%s' is not supported (BertProcessing, TemplateProcessing)",
                         src.c_str(), type.c_str());
  }
  const JsonValue* single = pp.find("single");
  const JsonValue* specials = pp.find("special_tokens");
  auto unsupported = [&](const char* why) {
    return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: post_processor: %s is not supported (heed adds [CLS] text [SEP])", src.c_str(), why);
  };
  if (!single || !single->is_array() || !specials || !specials->is_object()) {
    return Status::Error(kBad, "%s: post_processor needs a 'single' list and a 'special_tokens' object", src.c_str());
  }
  const auto& items = single->items();
  if (items.size() != 3) return unsupported("a single template other than SpecialToken, Sequence, SpecialToken");
  int32_t* ids[2] = {&t->cls_id, &t->sep_id};
  for (size_t i = 0; i < 3; ++i) {
    const char* kind = i == 1 ? "Sequence" : "SpecialToken";
    const JsonValue* piece = items[i].find(kind);
    if (!items[i].is_object() || items[i].members().size() != 1 || !piece || !piece->is_object()) {
      return unsupported("a single template other than SpecialToken, Sequence, SpecialToken");
    }
    const JsonValue* id = piece->find("id");
    const JsonValue* type_id = piece->find("type_id");
    int64_t tid = -1;
    if (!id || !id->is_string() || !type_id || !type_id->as_integer_literal(&tid)) {
      return Status::Error(kBad, "%s: post_processor.single[%zu] needs a string 'id' and an integer 'type_id'",
                           src.c_str(), i);
    }
    if (tid != 0) return unsupported("a type_id other than 0 in the single template");
    if (i == 1) {
      if (id->as_string() != "A") return unsupported("the single template's sequence is not A");
      continue;
    }
    const JsonValue* sp = specials->find(id->as_string());
    const JsonValue* sp_ids = sp ? sp->find("ids") : nullptr;
    if (!sp_ids || !sp_ids->is_array()) {
      return Status::Error(kBad, "%s: post_processor.special_tokens['%s'] with an 'ids' list is missing", src.c_str(),
                           id->as_string().c_str());
    }
    if (sp_ids->items().size() != 1) return unsupported("a special token of the template has more than one id");
    HEED_RETURN_IF_ERROR(get_id(sp_ids->items()[0], src,
                                "post_processor.special_tokens['" + id->as_string() + "'].ids[0]", vocab,
                                ids[i / 2]));
  }
  return Status::Ok();
}

// ---- BPE (GPT-2 byte level, Llama sentencepiece style): runtime/src/tokenizer/bpe.h.

constexpr char kMetaspace[] = "\xE2\x96\x81";  // U+2581

Status unsupported_field(const std::string& src, const std::string& field, const std::string& what) {
  return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: %s: %s is not supported", src.c_str(), field.c_str(),
                       what.c_str());
}

// A "type" string field of a component object.
Status component_type(const JsonValue& v, const std::string& src, const std::string& field, std::string* type) {
  if (!v.is_object()) return Status::Error(kBad, "%s: %s must be an object or null", src.c_str(), field.c_str());
  return json_get_string(v, "type", src + " " + field, type);
}

// A Replace normalizer/decoder: pattern {"String": from} -> content.
Status replace_pair(const JsonValue& v, const std::string& src, const std::string& field, std::string* from,
                    std::string* to) {
  const JsonValue* pat = v.find("pattern");
  const JsonValue* str = pat ? pat->find("String") : nullptr;
  if (!pat || !pat->is_object() || !str || !str->is_string()) {
    return unsupported_field(src, field + ".pattern", "a pattern other than {\"String\": ...}");
  }
  *from = str->as_string();
  return json_get_string(v, "content", src + " " + field, to);
}

Status optional_string_empty(const JsonValue& obj, const char* key, const std::string& src) {
  const JsonValue* v = obj.find(key);
  if (!v || v->is_null()) return Status::Ok();
  if (!v->is_string()) return Status::Error(kBad, "%s: model.%s must be a string or null", src.c_str(), key);
  if (!v->as_string().empty()) return unsupported_field(src, std::string("model.") + key, "a non-empty value");
  return Status::Ok();
}

// Llama's normalizer: Prepend("\u2581") and/or Replace(" ", "\u2581"), alone or in a Sequence.
Status read_sp_normalizer(const JsonValue& n, const std::string& src, uint32_t* flags) {
  std::string type;
  HEED_RETURN_IF_ERROR(component_type(n, src, "normalizer", &type));
  std::vector<const JsonValue*> parts;
  if (type == "Sequence") {
    const JsonValue* list = n.find("normalizers");
    if (!list || !list->is_array()) return Status::Error(kBad, "%s: normalizer.normalizers must be a list", src.c_str());
    for (const JsonValue& p : list->items()) parts.push_back(&p);
  } else {
    parts.push_back(&n);
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string field = type == "Sequence" ? "normalizer.normalizers[" + std::to_string(i) + "]" : "normalizer";
    std::string t;
    HEED_RETURN_IF_ERROR(component_type(*parts[i], src, field, &t));
    if (t == "Prepend") {
      std::string p;
      HEED_RETURN_IF_ERROR(json_get_string(*parts[i], "prepend", src + " " + field, &p));
      if (p != kMetaspace || (*flags & kBpePrependSpace)) {
        return unsupported_field(src, field, "a Prepend other than one Prepend(\"\\u2581\")");
      }
      *flags |= kBpePrependSpace;
    } else if (t == "Replace") {
      std::string from, to;
      HEED_RETURN_IF_ERROR(replace_pair(*parts[i], src, field, &from, &to));
      if (from != " " || to != kMetaspace || (*flags & kBpeReplaceSpace)) {
        return unsupported_field(src, field, "a Replace other than one Replace(\" \", \"\\u2581\")");
      }
      *flags |= kBpeReplaceSpace;
    } else {
      return unsupported_field(src, field + ".type", "'" + t + "' (BPE: Prepend, Replace, Sequence of them)");
    }
  }
  return Status::Ok();
}

// Llama's decoder: Sequence [Replace("\u2581", " "), ByteFallback, Fuse, optional Strip(" ", n, 0)].
Status read_sp_decoder(const JsonValue& d, const std::string& src, int32_t* strip) {
  std::string type;
  HEED_RETURN_IF_ERROR(component_type(d, src, "decoder", &type));
  const JsonValue* list = d.find("decoders");
  const char* expected = "a decoder other than Sequence [Replace(\"\\u2581\", \" \"), ByteFallback, Fuse, Strip(\" \", n, 0)]";
  if (type != "Sequence" || !list || !list->is_array()) return unsupported_field(src, "decoder", expected);
  const auto& items = list->items();
  if (items.size() != 3 && items.size() != 4) return unsupported_field(src, "decoder.decoders", expected);
  const char* kinds[] = {"Replace", "ByteFallback", "Fuse", "Strip"};
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string field = "decoder.decoders[" + std::to_string(i) + "]";
    std::string t;
    HEED_RETURN_IF_ERROR(component_type(items[i], src, field, &t));
    if (t != kinds[i]) return unsupported_field(src, field + ".type", "'" + t + "' here (" + expected + ")");
    if (i == 0) {
      std::string from, to;
      HEED_RETURN_IF_ERROR(replace_pair(items[i], src, field, &from, &to));
      if (from != kMetaspace || to != " ") return unsupported_field(src, field, expected);
    }
    if (i == 3) {
      std::string content;
      int64_t start = 0, stop = 0;
      HEED_RETURN_IF_ERROR(json_get_string(items[i], "content", src + " " + field, &content));
      HEED_RETURN_IF_ERROR(json_get_int(items[i], "start", src + " " + field, &start));
      HEED_RETURN_IF_ERROR(json_get_int(items[i], "stop", src + " " + field, &stop));
      if (content != " " || stop != 0 || start < 0 || start > BpeTokenizer::kMaxDecodeStrip) {
        return unsupported_field(src, field, "a Strip other than content \" \", start 0.." +
                                                 std::to_string(BpeTokenizer::kMaxDecodeStrip) + ", stop 0");
      }
      *strip = int32_t(start);
    }
  }
  return Status::Ok();
}

// bos / eos from a TemplateProcessing single template [SpecialToken?] A [SpecialToken?].
Status read_bpe_post_processor(const JsonValue& pp, const std::string& src, size_t vocab, IrTokenizer* t) {
  std::string type;
  HEED_RETURN_IF_ERROR(component_type(pp, src, "post_processor", &type));
  if (type == "ByteLevel") return Status::Ok();  // offsets only
  if (type != "TemplateProcessing") {
    return unsupported_field(src, "post_processor.type", "'" + type + "' (BPE: ByteLevel, TemplateProcessing, null)");
  }
  const JsonValue* single = pp.find("single");
  const JsonValue* specials = pp.find("special_tokens");
  if (!single || !single->is_array() || !specials || !specials->is_object()) {
    return Status::Error(kBad, "%s: post_processor needs a 'single' list and a 'special_tokens' object", src.c_str());
  }
  const char* shape = "a single template other than [SpecialToken] Sequence A [SpecialToken]";
  const auto& items = single->items();
  bool seen_a = false;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string field = "post_processor.single[" + std::to_string(i) + "]";
    const JsonValue* seq = items[i].find("Sequence");
    const JsonValue* sp = items[i].find("SpecialToken");
    const JsonValue* piece = seq ? seq : sp;
    if (!items[i].is_object() || items[i].members().size() != 1 || !piece || !piece->is_object()) {
      return unsupported_field(src, field, shape);
    }
    const JsonValue* id = piece->find("id");
    const JsonValue* type_id = piece->find("type_id");
    int64_t tid = -1;
    if (!id || !id->is_string() || !type_id || !type_id->as_integer_literal(&tid)) {
      return Status::Error(kBad, "%s: %s needs a string 'id' and an integer 'type_id'", src.c_str(), field.c_str());
    }
    if (tid != 0) return unsupported_field(src, field + ".type_id", "a type_id other than 0");
    if (seq) {
      if (seen_a || id->as_string() != "A") return unsupported_field(src, field, shape);
      seen_a = true;
      continue;
    }
    int32_t* slot = seen_a ? &t->eos_id : &t->bos_id;
    if (*slot >= 0) return unsupported_field(src, field, shape);
    const JsonValue* spv = specials->find(id->as_string());
    const JsonValue* ids = spv ? spv->find("ids") : nullptr;
    if (!ids || !ids->is_array()) {
      return Status::Error(kBad, "%s: post_processor.special_tokens['%s'] with an 'ids' list is missing", src.c_str(),
                           id->as_string().c_str());
    }
    if (ids->items().size() != 1) return unsupported_field(src, field, "a special token of more than one id");
    HEED_RETURN_IF_ERROR(get_id(ids->items()[0], src, "post_processor.special_tokens['" + id->as_string() + "'].ids[0]",
                                vocab, slot));
  }
  if (!seen_a) return unsupported_field(src, "post_processor.single", shape);
  return Status::Ok();
}

Status read_bpe_json(const JsonValue& root, const JsonValue& model, const std::string& path, IrTokenizer* t) {
  // Model.
  const JsonValue* vocab = model.find("vocab");
  if (!vocab || !vocab->is_object() || vocab->members().empty()) {
    return Status::Error(kBad, "%s: model.vocab must be a non-empty object", path.c_str());
  }
  const size_t n = vocab->members().size();
  if (n > BpeTokenizer::kMaxVocabSize) {
    return Status::Error(kBad, "%s: model.vocab has %zu pieces, more than heed's cap of %zu", path.c_str(), n,
                         BpeTokenizer::kMaxVocabSize);
  }
  t->vocab.assign(n, std::string());
  std::vector<uint8_t> seen(n, 0);
  std::unordered_map<std::string_view, int32_t> ids;
  ids.reserve(n);
  for (const auto& [piece, idv] : vocab->members()) {
    int32_t id = 0;
    HEED_RETURN_IF_ERROR(get_id(idv, path, "model.vocab['" + piece + "']", n, &id));
    if (seen[size_t(id)]) return Status::Error(kBad, "%s: model.vocab: id %d used twice", path.c_str(), id);
    seen[size_t(id)] = 1;
    if (piece.empty()) return Status::Error(kBad, "%s: model.vocab has an empty token", path.c_str());
    if (piece.size() > UINT32_MAX / 2) return Status::Error(kBad, "%s: model.vocab has an oversized token", path.c_str());
    if (!ids.emplace(piece, id).second) {
      return Status::Error(kBad, "%s: model.vocab lists token '%s' twice", path.c_str(), piece.c_str());
    }
    t->vocab[size_t(id)] = piece;
  }
  const JsonValue* merges = model.find("merges");
  if (!merges || !merges->is_array()) return Status::Error(kBad, "%s: model.merges must be a list", path.c_str());
  if (merges->items().size() > BpeTokenizer::kMaxMerges) {
    return Status::Error(kBad, "%s: model.merges has %zu entries, more than heed's cap of %zu", path.c_str(),
                         merges->items().size(), BpeTokenizer::kMaxMerges);
  }
  t->merges.reserve(2 * merges->items().size());
  std::string joined;
  for (size_t r = 0; r < merges->items().size(); ++r) {
    const JsonValue& m = merges->items()[r];
    std::string_view a, b;
    if (m.is_string()) {  // "a b": exactly one space
      const std::string& s = m.as_string();
      const size_t sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) {
        return Status::Error(kBad, "%s: model.merges[%zu] must be two tokens separated by one space", path.c_str(), r);
      }
      a = std::string_view(s).substr(0, sp);
      b = std::string_view(s).substr(sp + 1);
    } else if (m.is_array() && m.items().size() == 2 && m.items()[0].is_string() && m.items()[1].is_string()) {
      a = m.items()[0].as_string();
      b = m.items()[1].as_string();
    } else {
      return Status::Error(kBad, "%s: model.merges[%zu] must be a string \"a b\" or a list [a, b]", path.c_str(), r);
    }
    auto ia = ids.find(a), ib = ids.find(b);
    joined.assign(a);
    joined.append(b);
    if (ia == ids.end() || ib == ids.end() || ids.find(joined) == ids.end()) {
      return Status::Error(kBad, "%s: model.merges[%zu]: a token of the merge, or their concatenation, is not in model.vocab",
                           path.c_str(), r);
    }
    t->merges.push_back(uint32_t(ia->second));
    t->merges.push_back(uint32_t(ib->second));
  }
  if (const JsonValue* d = model.find("dropout"); d && !d->is_null()) {
    if (!d->is_number()) return Status::Error(kBad, "%s: model.dropout must be a number or null", path.c_str());
    if (d->as_number() != 0.0) return unsupported_field(path, "model.dropout", "a dropout other than null or 0");
  }
  HEED_RETURN_IF_ERROR(optional_string_empty(model, "continuing_subword_prefix", path));
  HEED_RETURN_IF_ERROR(optional_string_empty(model, "end_of_word_suffix", path));
  bool fuse_unk = false, byte_fallback = false, ignore_merges = false;
  HEED_RETURN_IF_ERROR(optional_bool(model, "fuse_unk", path + " model", &fuse_unk));
  HEED_RETURN_IF_ERROR(optional_bool(model, "byte_fallback", path + " model", &byte_fallback));
  HEED_RETURN_IF_ERROR(optional_bool(model, "ignore_merges", path + " model", &ignore_merges));
  uint32_t flags = (fuse_unk ? kBpeFuseUnk : 0) | (byte_fallback ? kBpeByteFallback : 0) |
                   (ignore_merges ? kBpeIgnoreMerges : 0);
  t->unk_id = -1;
  if (const JsonValue* u = model.find("unk_token"); u && !u->is_null()) {
    if (!u->is_string()) return Status::Error(kBad, "%s: model.unk_token must be a string or null", path.c_str());
    auto it = ids.find(u->as_string());
    if (it == ids.end()) return Status::Error(kBad, "%s: model.unk_token is not in model.vocab", path.c_str());
    t->unk_id = it->second;
  }

  // Pre-tokenizer: ByteLevel (GPT-2) or none (Llama).
  const JsonValue* pre = root.find("pre_tokenizer");
  const JsonValue* norm = root.find("normalizer");
  const bool has_norm = norm && !norm->is_null();
  if (pre && !pre->is_null()) {
    std::string ptype;
    HEED_RETURN_IF_ERROR(component_type(*pre, path, "pre_tokenizer", &ptype));
    if (ptype != "ByteLevel") {
      return unsupported_field(path, "pre_tokenizer.type", "'" + ptype + "' (BPE: ByteLevel, or null with a Llama normalizer)");
    }
    t->kind = TokenizerKind::kBpeByteLevel;
    bool prefix = false, regex = true;
    HEED_RETURN_IF_ERROR(optional_bool(*pre, "add_prefix_space", path + " pre_tokenizer", &prefix));
    HEED_RETURN_IF_ERROR(optional_bool(*pre, "use_regex", path + " pre_tokenizer", &regex));
    flags |= (prefix ? kBpeAddPrefixSpace : 0) | (regex ? 0 : kBpeNoRegex);
    if (has_norm) {
      std::string ntype;
      HEED_RETURN_IF_ERROR(component_type(*norm, path, "normalizer", &ntype));
      return unsupported_field(path, "normalizer.type", "'" + ntype + "' with a ByteLevel pre-tokenizer (only null)");
    }
    const JsonValue* dec = root.find("decoder");
    std::string dtype;
    if (!dec || dec->is_null()) return unsupported_field(path, "decoder", "null (BPE byte level: ByteLevel)");
    HEED_RETURN_IF_ERROR(component_type(*dec, path, "decoder", &dtype));
    if (dtype != "ByteLevel") return unsupported_field(path, "decoder.type", "'" + dtype + "' (byte level: ByteLevel)");
  } else {
    t->kind = TokenizerKind::kBpeSentencePiece;
    if (has_norm) HEED_RETURN_IF_ERROR(read_sp_normalizer(*norm, path, &flags));
    const JsonValue* dec = root.find("decoder");
    if (!dec || dec->is_null()) {
      return unsupported_field(path, "decoder", "null (BPE without a pre-tokenizer: Llama's decoder Sequence)");
    }
    HEED_RETURN_IF_ERROR(read_sp_decoder(*dec, path, &t->decode_strip));
  }
  t->bpe_flags = flags;
  if (const JsonValue* pp = root.find("post_processor"); pp && !pp->is_null()) {
    HEED_RETURN_IF_ERROR(read_bpe_post_processor(*pp, path, n, t));
  }

  // Added tokens: matched verbatim in the raw text. HF matches tokens with
  // normalized = true in the normalized text instead (the same text only
  // without a normalizer) and in a second pass, so they must all agree.
  if (const JsonValue* added = root.find("added_tokens"); added && !added->is_null()) {
    if (!added->is_array()) return Status::Error(kBad, "%s: added_tokens must be a list", path.c_str());
    int normalized_seen = -1;
    for (size_t i = 0; i < added->items().size(); ++i) {
      const JsonValue& a = added->items()[i];
      const std::string where = path + " added_tokens[" + std::to_string(i) + "]";
      std::string content;
      bool special = false;
      int32_t id = 0;
      const JsonValue* idv = a.find("id");
      if (!a.is_object() || !idv) return Status::Error(kBad, "%s: needs an object with 'id'", where.c_str());
      HEED_RETURN_IF_ERROR(get_id(*idv, where, "id", n, &id));
      HEED_RETURN_IF_ERROR(json_get_string(a, "content", where, &content));
      HEED_RETURN_IF_ERROR(optional_bool(a, "special", where, &special));
      for (const char* flag : {"single_word", "lstrip", "rstrip"}) {
        bool on = false;
        HEED_RETURN_IF_ERROR(optional_bool(a, flag, where, &on));
        if (on) return unsupported_field(where, flag, "true");
      }
      bool normalized = !special;  // HF's default
      HEED_RETURN_IF_ERROR(optional_bool(a, "normalized", where, &normalized));
      if (normalized && has_norm) return unsupported_field(where, "normalized", "true with a normalizer");
      if (normalized_seen >= 0 && normalized_seen != int(normalized)) {
        return unsupported_field(where, "normalized", "a mix of normalized and not normalized added tokens");
      }
      normalized_seen = int(normalized);
      if (content != t->vocab[size_t(id)]) {
        return unsupported_field(where, "content", "a content that differs from model.vocab's token of its id");
      }
      (special ? t->special_ids : t->added_ids).push_back(id);
    }
    if (t->special_ids.size() + t->added_ids.size() > BpeTokenizer::kMaxAddedTokens) {
      return unsupported_field(path, "added_tokens",
                               "more than heed's cap of " + std::to_string(BpeTokenizer::kMaxAddedTokens) + " tokens");
    }
  }
  return Status::Ok();
}

Status read_tokenizer_json(HfDir* dir, const std::string& path, IrTokenizer* t) {
  JsonValue root;
  JsonLimits limits;
  limits.max_values = kTokenizerMaxValues;
  dir->read.push_back(path);
  HEED_RETURN_IF_ERROR(json_parse_file(path, &root, kTokenizerMaxBytes, limits));
  const JsonValue* model = root.find("model");
  if (!model || !model->is_object()) return Status::Error(kBad, "%s: missing field 'model'", path.c_str());
  std::string type;
  HEED_RETURN_IF_ERROR(json_get_string(*model, "type", path, &type));
  if (type == "BPE") return read_bpe_json(root, *model, path, t);
  if (type != "WordPiece") {
    return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: model.type '%s' is not supported (WordPiece, BPE)", path.c_str(),
                         type.c_str());
  }
  const JsonValue* vocab = model->find("vocab");
  if (!vocab || !vocab->is_object() || vocab->members().empty()) {
    return Status::Error(kBad, "%s: model.vocab must be a non-empty object", path.c_str());
  }
  const size_t n = vocab->members().size();
  if (n > WordPieceTokenizer::kMaxVocabSize) {
    return Status::Error(kBad, "%s: model.vocab has %zu pieces, more than heed's cap of %zu", path.c_str(), n,
                         WordPieceTokenizer::kMaxVocabSize);
  }
  t->vocab.assign(n, std::string());
  std::vector<uint8_t> seen(n, 0);
  for (const auto& [piece, idv] : vocab->members()) {
    int32_t id = 0;
    HEED_RETURN_IF_ERROR(get_id(idv, path, "model.vocab['" + piece + "']", n, &id));
    if (seen[size_t(id)]) return Status::Error(kBad, "%s: model.vocab: id %d used twice", path.c_str(), id);
    seen[size_t(id)] = 1;
    if (piece.empty()) return Status::Error(kBad, "%s: model.vocab has an empty token", path.c_str());
    if (piece.size() > UINT32_MAX / 2) return Status::Error(kBad, "%s: model.vocab has an oversized token", path.c_str());
    t->vocab[size_t(id)] = piece;
  }
  std::string unk = "[UNK]";
  if (model->find("unk_token")) HEED_RETURN_IF_ERROR(json_get_string(*model, "unk_token", path, &unk));
  HEED_RETURN_IF_ERROR(vocab_id(*t, unk, path, &t->unk_id));
  if (model->find("continuing_subword_prefix")) {
    HEED_RETURN_IF_ERROR(json_get_string(*model, "continuing_subword_prefix", path, &t->continuing_prefix));
    if (t->continuing_prefix.size() > WordPieceTokenizer::kMaxPrefixBytes) {
      return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: a model.continuing_subword_prefix longer than %zu bytes is not supported",
                           path.c_str(), WordPieceTokenizer::kMaxPrefixBytes);
    }
  }
  if (model->find("max_input_chars_per_word")) {
    int64_t m = 0;
    HEED_RETURN_IF_ERROR(json_get_int(*model, "max_input_chars_per_word", path, &m));
    if (m < 1 || m > WordPieceTokenizer::kMaxInputCharsPerWord) {
      return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: model.max_input_chars_per_word %lld is not supported (heed supports 1..%d)",
                           path.c_str(), (long long)m, WordPieceTokenizer::kMaxInputCharsPerWord);
    }
    t->max_input_chars_per_word = int32_t(m);
  }
  // Normalizer: BertNormalizer (or none).
  const JsonValue* norm = root.find("normalizer");
  if (norm && !norm->is_null()) {
    const std::string src = path + " normalizer";
    std::string ntype;
    HEED_RETURN_IF_ERROR(json_get_string(*norm, "type", src, &ntype));
    if (ntype != "BertNormalizer") {
      return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: normalizer.type '%s' is not supported (BertNormalizer only)",
                           path.c_str(), ntype.c_str());
    }
    HEED_RETURN_IF_ERROR(optional_bool(*norm, "clean_text", src, &t->clean_text));
    HEED_RETURN_IF_ERROR(optional_bool(*norm, "handle_chinese_chars", src, &t->handle_chinese_chars));
    HEED_RETURN_IF_ERROR(optional_bool(*norm, "lowercase", src, &t->lowercase));
    bool strip = false, is_null = true;
    HEED_RETURN_IF_ERROR(get_bool_or_null(*norm, "strip_accents", src, &strip, &is_null));
    t->strip_accents = is_null ? t->lowercase : strip;  // HF: null follows lowercase
  } else {
    t->clean_text = t->handle_chinese_chars = t->lowercase = t->strip_accents = false;
  }
  const JsonValue* pre = root.find("pre_tokenizer");
  if (pre && !pre->is_null()) {
    std::string ptype;
    HEED_RETURN_IF_ERROR(json_get_string(*pre, "type", path + " pre_tokenizer", &ptype));
    if (ptype != "BertPreTokenizer") {
      return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: pre_tokenizer.type '%s' is not supported (BertPreTokenizer only)",
                           path.c_str(), ptype.c_str());
    }
  }
  const JsonValue* pp = root.find("post_processor");
  if (!pp || pp->is_null()) {
    return Status::Error(HEED_ERROR_UNSUPPORTED,
                         "%s: post_processor null is not supported (Hugging Face then adds no [CLS]/[SEP]; heed always does)",
                         path.c_str());
  }
  HEED_RETURN_IF_ERROR(read_post_processor(*pp, path, n, t));
  // Added tokens: heed matches special ones verbatim in the raw text before
  // normalization, as Hugging Face does for special tokens that are not
  // normalized and not stripped; any other kind would split text differently.
  if (const JsonValue* added = root.find("added_tokens"); added && !added->is_null()) {
    if (!added->is_array()) return Status::Error(kBad, "%s: added_tokens must be a list", path.c_str());
    for (size_t i = 0; i < added->items().size(); ++i) {
      const JsonValue& a = added->items()[i];
      const std::string where = path + " added_tokens[" + std::to_string(i) + "]";
      std::string content;
      bool special = false;
      int32_t id = 0;
      const JsonValue* idv = a.find("id");
      if (!a.is_object() || !idv) return Status::Error(kBad, "%s: needs an object with 'id'", where.c_str());
      HEED_RETURN_IF_ERROR(get_id(*idv, where, "id", n, &id));
      HEED_RETURN_IF_ERROR(json_get_string(a, "content", where, &content));
      HEED_RETURN_IF_ERROR(optional_bool(a, "special", where, &special));
      if (!special) {
        return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: '%s' is not special: non-special added tokens are not supported",
                             where.c_str(), content.c_str());
      }
      for (const char* flag : {"single_word", "lstrip", "rstrip", "normalized"}) {
        bool on = false;
        HEED_RETURN_IF_ERROR(optional_bool(a, flag, where, &on));
        if (on) {
          return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: '%s' with %s = true is not supported",
                               where.c_str(), content.c_str(), flag);
        }
      }
      if (content != t->vocab[size_t(id)]) {
        return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: content '%s' that differs from the vocabulary's piece of id %d is not supported",
                             where.c_str(), content.c_str(), id);
      }
      t->special_ids.push_back(id);
    }
    if (t->special_ids.size() > WordPieceTokenizer::kMaxSpecialTokens) {
      return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: added_tokens lists %zu special tokens; more than heed's cap of %zu is not supported",
                           path.c_str(), t->special_ids.size(), WordPieceTokenizer::kMaxSpecialTokens);
    }
  }
  return Status::Ok();
}

// vocab.txt: one piece per line ('\n' or "\r\n"), UTF-8, none empty. A lone
// '\r' inside a line is refused: Python's universal newlines (the slow
// tokenizer transformers converts from) would split there, Rust's lines()
// would not.
Status read_vocab_txt(HfDir* dir, const std::string& path, IrTokenizer* t) {
  std::string text;
  dir->read.push_back(path);
  HEED_RETURN_IF_ERROR(read_file(path, kTokenizerMaxBytes, &text));
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    size_t stop = end;
    if (stop > start && text[stop - 1] == '\r') --stop;
    const size_t line = t->vocab.size() + 1;
    if (stop == start) return Status::Error(kBad, "%s:%zu: empty token", path.c_str(), line);
    if (text.find('\r', start) < stop) return Status::Error(kBad, "%s:%zu: carriage return inside a token", path.c_str(), line);
    if (!utf8::valid(reinterpret_cast<const uint8_t*>(text.data() + start), stop - start)) {
      return Status::Error(kBad, "%s:%zu: token is not valid UTF-8", path.c_str(), line);
    }
    if (t->vocab.size() >= WordPieceTokenizer::kMaxVocabSize) {
      return Status::Error(kBad, "%s: more than heed's cap of %zu tokens", path.c_str(), WordPieceTokenizer::kMaxVocabSize);
    }
    t->vocab.emplace_back(text, start, stop - start);
    start = end + 1;
  }
  if (t->vocab.empty()) return Status::Error(kBad, "%s: empty vocabulary", path.c_str());
  return Status::Ok();
}

// A special token of tokenizer_config.json: a string, or an AddedToken
// object with a 'content' string; absent = `fallback`.
Status config_token(const JsonValue& cfg, const char* key, const std::string& src, const char* fallback,
                    std::string* out) {
  const JsonValue* v = cfg.find(key);
  if (!v || v->is_null()) {
    *out = fallback;
    return Status::Ok();
  }
  if (v->is_string()) {
    *out = v->as_string();
    return Status::Ok();
  }
  if (v->is_object()) return json_get_string(*v, "content", src + " " + key, out);
  return Status::Error(kBad, "%s: field '%s' must be a string or an object with 'content'", src.c_str(), key);
}

}  // namespace

Status hf_read_tokenizer(HfDir* dir, IrTokenizer* t) {
  const std::string tj = path_join(dir->path, "tokenizer.json");
  const std::string vt = path_join(dir->path, "vocab.txt");
  bool have_tj = false, have_vt = false;
  HEED_RETURN_IF_ERROR(optional_file(tj, &have_tj));
  if (have_tj) {
    HEED_RETURN_IF_ERROR(read_tokenizer_json(dir, tj, t));
  } else {
    HEED_RETURN_IF_ERROR(optional_file(vt, &have_vt));
    if (!have_vt) {
      return Status::Error(HEED_ERROR_IO, "%s: missing tokenizer.json (and no vocab.txt)", dir->path.c_str());
    }
    HEED_RETURN_IF_ERROR(read_vocab_txt(dir, vt, t));
    // BertTokenizer's settings and special tokens (its defaults when absent).
    const std::string tc = path_join(dir->path, "tokenizer_config.json");
    bool have_tc = false;
    HEED_RETURN_IF_ERROR(optional_file(tc, &have_tc));
    JsonValue cfg;
    if (have_tc) HEED_RETURN_IF_ERROR(parse_config(dir, tc, &cfg));
    HEED_RETURN_IF_ERROR(optional_bool(cfg, "do_lower_case", tc, &t->lowercase));
    HEED_RETURN_IF_ERROR(optional_bool(cfg, "tokenize_chinese_chars", tc, &t->handle_chinese_chars));
    bool strip = false, is_null = true;
    HEED_RETURN_IF_ERROR(get_bool_or_null(cfg, "strip_accents", tc, &strip, &is_null));
    t->strip_accents = is_null ? t->lowercase : strip;
    std::string unk, cls, sep, pad, mask;
    HEED_RETURN_IF_ERROR(config_token(cfg, "unk_token", tc, "[UNK]", &unk));
    HEED_RETURN_IF_ERROR(config_token(cfg, "cls_token", tc, "[CLS]", &cls));
    HEED_RETURN_IF_ERROR(config_token(cfg, "sep_token", tc, "[SEP]", &sep));
    HEED_RETURN_IF_ERROR(config_token(cfg, "pad_token", tc, "[PAD]", &pad));
    HEED_RETURN_IF_ERROR(config_token(cfg, "mask_token", tc, "[MASK]", &mask));
    HEED_RETURN_IF_ERROR(vocab_id(*t, unk, vt, &t->unk_id));
    HEED_RETURN_IF_ERROR(vocab_id(*t, cls, vt, &t->cls_id));
    HEED_RETURN_IF_ERROR(vocab_id(*t, sep, vt, &t->sep_id));
    for (const std::string* s : {&pad, &unk, &cls, &sep, &mask}) {
      int32_t id;
      if (vocab_id(*t, *s, vt, &id).ok()) t->special_ids.push_back(id);
    }
  }
  const std::string& src = have_tj ? tj : vt;
  if (!vocab_id(*t, "[PAD]", src, &t->pad_id).ok()) t->pad_id = -1;
  return Status::Ok();
}

namespace {
// bos_token_id: an integer or null; eos_token_id: that or a list of integers.
// The list is capped at the runtime's cap (a longer one is an error, not cut).
Status read_special_id(const JsonValue& v, const std::string& src, const char* key, bool list_ok,
                       std::vector<int64_t>* out) {
  out->clear();
  if (v.is_null()) return Status::Ok();
  int64_t x = 0;
  if (v.as_int64(&x)) {
    out->push_back(x);
    return Status::Ok();
  }
  if (list_ok && v.is_array()) {
    if (v.items().size() > kMaxEosIds) {
      return Status::Error(kBad, "%s: field '%s' lists %zu ids (heed reads at most %zu)", src.c_str(), key,
                           v.items().size(), kMaxEosIds);
    }
    for (size_t i = 0; i < v.items().size(); ++i) {
      if (!v.items()[i].as_int64(&x)) {
        return Status::Error(kBad, "%s: field '%s'[%zu] must be an integer id", src.c_str(), key, i);
      }
      out->push_back(x);
    }
    return Status::Ok();
  }
  return Status::Error(kBad, "%s: field '%s' must be %s", src.c_str(), key,
                       list_ok ? "an integer id, a list of them or null" : "an integer id or null");
}
}  // namespace

Status hf_read_generation_ids(HfDir* dir, int64_t default_bos, int64_t default_eos, HfGenerationIds* out) {
  const std::string gc = path_join(dir->path, "generation_config.json");
  bool present = false;
  HEED_RETURN_IF_ERROR(optional_file(gc, &present));
  JsonValue gen;
  const JsonValue* root = &dir->config;
  out->source = dir->config_name;
  if (present) {
    HEED_RETURN_IF_ERROR(parse_config(dir, gc, &gen));
    if (!gen.is_object()) return Status::Error(kBad, "%s: top level must be an object", gc.c_str());
    root = &gen;
    out->source = gc;
  }
  std::vector<int64_t> ids;
  const JsonValue* b = root->find("bos_token_id");
  const JsonValue* e = root->find("eos_token_id");
  out->bos = present ? -1 : default_bos;
  if (b) {
    HEED_RETURN_IF_ERROR(read_special_id(*b, out->source, "bos_token_id", false, &ids));
    out->bos = ids.empty() ? -1 : ids[0];
  }
  out->eos.clear();
  if (!present && !e) out->eos.push_back(default_eos);
  if (e) HEED_RETURN_IF_ERROR(read_special_id(*e, out->source, "eos_token_id", true, &out->eos));
  return Status::Ok();
}

Status hf_source_files(const HfDir& dir, const std::vector<std::string>& names, std::vector<IrSourceFile>* out) {
  if (names.size() > kMaxSourceFiles) {
    return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: %zu source files; more than heed's cap of %zu is not supported", dir.path.c_str(),
                         names.size(), kMaxSourceFiles);
  }
  for (const std::string& n : names) {
    const std::string p = path_join(dir.path, n);
    if (path_kind(p) != PathKind::kRegular) continue;
    IrSourceFile f;
    f.name = n;
    InputFile file;
    HEED_RETURN_IF_ERROR(file.open(p));
    f.size = file.size();
    HEED_RETURN_IF_ERROR(sha256_file_hex(p, &f.sha256));
    out->push_back(f);
  }
  return Status::Ok();
}

}  // namespace heed::conv
