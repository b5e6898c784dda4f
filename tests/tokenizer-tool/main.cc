// heed-tokenizer-tool: the graph-free test route of heed's BPE (and
// WordPiece) tokenizers. Reads DIR/tokenizer.json through the converter's
// reader, writes a tokenizer-only .heed FlatBuffer with the converter's
// writer, loads it with the runtime's loader (the same table checks as
// Model::load), then serves stdin one line at a time (lines end at '\n';
// any bytes, invalid UTF-8 included) and prints one JSON object per line:
//
//   heed-tokenizer-tool DIR encode   text lines -> {"ids": [...], "decoded": S,
//                                    "decoded_skip": S, "stream": [HEX, ...]}
//   heed-tokenizer-tool DIR decode   lines of space-separated ids -> the same
//                                    without "ids"
//   heed-tokenizer-tool DIR info     {"kind": K, "vocab": N, "merges": M}
//   heed-tokenizer-tool DIR tiny-model OUT.heed
//                                    writes a model with this tokenizer and a
//                                    tiny random-weight encoder graph (tests of
//                                    `heed tokenize` on BPE models; its outputs
//                                    mean nothing)
//
// "ids" has the post-processor's special tokens (bos/eos); "decoded" and
// "decoded_skip" are decode() with skip_special false / true; "stream" is
// what the streaming decoder wrote after each id (then after the end), as
// hex, so a test can check that every chunk is valid UTF-8 by itself.
// Exit status: 0, or 1 with a message on stderr (the line number for a line
// that fails).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "format/model.h"
#include "hf/hf-dir.h"
#include "ir.h"
#include "runtime/tiny-model.h"

namespace {

void print_json_string(const char* s, size_t n) {
  std::putchar('"');
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      std::printf("\\%c", c);
    } else if (c < 0x20) {
      std::printf("\\u%04x", c);
    } else {
      std::putchar(c);
    }
  }
  std::putchar('"');
}

void print_hex(const char* s, size_t n) {
  std::putchar('"');
  for (size_t i = 0; i < n; ++i) std::printf("%02x", static_cast<unsigned char>(s[i]));
  std::putchar('"');
}

int fail(const heed::Status& s, size_t line) {
  if (line > 0) {
    std::fprintf(stderr, "heed-tokenizer-tool: stdin line %zu: %s (%s)\n", line, s.message(),
                 heed_status_name(s.code()));
  } else {
    std::fprintf(stderr, "heed-tokenizer-tool: %s (%s)\n", s.message(), heed_status_name(s.code()));
  }
  return 1;
}

// Decoded text both ways plus the stream's chunks.
heed::Status print_decoded(const heed::BpeTokenizer& tok, const std::vector<int32_t>& ids) {
  std::string text;
  for (bool skip : {false, true}) {
    size_t len = 0;
    heed::Status st = tok.decode(ids.data(), ids.size(), skip, nullptr, 0, &len);
    if (!st.ok() && st.code() != HEED_ERROR_BUFFER_TOO_SMALL) return st;
    text.assign(len, '\0');
    HEED_RETURN_IF_ERROR(tok.decode(ids.data(), ids.size(), skip, text.data(), text.size(), &len));
    std::printf(skip ? ", \"decoded_skip\": " : "\"decoded\": ");
    print_json_string(text.data(), len);
  }
  std::vector<char> chunk(tok.stream_max_bytes());
  heed::BpeTokenizer::DecodeState state;
  tok.stream_begin(&state, false);
  std::printf(", \"stream\": [");
  for (size_t i = 0; i <= ids.size(); ++i) {
    size_t len = 0;
    if (i < ids.size()) {
      HEED_RETURN_IF_ERROR(tok.stream_feed(&state, ids[i], chunk.data(), chunk.size(), &len));
    } else {
      HEED_RETURN_IF_ERROR(tok.stream_end(&state, chunk.data(), chunk.size(), &len));
    }
    if (i > 0) std::printf(", ");
    print_hex(chunk.data(), len);
  }
  std::printf("]");
  return heed::Status::Ok();
}

heed::Status parse_ids(const std::string& line, std::vector<int32_t>* ids) {
  ids->clear();
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == ' ') {
      ++i;
      continue;
    }
    long long v = 0;
    size_t start = i;
    bool neg = line[i] == '-';
    if (neg) ++i;
    while (i < line.size() && line[i] >= '0' && line[i] <= '9' && v < (1ll << 40)) v = v * 10 + (line[i++] - '0');
    if (i == start + (neg ? 1 : 0) || (i < line.size() && line[i] != ' ') || v > INT32_MAX) {
      return heed::Status::Error(HEED_ERROR_INVALID_ARGUMENT, "not a list of integer ids");
    }
    ids->push_back(int32_t(neg ? -v : v));
  }
  return heed::Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  const bool tiny = argc == 4 && !std::strcmp(argv[2], "tiny-model");
  if (!tiny && (argc != 3 || (std::strcmp(argv[2], "encode") && std::strcmp(argv[2], "decode") &&
                              std::strcmp(argv[2], "info")))) {
    std::fprintf(stderr, "usage: heed-tokenizer-tool DIR encode|decode|info < lines\n"
                         "       heed-tokenizer-tool DIR tiny-model OUT.heed\n");
    return 2;
  }
  heed::conv::HfDir dir;
  dir.path = argv[1];
  heed::conv::IrTokenizer ir;
  heed::Status st = heed::conv::hf_read_tokenizer(&dir, &ir);
  if (!st.ok()) return fail(st, 0);
  std::vector<uint8_t> bytes;
  if (tiny) {
    st = heed::conv::write_model(heed::test::tiny_graph(false, 32, 4, 64, 64, &ir), nullptr, &bytes);
    if (!st.ok()) return fail(st, 0);
    FILE* f = std::fopen(argv[3], "wb");
    if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fclose(f) != 0) {
      return fail(heed::Status::Error(HEED_ERROR_IO, "cannot write %s", argv[3]), 0);
    }
    return 0;
  }
  st = heed::conv::write_tokenizer_model(ir, &bytes);
  if (!st.ok()) return fail(st, 0);
  // The loader wants the buffer at a 64-byte aligned address, like a mapping.
  void* aligned = std::aligned_alloc(64, (bytes.size() + 63) / 64 * 64);
  if (!aligned) return fail(heed::Status::Error(HEED_ERROR_OUT_OF_MEMORY, "out of memory"), 0);
  std::memcpy(aligned, bytes.data(), bytes.size());
  heed::ModelTokenizer tok;
  st = heed::load_tokenizer_only(static_cast<const uint8_t*>(aligned), bytes.size(), &tok);
  std::free(aligned);
  if (!st.ok()) return fail(st, 0);
  if (!std::strcmp(argv[2], "info")) {
    const char* kind = tok.kind == heed::TokenizerKind::kWordPiece     ? "wordpiece"
                       : tok.kind == heed::TokenizerKind::kBpeByteLevel ? "bpe-byte-level"
                                                                        : "bpe-sentencepiece";
    std::printf("{\"kind\": \"%s\", \"vocab\": %zu, \"merges\": %zu}\n", kind, tok.vocab_size(),
                tok.is_bpe() ? tok.bpe.num_merges() : size_t{0});
    return 0;
  }
  if (!tok.is_bpe()) {
    return fail(heed::Status::Error(HEED_ERROR_UNSUPPORTED, "encode/decode here serve BPE tokenizers only"), 0);
  }
  const heed::BpeTokenizer& bpe = tok.bpe;
  const bool encode = !std::strcmp(argv[2], "encode");
  std::string line;
  std::vector<int32_t> ids;
  std::vector<unsigned char> scratch;
  size_t line_no = 0;
  int c;
  bool more = true;
  while (more) {
    line.clear();
    while ((c = std::getchar()) != EOF && c != '\n') line.push_back(char(c));
    if (c == EOF && line.empty()) break;
    more = c != EOF;
    ++line_no;
    std::printf("{");
    if (encode) {
      scratch.resize(heed::BpeTokenizer::scratch_bytes(line.size()));
      size_t n = 0;
      ids.resize(line.size() + 8);
      st = bpe.encode(line.data(), line.size(), true, scratch.data(), scratch.size(), ids.data(), ids.size(), &n);
      if (!st.ok()) return fail(st, line_no);
      ids.resize(n);
      std::printf("\"ids\": [");
      for (size_t i = 0; i < n; ++i) std::printf(i ? ", %d" : "%d", ids[i]);
      std::printf("], ");
    } else {
      st = parse_ids(line, &ids);
      if (!st.ok()) return fail(st, line_no);
    }
    st = print_decoded(bpe, ids);
    if (!st.ok()) return fail(st, line_no);
    std::printf("}\n");
    std::fflush(stdout);
  }
  return 0;
}
