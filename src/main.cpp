// labcount: count CSV rows per key, on the CPU or a GPU. main wires the subcommands and maps errors to
// exit codes; each subcommand lives in its own cmd_*.cpp.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <new>

#include "cmd_bench.hpp"
#include "cmd_count.hpp"
#include "cmd_generate.hpp"
#include "cmd_info.hpp"
#include "cmd_merge.hpp"
#include "errors.hpp"

int main(int argc, char** argv) {
  CLI::App app{"labcount: count CSV rows per key (e.g. lab tests per SampleID), fast, on the CPU or a GPU"};
  app.set_version_flag("-V,--version", std::string("labcount ") + LABCOUNT_VERSION);
  app.require_subcommand(1);
  app.footer("Run `labcount COMMAND --help` for a command's options.");
  labcount::setup_count(app);
  labcount::setup_generate(app);
  labcount::setup_info(app);
  labcount::setup_merge(app);
  labcount::setup_bench(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : labcount::exit_usage_error;
  } catch (const labcount::error& e) {
    std::fprintf(stderr, "labcount: error: %s\n", e.what());
    return labcount::exit_code_for(e.kind());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "labcount: error: out of memory\n  hint: use fewer --threads, or split the input\n");
    return labcount::exit_internal_error;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "labcount: error: %s\n", e.what());
    return labcount::exit_internal_error;
  }
  return 0;
}
