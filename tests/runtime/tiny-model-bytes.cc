// Serialized tiny models for tests that must not see the runtime's internal
// headers (the C++ wrapper test: heed::Model means the wrapper there).
#include <vector>

#include "runtime/tiny-model.h"

namespace heed::test {
std::vector<uint8_t> tiny_model_bytes(bool int8) { return serialize(tiny_graph(int8)); }
}  // namespace heed::test
