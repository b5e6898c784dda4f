// heed-sampler-probe: prints the sampler's distribution for logits read from
// stdin, so that tests/e2e/test_sampler.py can compare it with transformers'
// logits processors. Test-only (not installed). It includes the internal
// generate/sampler.h because the sampler has no C API of its own: users reach
// it through generation, which needs a decoder model.
//
// stdin, three lines:  temperature top_k top_p repetition_penalty
//                      history ids (may be empty)
//                      logits (the vocabulary size is their count)
// stdout: one line of probabilities (%.17g), or "error: <message>" and exit 1.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "generate/sampler.h"

int main() {
  std::string l1, l2, l3;
  if (!std::getline(std::cin, l1) || !std::getline(std::cin, l2) || !std::getline(std::cin, l3)) {
    std::printf("error: expected three lines\n");
    return 1;
  }
  heed::SamplerParams p;
  std::istringstream a(l1);
  if (!(a >> p.temperature >> p.top_k >> p.top_p >> p.repetition_penalty)) {
    std::printf("error: bad parameter line\n");
    return 1;
  }
  std::vector<int32_t> hist;
  std::istringstream b(l2);
  for (int32_t v; b >> v;) hist.push_back(v);
  std::vector<float> logits;
  std::istringstream c(l3);
  for (std::string w; c >> w;) logits.push_back(std::strtof(w.c_str(), nullptr));  // also "nan", "inf"
  heed::Status st = heed::sampler_check(p);
  if (st.ok()) {
    std::vector<uint64_t> ws(heed::sampler_workspace_bytes(logits.size()) / 8 + 1);
    heed::Sampler s(p, logits.size(), ws.data());
    std::vector<double> probs(logits.size());
    st = s.distribution(logits.data(), hist.data(), hist.size(), probs.data());
    if (st.ok()) {
      for (size_t i = 0; i < probs.size(); ++i) std::printf(i ? " %.17g" : "%.17g", probs[i]);
      std::printf("\n");
      return 0;
    }
  }
  std::printf("error: %s\n", st.message());
  return 1;
}
