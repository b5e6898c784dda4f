// heed convert: Hugging Face directory -> .heed file.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir.h"

namespace heed::conv {

struct ConvertOptions {
  std::string input_dir;
  std::string output_path;
  std::string precision = "int8";  // "int8" | "fp32"
  std::string calib_file;          // one text per line: static activation scales
  // int8 GEMM scheme: "auto" (the cheapest of the list below whose output
  // keeps a mean cosine >= 0.9998 to fp32 on the calibration texts, else the
  // most accurate), or one of them by name: "per-row", "per-row-smooth",
  // "block64", "block32".
  std::string int8_scheme = "auto";
  std::string isa;                 // kernels the measurements run on ("" = best; any gives the same bytes)
  // Attention patterns written into every ATTENTION op instead of the
  // checkpoint's (runtime/src/ops/attention-spec.h: "window=256,global=2",
  // "block=64,local=1,global-blocks=1,random=2,seed=7", ...); empty = the
  // checkpoint's (dense, or a Mistral config's sliding_window).
  std::string attention;
  FILE* log = stderr;              // progress and report; null = quiet
};

struct ConvertResult {
  std::vector<IrQuantRow> report;
  std::string calibration;
  size_t file_bytes = 0;
};

Status convert(const ConvertOptions& options, ConvertResult* result);

}  // namespace heed::conv
