// Converter files (io/file.h): inputs that are not regular files are refused
// without blocking, reads are capped, and the output is written so that no
// planted symlink is followed and no input is overwritten (I1, I3).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <vector>

#include "io-test-util.h"
#include "io/file.h"

namespace heed::conv {
namespace {

using testing::TempDir;
using testing::write_file;

std::string slurp(const std::string& path) {
  std::string s;
  REQUIRE(read_file(path, uint64_t{1} << 30, &s).ok());
  return s;
}

bool contains(const std::string& haystack, const char* needle) { return haystack.find(needle) != std::string::npos; }

// A blocking open or read would stop the test here: fail it instead of
// hanging CI.
struct Deadline {
  Deadline() { alarm(20); }
  ~Deadline() { alarm(0); }
};

const std::vector<uint8_t> kBytes = {'h', 'e', 'e', 'd', 0, 1, 2, 3};

TEST_SUITE("fast") {

TEST_CASE("io: a FIFO, a directory or a device is refused without blocking") {
  TempDir dir;
  const std::string fifo = dir.file("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  Deadline deadline;
  std::string out;
  Status s = read_file(fifo, 1 << 20, &out);
  CHECK(s.code() == HEED_ERROR_IO);
  CHECK(contains(s.message(), "not a regular file (a FIFO)"));
  s = read_file("/dev/zero", 1 << 20, &out);
  CHECK(s.code() == HEED_ERROR_IO);
  CHECK(contains(s.message(), "(a device)"));
  s = read_file(dir.path(), 1 << 20, &out);
  CHECK(s.code() == HEED_ERROR_IO);
  CHECK(contains(s.message(), "(a directory)"));
  CHECK(path_kind(fifo) == PathKind::kOther);
  CHECK(path_kind(dir.path()) == PathKind::kDirectory);
  CHECK(path_kind(dir.file("none")) == PathKind::kMissing);
}

TEST_CASE("io: read_file refuses a file above its cap before allocating") {
  TempDir dir;
  const std::string big = dir.file("big");
  // Sparse: 8 GiB of size, no disk or memory used unless someone reads it.
  const int fd = ::open(big.c_str(), O_CREAT | O_WRONLY, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::ftruncate(fd, off_t{8} << 30) == 0);
  ::close(fd);
  std::string out;
  const Status s = read_file(big, uint64_t{64} << 20, &out);
  CHECK(s.code() == HEED_ERROR_OUT_OF_MEMORY);
  CHECK(contains(s.message(), "8589934592 bytes, larger than the 67108864-byte cap"));
  CHECK(out.empty());
  write_file(dir.file("small"), "abc");
  CHECK(read_file(dir.file("small"), 3, &out).ok());
  CHECK(out == "abc");
  CHECK(read_file(dir.file("small"), 2, &out).code() == HEED_ERROR_OUT_OF_MEMORY);
}

TEST_CASE("io: the output is written through a fresh temporary file, never a planted symlink") {
  TempDir dir;
  const std::string out = dir.file("model.heed");
  const std::string victim = dir.file("victim");
  write_file(victim, "precious");
  // The names an attacker would guess: the old fixed temp name and the output.
  REQUIRE(::symlink(victim.c_str(), (out + ".tmp").c_str()) == 0);
  REQUIRE(write_file_atomic(out, kBytes, {}).ok());
  CHECK(slurp(victim) == "precious");
  CHECK(slurp(out) == std::string(kBytes.begin(), kBytes.end()));
  // An existing output that is a symlink is replaced itself; its target stays.
  const std::string link = dir.file("link.heed");
  REQUIRE(::symlink(victim.c_str(), link.c_str()) == 0);
  REQUIRE(write_file_atomic(link, kBytes, {}).ok());
  CHECK(slurp(victim) == "precious");
  struct stat st;
  REQUIRE(::lstat(link.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  // No temporary file is left behind; permissions follow the umask, not mkstemp's 0600.
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 4);  // victim, model.heed.tmp (the planted link), model.heed, link.heed
  const mode_t mask = ::umask(022);
  REQUIRE(write_file_atomic(out, kBytes, {}).ok());
  ::umask(mask);
  REQUIRE(::stat(out.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
}

TEST_CASE("io: an output that is one of the inputs is refused, also through links") {
  TempDir dir;
  const std::string input = dir.file("model.safetensors");
  write_file(input, "weights");
  const std::vector<std::string> inputs = {dir.file("config.json"), input};
  Status s = write_file_atomic(input, kBytes, inputs);
  CHECK(s.code() == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(contains(s.message(), "is the input file"));
  REQUIRE(::symlink(input.c_str(), dir.file("sym.heed").c_str()) == 0);
  CHECK(write_file_atomic(dir.file("sym.heed"), kBytes, inputs).code() == HEED_ERROR_INVALID_ARGUMENT);
  REQUIRE(::link(input.c_str(), dir.file("hard.heed").c_str()) == 0);
  CHECK(write_file_atomic(dir.file("hard.heed"), kBytes, inputs).code() == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(write_file_atomic(dir.path() + "/./model.safetensors", kBytes, inputs).code() == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(slurp(input) == "weights");
  // Another existing regular file is replaced, as any output would be.
  write_file(dir.file("old.heed"), "old");
  CHECK(write_file_atomic(dir.file("old.heed"), kBytes, inputs).ok());
  CHECK(slurp(dir.file("old.heed")).size() == kBytes.size());
}

TEST_CASE("io: outputs that are not regular files or cannot be created are errors, nothing is left") {
  TempDir dir;
  REQUIRE(::mkfifo(dir.file("fifo").c_str(), 0600) == 0);
  Deadline deadline;
  Status s = write_file_atomic(dir.file("fifo"), kBytes, {});
  CHECK(s.code() == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(contains(s.message(), "a FIFO"));
  s = write_file_atomic(dir.path(), kBytes, {});
  CHECK(s.code() == HEED_ERROR_INVALID_ARGUMENT);
  s = write_file_atomic(dir.file("no-such-dir/model.heed"), kBytes, {});
  CHECK(s.code() == HEED_ERROR_IO);
  CHECK(contains(s.message(), "cannot create a temporary file"));
  CHECK(write_file_atomic("", kBytes, {}).code() == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(write_file_atomic(dir.path() + "/", kBytes, {}).code() == HEED_ERROR_INVALID_ARGUMENT);
  if (::geteuid() != 0) {  // root writes anywhere
    REQUIRE(::mkdir(dir.file("ro").c_str(), 0500) == 0);
    CHECK(write_file_atomic(dir.file("ro/model.heed"), kBytes, {}).code() == HEED_ERROR_IO);
  }
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  CHECK(entries == (::geteuid() != 0 ? 2u : 1u));
}

}  // TEST_SUITE
}  // namespace
}  // namespace heed::conv
