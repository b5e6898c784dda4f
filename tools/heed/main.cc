// heed: command line front end. No logic lives here beyond argument handling.
#include <cstdio>
#include <cstring>
#include <new>

#include "cli.h"
#include "heed/heed.h"

namespace {
void usage(FILE* f) {
  std::fprintf(f,
               "heed %s: int8 transformer inference for small devices\n\n"
               "usage: heed <command> [options]\n\n"
               "commands:\n"
               "  convert <hf-dir> -o model.heed [--precision int8|fp32] [--calib FILE]\n"
               "                     Hugging Face checkpoint -> .heed (prints a quantization error table)\n"
               "  inspect model.heed [--json]       ops, tensors, bytes by dtype, quantization error\n"
               "  tokenize model.heed [TEXT...] [--json]   token ids, one line per text\n"
               "  embed model.heed [TEXT...] [--json] [--threads N] [--max-seq N]\n"
               "                     sentence embeddings, one line per text\n"
               "  embed model.heed --attention-svg out.svg [--layer L] [--head H] TEXT\n"
               "                     encoders: one head's attention weights for TEXT as an SVG heat map\n"
               "  classify model.heed [TEXT...] [--json] [--threads N] [--max-seq N]\n"
               "                     label and scores, one line per text:\n"
               "                     LABEL<TAB>LABEL0=SCORE<TAB>...; labels escaped (\\\\ \\t \\n \\r \\xHH)\n"
               "  logits model.heed --ids ID,ID,... [--last] [--json] [--threads N] [--max-seq N]\n"
               "                     causal LM: next-token logits of every position (or the last)\n"
               "  perplexity model.heed FILE [--ctx N] [--json] [--threads N]   (or --ids-file IDS)\n"
               "                     causal LM: perplexity of a text file in windows of N tokens\n"
               "  generate model.heed \"PROMPT\" | --ids ID,... [-n N] [--temp T] [--top-k K] [--top-p P]\n"
               "           [--repeat-penalty R] [--seed S] [--stop-id ID ...] [--ignore-eos] [--ctx N] [--json]\n"
               "                     causal LM: streams generated text (greedy unless --temp > 0)\n"
               "  bench model.heed [--seq N] [--threads N] [--iters N] [--warmup N] [--isa ISA] [--json]\n"
               "                     latency of one forward pass (median)\n\n"
               "Without TEXT arguments, tokenize/embed/classify read stdin one line at a time and\n"
               "print each result as soon as it is computed; a line longer than --max-line-bytes N\n"
               "(default 1048576) stops the run with an error naming the line.\n"
               "--threads N (1..256) is capped at the CPUs this process may use.\n"
               "Set HEED_ISA=scalar|avx2|avx512vnni|neon|neondot to cap the kernels used; an unknown\n"
               "or unsupported name is an error.\n",
               heed_version());
}
}  // namespace

int dispatch(int argc, char** argv);

int main(int argc, char** argv) {
  // Inputs are bounded before anything is allocated for them; a machine that
  // is short of memory still gets a message and exit status 1, not an abort.
  try {
    return dispatch(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fputs("heed: out of memory\n", stderr);
    return 1;
  }
}

int dispatch(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("heed %s\n", heed_version());
    return 0;
  }
  const char* cmd = argv[1];
  if (!std::strcmp(cmd, "convert")) return heed::cli::cmd_convert(argc - 1, argv + 1);
  if (!std::strcmp(cmd, "inspect")) return heed::cli::cmd_inspect(argc - 1, argv + 1);
  if (!std::strcmp(cmd, "tokenize")) return heed::cli::cmd_tokenize(argc - 1, argv + 1);
  if (!std::strcmp(cmd, "embed")) return heed::cli::cmd_embed(argc - 1, argv + 1);
  if (!std::strcmp(cmd, "classify")) return heed::cli::cmd_classify(argc - 1, argv + 1);
  if (!std::strcmp(cmd, "bench")) return heed::cli::cmd_bench(argc - 1, argv + 1);
  if (!std::strcmp(cmd, "logits")) return heed::cli::cmd_logits(argc - 1, argv + 1);
  if (!std::strcmp(cmd, "perplexity")) return heed::cli::cmd_perplexity(argc - 1, argv + 1);
  if (!std::strcmp(cmd, "generate")) return heed::cli::cmd_generate(argc - 1, argv + 1);
  std::fprintf(stderr, "heed: unknown command '%s'\n\n", cmd);
  usage(stderr);
  return 2;
}
