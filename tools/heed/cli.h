// Shared helpers of the `heed` subcommands. Each subcommand lives in its own
// file and returns a process exit code.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace heed::cli {

struct Args {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> flags;  // --name value (value "" for switches)
  bool has(const std::string& name) const;
  std::string get(const std::string& name, const std::string& fallback = "") const;
};

// Parses argv; `valued` lists flags that take a value. Returns false with a
// message on unknown flags or a missing value.
bool parse_args(int argc, char** argv, const std::vector<std::string>& valued,
                const std::vector<std::string>& switches, Args* out, std::string* error);

// Texts from the positional arguments after the model, or from stdin (one
// per line, split on '\n' only).
std::vector<std::string> read_texts(const Args& args, size_t first);

bool parse_size(const std::string& s, size_t* out);
void print_json_string(FILE* f, const std::string& s);

int cmd_convert(int argc, char** argv);
int cmd_inspect(int argc, char** argv);
int cmd_tokenize(int argc, char** argv);
int cmd_embed(int argc, char** argv);
int cmd_classify(int argc, char** argv);
int cmd_bench(int argc, char** argv);

}  // namespace heed::cli
