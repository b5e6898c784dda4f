// One-off measurement behind docs/decisions.md 15: parse time and peak memory
// of tokenizer.json with heed's JSON parser (converter/src/io/json.h),
// RapidJSON (DOM, UTF-8 validated) and simdjson (DOM). Each run parses the
// file `reps` times, walks model.vocab and model.merges as the converter does
// (counting them), and prints the best time. Peak memory: run it under
// /usr/bin/time -f %M, one parser per process. Build and commands:
// docs/benchmarks.md ("JSON parsers on tokenizer.json").
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "io/json.h"
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <simdjson.h>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: bench-json heed|rapidjson|simdjson FILE REPS\n");
    return 2;
  }
  const std::string which = argv[1];
  std::ifstream f(argv[2], std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  const int reps = std::atoi(argv[3]);
  double best = 1e30;
  size_t vocab = 0, merges = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    if (which == "heed") {
      heed::conv::JsonValue root;
      heed::conv::JsonLimits limits;
      limits.max_values = size_t{1} << 22;
      heed::Status st = heed::conv::json_parse(text, "tokenizer.json", &root, limits);
      if (!st.ok()) {
        std::fprintf(stderr, "%s\n", st.message());
        return 1;
      }
      const heed::conv::JsonValue* model = root.find("model");
      vocab = model->find("vocab")->members().size();
      merges = model->find("merges")->items().size();
    } else if (which == "rapidjson") {
      rapidjson::Document d;
      d.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
      if (d.HasParseError()) {
        std::fprintf(stderr, "%s\n", rapidjson::GetParseError_En(d.GetParseError()));
        return 1;
      }
      vocab = d["model"]["vocab"].MemberCount();
      merges = d["model"]["merges"].Size();
    } else if (which == "simdjson") {
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      if (parser.parse(text).get(doc)) return 1;
      simdjson::dom::object v;
      simdjson::dom::array m;
      if (doc["model"]["vocab"].get(v) || doc["model"]["merges"].get(m)) return 1;
      vocab = v.size();
      merges = m.size();
    } else {
      return 2;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s < best) best = s;
  }
  std::printf("%s %s: %zu bytes, vocab %zu, merges %zu, best of %d: %.1f ms\n", which.c_str(), argv[2], text.size(),
              vocab, merges, reps, best * 1e3);
  return 0;
}
