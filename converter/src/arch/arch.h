// Architecture mappers: Hugging Face config + weights -> fp32 IR graph.
#pragma once

#include "core/status.h"
#include "hf/hf-dir.h"
#include "io/safetensors.h"
#include "ir.h"

namespace heed::conv {

// Progress callback: done/total steps, a short label.
using ProgressFn = void (*)(void* user, size_t done, size_t total, const char* label);

// BertModel (sentence embeddings, with the directory's pooling/normalize) and
// BertForSequenceClassification (pooler + classifier -> logits).
Status bert_build(const HfDir& dir, const SafeTensors& weights, IrGraph* g, ProgressFn progress, void* user);

// Causal LMs (no tokenizer written; token ids are given directly): logits
// [S, vocab] at every position. LlamaForCausalLM (arch/llama.cc) and
// GPT2LMHeadModel (arch/gpt2.cc).
Status llama_build(const HfDir& dir, const SafeTensors& weights, IrGraph* g, ProgressFn progress, void* user);
Status gpt2_build(const HfDir& dir, const SafeTensors& weights, IrGraph* g, ProgressFn progress, void* user);

}  // namespace heed::conv
