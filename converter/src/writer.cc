// IR -> FlatBuffer. Weight buffers are forced to 64-byte alignment (relative to
// the buffer end; the runtime loads at a 64-byte aligned address).
#include <cstring>

#include "format/schema.h"
#include "format/weight-layout.h"
#include "ir.h"
#include "ops/op.h"

namespace heed::conv {

namespace {

flatbuffers::Offset<fb::Tokenizer> write_tokenizer(flatbuffers::FlatBufferBuilder& b, const IrTokenizer& tk) {
  if (tk.vocab.empty()) return 0;
  std::vector<uint8_t> pieces;
  std::vector<uint32_t> offsets{0};
  for (const std::string& p : tk.vocab) {
    pieces.insert(pieces.end(), p.begin(), p.end());
    offsets.push_back(uint32_t(pieces.size()));
  }
  auto vp = b.CreateVector(pieces);
  auto vo = b.CreateVector(offsets);
  auto special = b.CreateVector(tk.special_ids);
  if (tk.kind == TokenizerKind::kWordPiece) {
    auto prefix = b.CreateString(tk.continuing_prefix);
    return fb::CreateTokenizer(b, fb::TokenizerKind::WORDPIECE, vp, vo, tk.unk_id, tk.cls_id, tk.sep_id, tk.pad_id,
                               prefix, tk.max_input_chars_per_word, tk.lowercase, tk.strip_accents,
                               tk.handle_chinese_chars, tk.clean_text, tk.max_length, special);
  }
  auto merges = b.CreateVector(tk.merges);
  auto added = b.CreateVector(tk.added_ids);
  fb::TokenizerBuilder t(b);
  t.add_kind(static_cast<fb::TokenizerKind>(tk.kind));
  t.add_pieces(vp);
  t.add_offsets(vo);
  t.add_unk_id(tk.unk_id);
  t.add_pad_id(tk.pad_id);
  t.add_special_ids(special);
  t.add_merges(merges);
  t.add_bpe_flags(tk.bpe_flags);
  t.add_bos_id(tk.bos_id);
  t.add_eos_id(tk.eos_id);
  t.add_added_ids(added);
  t.add_decode_strip(tk.decode_strip);
  return t.Finish();
}


flatbuffers::Offset<void> write_options(flatbuffers::FlatBufferBuilder& b, const OpEntry& e, const OpAttrs& attrs) {
  const uint8_t* base = reinterpret_cast<const uint8_t*>(&attrs);
  // Vectors go into the buffer before the table that points at them.
  flatbuffers::Offset<flatbuffers::Vector<int32_t>> vectors[32];
  for (int f = 0; f < e.num_option_fields && f < 32; ++f) {
    const OptionSpec& s = e.option_fields[f];
    if (s.type != OptionSpec::kI32Vector) continue;
    const auto& v = *reinterpret_cast<const std::vector<int32_t>*>(base + s.attr_offset);
    if (!v.empty()) vectors[f] = b.CreateVector(v);
  }
  const flatbuffers::uoffset_t start = b.StartTable();
  for (int f = 0; f < e.num_option_fields; ++f) {
    const OptionSpec& s = e.option_fields[f];
    switch (s.type) {
      case OptionSpec::kI8: {
        int8_t v;
        std::memcpy(&v, base + s.attr_offset, 1);
        b.AddElement<int8_t>(s.vt, v);
        break;
      }
      case OptionSpec::kI32: {
        int32_t v;
        std::memcpy(&v, base + s.attr_offset, 4);
        b.AddElement<int32_t>(s.vt, v);
        break;
      }
      case OptionSpec::kF32: {
        float v;
        std::memcpy(&v, base + s.attr_offset, 4);
        b.AddElement<float>(s.vt, v);
        break;
      }
      case OptionSpec::kI32Vector:
        if (!vectors[f].IsNull()) b.AddOffset(s.vt, vectors[f]);
        break;
    }
  }
  return flatbuffers::Offset<void>(b.EndTable(start));
}

}  // namespace

Status write_tokenizer_model(const IrTokenizer& tk, std::vector<uint8_t>* out) {
  flatbuffers::FlatBufferBuilder b(size_t(1) << 20);
  auto tokenizer = write_tokenizer(b, tk);
  auto md = fb::CreateMetadata(b, b.CreateString("tokenizer-only"), fb::Task::EMBEDDING,
                               b.CreateString("heed-convert " HEED_VERSION));
  fb::ModelBuilder m(b);
  m.add_schema_version(kSchemaVersion);
  m.add_metadata(md);
  m.add_tokenizer(tokenizer);
  fb::FinishModelBuffer(b, m.Finish());
  if (b.GetSize() > size_t(kMaxFileBytes) - 1) {
    return Status::Error(HEED_ERROR_UNSUPPORTED, "tokenizer of %zu bytes exceeds the 2 GiB FlatBuffer limit",
                         size_t(b.GetSize()));
  }
  out->assign(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
  return Status::Ok();
}

Status write_model(const IrGraph& g, const IrPlan* plan, std::vector<uint8_t>* out) {
  // One FlatBuffer holds at most 2 GiB: refuse a model whose weights alone
  // exceed that before building anything (the builder would wrap offsets).
  uint64_t weight_bytes = 0;
  for (const IrTensor& t : g.tensors) {
    weight_bytes += t.dtype == DType::kI8 ? t.i8.size() : t.f32.size() * sizeof(float);
    weight_bytes += t.scales.size() * sizeof(float) + 64;
  }
  if (weight_bytes > kMaxFileBytes - 1) {
    return Status::Error(HEED_ERROR_UNSUPPORTED,
                         "the converted model's weights take %llu bytes; one .heed file holds at most 2 GiB "
                         "(try --precision int8)",
                         (unsigned long long)weight_bytes);
  }
  flatbuffers::FlatBufferBuilder b(size_t(1) << 20);
  // GEMM weights (kGemmWeights slots of the ops' signatures) are written in
  // the kernels' packed layouts.
  std::vector<uint8_t> fc_weight(g.tensors.size(), 0);
  for (const IrOp& op : g.ops) {
    const OpEntry* e = op_entry(op.kind);
    for (size_t k = 0; e && k < op.inputs.size() && int(k) < e->signature.num_inputs; ++k) {
      const int32_t t = op.inputs[k];
      if ((e->signature.inputs[k].flags & kGemmWeights) && t >= 0 && size_t(t) < g.tensors.size()) fc_weight[size_t(t)] = 1;
    }
  }
  // Buffer 0 is the empty sentinel.
  std::vector<flatbuffers::Offset<fb::Buffer>> buffers;
  buffers.push_back(fb::CreateBuffer(b));
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  std::vector<uint8_t> packed;
  for (size_t ti = 0; ti < g.tensors.size(); ++ti) {
    const IrTensor& t = g.tensors[ti];
    uint32_t buffer_index = 0;
    fb::WeightLayout layout = fb::WeightLayout::ROW_MAJOR;
    if (t.kind == TensorKind::kConstant) {
      const uint8_t* bytes = t.dtype == DType::kI8 ? reinterpret_cast<const uint8_t*>(t.i8.data())
                                                   : reinterpret_cast<const uint8_t*>(t.f32.data());
      size_t n = t.dtype == DType::kI8 ? t.i8.size() : t.f32.size() * sizeof(float);
      if (fc_weight[ti] && t.shape.size() == 2) {
        const size_t rows = size_t(t.shape[0]), cols = size_t(t.shape[1]);
        if (t.dtype == DType::kI8) {
          packed.resize(qs8_packed_bytes(rows, cols));
          qs8_pack_weights(rows, cols, t.i8.data(), reinterpret_cast<int8_t*>(packed.data()));
          layout = fb::WeightLayout::PACKED_N16K4;
        } else {
          packed.resize(f32_packed_floats(rows, cols) * sizeof(float));
          f32_pack_weights(rows, cols, t.f32.data(), reinterpret_cast<float*>(packed.data()));
          layout = fb::WeightLayout::PACKED_N16;
        }
        bytes = packed.data();
        n = packed.size();
      }
      b.ForceVectorAlignment(n, 1, 64);
      auto data = b.CreateVector(bytes, n);
      buffers.push_back(fb::CreateBuffer(b, data));
      buffer_index = uint32_t(buffers.size() - 1);
    }
    flatbuffers::Offset<fb::Quantization> quant;
    if (t.dtype == DType::kI8) quant = fb::CreateQuantization(b, b.CreateVector(t.scales), 0, t.quant_block);
    auto name = b.CreateString(t.name);
    auto shape = b.CreateVector(t.shape);
    tensors.push_back(fb::CreateTensor(b, name, static_cast<fb::DType>(t.dtype), static_cast<fb::TensorKind>(t.kind),
                                       shape, buffer_index, quant, layout));
  }
  std::vector<flatbuffers::Offset<fb::Op>> ops;
  for (const IrOp& op : g.ops) {
    // The options table from the fields the op's entry lists, every field
    // written; a kind this runtime does not know (only malformed-file tests
    // write one) gets none.
    flatbuffers::Offset<void> options;
    fb::OpOptions type = fb::OpOptions::NONE;
    if (const OpEntry* e = op_entry(op.kind); e && e->options != fb::OpOptions::NONE) {
      type = e->options;
      options = write_options(b, *e, op);
    }
    auto name = b.CreateString(op.name);
    auto ins = b.CreateVector(op.inputs);
    auto outs = b.CreateVector(op.outputs);
    // Version 2 when a slot that reads GEMM weights as stored gets them
    // packed (ops/op.h kReadsGemmWeights: EMBEDDING on a tied LM head).
    uint16_t version = 1;
    if (const OpEntry* e = op_entry(op.kind)) {
      for (size_t k = 0; k < op.inputs.size() && int(k) < e->signature.num_inputs; ++k) {
        const int32_t t = op.inputs[k];
        if ((e->signature.inputs[k].flags & kReadsGemmWeights) && t >= 0 && size_t(t) < g.tensors.size() &&
            fc_weight[size_t(t)])
          version = 2;
      }
    }
    ops.push_back(fb::CreateOp(b, static_cast<fb::OpKind>(op.kind), version, ins, outs, type, options, name));
  }
  flatbuffers::Offset<flatbuffers::Vector<fb::InputRole>> roles;
  if (!g.input_roles.empty()) {
    std::vector<fb::InputRole> r;
    for (InputRole role : g.input_roles) r.push_back(static_cast<fb::InputRole>(role));
    roles = b.CreateVector(r);
  }
  auto graph = fb::CreateGraph(b, b.CreateVector(tensors), b.CreateVector(ops), b.CreateVector(g.inputs),
                               b.CreateVector(g.outputs), roles);

  auto tokenizer = write_tokenizer(b, g.tokenizer);

  // Metadata.
  std::vector<flatbuffers::Offset<fb::SourceFile>> files;
  for (const auto& f : g.source_files) {
    files.push_back(fb::CreateSourceFile(b, b.CreateString(f.name), f.size, b.CreateString(f.sha256)));
  }
  std::vector<flatbuffers::Offset<fb::LayerQuantError>> report;
  for (const auto& r : g.quant_report) {
    report.push_back(fb::CreateLayerQuantError(b, b.CreateString(r.name), r.rel_rms, r.cosine));
  }
  std::vector<flatbuffers::Offset<flatbuffers::String>> labels;
  for (const auto& l : g.labels) labels.push_back(b.CreateString(l));
  flatbuffers::Offset<fb::Generation> gen;
  if (g.has_generation) gen = fb::CreateGeneration(b, g.bos_id, b.CreateVector(g.eos_ids));
  auto md = fb::CreateMetadata(b, b.CreateString(g.architecture), static_cast<fb::Task>(g.task),
                               b.CreateString("heed-convert " HEED_VERSION), b.CreateString(g.precision),
                               b.CreateVector(files), b.CreateVector(report), b.CreateVector(labels),
                               static_cast<fb::Pooling>(g.pooling), g.normalize, g.hidden_size, g.num_layers,
                               b.CreateString(g.calibration), g.kv_cache, b.CreateString(g.kv_cache_report), gen);
  flatbuffers::Offset<fb::MemoryPlan> mplan;
  if (plan) mplan = fb::CreateMemoryPlan(b, plan->seq_len, plan->arena_bytes, b.CreateVector(plan->tensor_offsets));
  auto model = fb::CreateModel(b, kSchemaVersion, md, graph, b.CreateVector(buffers), tokenizer, mplan);
  fb::FinishModelBuffer(b, model);
  if (b.GetSize() > size_t(kMaxFileBytes) - 1) {
    return Status::Error(HEED_ERROR_UNSUPPORTED, "model of %zu bytes exceeds the 2 GiB FlatBuffer limit",
                         size_t(b.GetSize()));
  }
  out->assign(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
  return Status::Ok();
}

}  // namespace heed::conv
