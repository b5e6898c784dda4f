#include <cstdio>

#include "cli.h"
#include "convert.h"

namespace heed::cli {

int cmd_convert(int argc, char** argv) {
  Args args;
  std::string err;
  if (!parse_args(argc, argv, {"-o", "--output", "--precision", "--int8-scheme", "--calib", "--isa", "--attention"}, {"-q", "--quiet"}, &args, &err)) {
    std::fprintf(stderr, "heed convert: %s\n", err.c_str());
    return 2;
  }
  const std::string out = args.get("-o", args.get("--output"));
  if (args.positional.size() != 1 || out.empty()) {
    std::fprintf(stderr, "usage: heed convert <hf-dir> -o model.heed [--precision int8|fp32] [--int8-scheme auto|per-row|per-row-smooth|block64|block32] [--calib FILE] [--isa ISA]\n"
                 "       [--attention SPEC]   SPEC: dense | window=W | global=K | global-at=P:Q:.. |\n"
                 "                            block=B,local=L,global-blocks=G,stride=S,random=R,seed=N | sinks=K\n");
    return 2;
  }
  conv::ConvertOptions o;
  o.input_dir = args.positional[0];
  o.output_path = out;
  o.precision = args.get("--precision", "int8");
  o.calib_file = args.get("--calib");
  o.int8_scheme = args.get("--int8-scheme", "auto");
  o.isa = args.get("--isa");
  o.attention = args.get("--attention");
  if (args.has("--attention") && o.attention.empty()) {
    std::fprintf(stderr, "heed convert: --attention needs a spec (e.g. window=256,global=2)\n");
    return 2;
  }
  o.log = (args.has("-q") || args.has("--quiet")) ? nullptr : stderr;
  conv::ConvertResult r;
  Status s = conv::convert(o, &r);
  if (!s.ok()) {
    std::fprintf(stderr, "heed convert: error: %s\n", escape_text(s.message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace heed::cli
