// labcount: count CSV rows per key, on the CPU or a GPU. main wires the subcommands and maps errors to
// exit codes; each subcommand lives in its own cmd_*.cpp.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <new>

#include "cli_errors.hpp"
#include "cmd_bench.hpp"
#include "cmd_count.hpp"
#include "cmd_generate.hpp"
#include "cmd_info.hpp"
#include "cmd_merge.hpp"
#include "help_format.hpp"
#include "mpi_job.hpp"
#include "shell_docs.hpp"
#include "util/errors.hpp"
#include "util/signal_cleanup.hpp"

int main(int argc, char** argv) {
  labcount::install_signal_cleanup();
  // Under mpirun/srun: MPI_Finalize when main returns, whatever the outcome.
  struct job_guard {
    ~job_guard() { labcount::close_mpi_job(); }
  } job_guard;
  CLI::App app{"labcount: count CSV rows per key (e.g. lab tests per SampleID), fast, on the CPU or a GPU",
               "labcount"};
  // Before the subcommands: they take their formatter from the app when they are added.
  app.formatter(std::make_shared<labcount::help_formatter>(labcount::help_width()));
  app.set_version_flag("-V,--version", std::string("labcount ") + LABCOUNT_VERSION);
  app.require_subcommand(1);
  app.footer(
      "labcount reads CSV files (plain, compressed or inside ZIP archives), turns each row's key into a dense "
      "integer and counts rows per key on a CPU thread pool or a GPU; --stats and --per add per-key time "
      "statistics, and merge puts a batch counted in parts back together.\n"
      "Run `labcount COMMAND --help` for a command's options.");
  // A repeated single-value option takes its last value (`--key A --key B` is --key B), as most tools do.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  labcount::setup_count(app);
  labcount::setup_generate(app);
  labcount::setup_info(app);
  labcount::setup_merge(app);
  labcount::setup_bench(app);
  labcount::setup_shell_docs(app);
  try {
    labcount::open_mpi_job(argc, argv);
    labcount::check_command_word(app, argc, argv);
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (!labcount::reports_for_job()) return e.get_exit_code() == 0 ? 0 : labcount::exit_usage_error;
    return labcount::report_parse_error(app, e);
  } catch (const labcount::error& e) {
    // A reader that went away (`| head`) ends the run quietly, as coreutils and ripgrep do.
    if (e.kind() == labcount::error_kind::broken_pipe) return labcount::exit_broken_pipe;
    // Under MPI every rank ends with the job's error; rank 0 prints it, once.
    if (labcount::reports_for_job()) std::fprintf(stderr, "labcount: error: %s\n", e.what());
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
