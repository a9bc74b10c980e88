#include "cmd_bench.hpp"
#include "mpi_job.hpp"
#include "parse_values.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "backend_registry.hpp"
#include "cli_options.hpp"
#include "cmd_count.hpp"
#include "count_args.hpp"
#include "input/input_list.hpp"
#include "output/count_output.hpp"
#include "output/output_file.hpp"
#include "output/result_writer.hpp"
#include "output/stats_output.hpp"
#include "phase_report.hpp"
#include "pipeline/count_pipeline.hpp"
#include "progress.hpp"
#include "time/timestamp.hpp"
#include "tools/generate.hpp"
#include "util/bytes.hpp"
#include "util/errors.hpp"
#include "util/thread_pool.hpp"

namespace labcount {
namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

struct bench_options {
  std::vector<std::string> inputs;
  std::string generate_rows;  // --generate N: bench on generated data
  std::string generate_samples = std::to_string(generate_options{}.samples);
  double skew = generate_options{}.skew;
  std::uint64_t seed = generate_options{}.seed;
  std::string backends;  // "cpu,gpu"; empty: every usable backend
  unsigned warmup = 1;
  unsigned repeat = 5;
  run_flags run;  // the flags bench shares with count: it measures the run count makes
  bool json = false;
  bool no_progress = false;
  message_flags messages;
};

double seconds(clock_type::duration d) { return std::chrono::duration<double>(d).count(); }

// A directory of our own for the generated input and the output sinks, removed with everything in it.
class scratch_dir {
 public:
  scratch_dir() {
    std::string pattern = (fs::temp_directory_path() / "labcount-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw error(error_kind::io, "cannot create a temporary directory", pattern, 0,
                  "set TMPDIR to a writable directory with room for the input");
    path_ = pattern;
  }
  ~scratch_dir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  const fs::path& path() const noexcept { return path_; }

 private:
  fs::path path_;
};

// FNV-1a over the formatted output: enough to tell two outputs apart, and cheap next to the count itself.
struct output_digest {
  std::uint64_t hash = bytes::fnv1a64_basis;
  std::uint64_t bytes = 0;
  friend bool operator==(const output_digest&, const output_digest&) = default;
};

output_digest digest_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(error_kind::io, "cannot read back the benchmark output", path.string());
  output_digest d;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    const auto got = static_cast<std::size_t>(in.gcount());
    d.hash = bytes::fnv1a64(std::string_view(buf, got), d.hash);
    d.bytes += got;
  }
  return d;
}

std::string hex(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

struct run_sample {
  double wall = 0;  // run_count + output, as `count` spends it (without the final fsync of -o)
  phase_seconds phases;
  output_digest digest;
  std::uint64_t rows = 0;
  std::uint64_t bytes = 0;
  std::uint64_t distinct_keys = 0;
};

// One run as `count` makes it: the backend made once, every input counted, the output written.
run_sample run_once(const count_request& request, const selected_backend& backend, const backend_options& options,
                    thread_pool& pool, const output_options& out_opts, const fs::path& sink_path) {
  run_sample sample;
  {
    output_file sink(sink_path.string());
    const auto start = clock_type::now();
    const std::unique_ptr<count_backend> made = backend.make(options);
    const auto construct = clock_type::now() - start;
    const count_result result = run_count(request, *made, pool);
    const auto counted = clock_type::now();
    write_count_result(sink, result, request, out_opts);
    const auto written = clock_type::now();
    // Outside the timed region: commit only so the bytes can be read back for the checksum.
    sink.commit();
    sample.wall = seconds(written - start);
    sample.phases = phases_of(result, seconds(written - counted), seconds(construct));
    sample.rows = result.rows;
    sample.bytes = result.bytes;
    sample.distinct_keys = result.dictionary.size();
  }
  sample.digest = digest_file(sink_path);
  std::error_code ignored;
  fs::remove(sink_path, ignored);
  return sample;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

struct backend_result {
  std::string name;
  std::string device;         // "2 threads" or "GPU 0, 2 threads"
  std::string device_detail;  // the GPU's description from probe_backends
  std::vector<run_sample> runs;
  double first_setup = 0;  // backend construction in the first run of this process (GPU: includes the context)
  bool consistent = true;  // every timed run gave the first run's output
  output_digest digest;

  double wall_median() const {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(r.wall);
    return median(std::move(v));
  }
  double wall_min() const {
    double m = runs.empty() ? 0 : runs.front().wall;
    for (const auto& r : runs) m = std::min(m, r.wall);
    return m;
  }
  double wall_max() const {
    double m = 0;
    for (const auto& r : runs) m = std::max(m, r.wall);
    return m;
  }
  // The median of each phase on its own.
  phase_seconds phase_median() const {
    auto of = [&](double phase_seconds::*field) {
      std::vector<double> v;
      for (const auto& r : runs) v.push_back(r.phases.*field);
      return median(std::move(v));
    };
    phase_seconds p;
    p.setup = of(&phase_seconds::setup);
    p.parse = of(&phase_seconds::parse);
    p.transfer = of(&phase_seconds::transfer);
    p.sort = of(&phase_seconds::sort);
    p.reduce = of(&phase_seconds::reduce);
    p.finish = of(&phase_seconds::finish);
    p.output = of(&phase_seconds::output);
    return p;
  }
};

// ---- machine description: a figure with no machine is no figure ----

struct machine_info {
  std::string hostname;
  std::string cpu;
  unsigned hardware_threads = 0;
  std::uint64_t memory_bytes = 0;
  std::string os;
  std::string date;  // UTC, ISO 8601
  bool cuda_build = false;
  std::vector<backend_status> backends;
  double probe_seconds = 0;  // probe_backends(): with CUDA, driver start and context creation, once per process
  double load_average = -1;  // 1-minute load before the runs (-1: unknown); others' work skews the figures
};

machine_info describe_machine(const backend_options& options) {
  machine_info m;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) m.hostname = host;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) m.cpu = line.substr(line.find_first_not_of(' ', colon + 1));
      break;
    }
  }
  if (m.cpu.empty()) m.cpu = "unknown CPU";
  std::ifstream loadavg("/proc/loadavg");
  if (double load = 0; loadavg >> load) m.load_average = load;
  m.hardware_threads = thread_pool::default_threads();
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page_size > 0)
    m.memory_bytes = static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size);
  struct utsname uts {};
  if (::uname(&uts) == 0) m.os = std::string(uts.sysname) + " " + uts.release + " " + uts.machine;
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &utc);
  m.date = date;
#ifdef LABCOUNT_HAS_CUDA
  m.cuda_build = true;
#endif
  const auto probing = clock_type::now();
  m.backends = probe_backends(options, probe_detail::every_device);
  m.probe_seconds = seconds(clock_type::now() - probing);
  return m;
}

// ---- JSON ----

std::string json_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string json_phases(const phase_seconds& p) {
  return "{\"setup\": " + json_number(p.setup) + ", \"parse\": " + json_number(p.parse) +
         ", \"transfer\": " + json_number(p.transfer) + ", \"sort\": " + json_number(p.sort) +
         ", \"reduce\": " + json_number(p.reduce) + ", \"finish\": " + json_number(p.finish) +
         ", \"output\": " + json_number(p.output) + "}";
}

// ---- the run ----

struct bench_input {
  std::vector<std::string> paths;
  std::string description;  // for the table's first line
  std::optional<generate_options> generated;
};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

// Which backends run, in order: every usable one, or the ones --backends names (each must be usable).
std::vector<std::string> chosen_backends(const bench_options& opt, const std::vector<backend_status>& statuses) {
  std::vector<std::string> names;
  if (opt.backends.empty()) {
    for (const auto& s : statuses)
      if (s.usable) names.push_back(s.name);
    return names;
  }
  for (const auto& name : split_list(opt.backends)) {
    const auto status = std::find_if(statuses.begin(), statuses.end(), [&](const auto& s) { return s.name == name; });
    if (status == statuses.end())
      throw error(error_kind::usage, "--backends: unknown backend '" + name + "'", "", 0,
                  "give a comma-separated list of cpu and gpu, e.g. --backends cpu,gpu");
    if (!status->usable)
      throw error(error_kind::backend_unavailable, "--backends " + name + ": cannot run here: " + status->why_not, "",
                  0, "run `labcount info` for details, or leave out --backends to run every available backend");
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  if (names.empty())
    throw error(error_kind::usage, "--backends is empty", "", 0, "e.g. --backends cpu,gpu, or leave it out");
  return names;
}

bench_input prepare_input(const bench_options& opt, const scratch_dir& scratch, bool show_progress) {
  bench_input input;
  if (!opt.generate_rows.empty()) {
    if (!opt.inputs.empty())
      throw error(error_kind::usage, "give input files or --generate, not both", "", 0,
                  "e.g. labcount bench data.csv, or labcount bench --generate 10M --samples 10k");
    generate_options g;
    g.rows = parse_count("--generate", opt.generate_rows);
    if (g.rows == 0) throw error(error_kind::usage, "--generate 0: nothing to benchmark", "", 0, "e.g. --generate 10M");
    const std::uint64_t samples = parse_count("--samples", opt.generate_samples);
    g.samples = samples > max_generate_samples ? max_generate_samples + 1 : static_cast<std::uint32_t>(samples);
    g.skew = opt.skew;
    g.seed = opt.seed;
    validate(g);
    const fs::path path = scratch.path() / "generated.csv";
    if (show_progress)
      std::fprintf(stderr, "labcount bench: generating %llu rows...", static_cast<unsigned long long>(g.rows));
    {
      output_file out(path.string());
      generate_csv(g, out);
      out.commit();
    }
    if (show_progress) std::fprintf(stderr, "\r\033[K");
    input.paths.push_back(path.string());
    char buf[200];
    std::snprintf(buf, sizeof buf, "generated (--rows %llu --samples %u --skew %g --seed %llu)",
                  static_cast<unsigned long long>(g.rows), g.samples, g.skew, static_cast<unsigned long long>(g.seed));
    input.description = buf;
    input.generated = g;
    return input;
  }
  if (opt.inputs.empty())
    throw error(error_kind::usage, "nothing to benchmark", "", 0,
                "give input files, e.g. labcount bench samplesTests.csv, or generate data: --generate 10M");
  for (const auto& in : opt.inputs)
    if (in == "-")
      throw error(error_kind::usage, "bench cannot read standard input: it reads each input several times", "", 0,
                  "save the data to a file and benchmark that");
  expand_options expand;
  expand.recursive = opt.run.recursive;
  input.paths = expand_inputs(opt.inputs, expand).paths;
  input.description = input.paths.size() == 1 ? input.paths.front() : std::to_string(input.paths.size()) + " inputs";
  return input;
}

void print_table(const bench_options& opt, const machine_info& machine, const bench_input& input,
                 const std::vector<backend_result>& results, unsigned threads, bool identical) {
  const run_sample& first = results.front().runs.front();
  std::printf("labcount bench: %s: %.1f MB, %llu rows, %llu distinct keys; key %s; %u warm-up + %u timed run%s each\n",
              input.description.c_str(), static_cast<double>(first.bytes) / 1e6,
              static_cast<unsigned long long>(first.rows), static_cast<unsigned long long>(first.distinct_keys),
              opt.run.key.c_str(), opt.warmup, opt.repeat, opt.repeat == 1 ? "" : "s");
  std::printf("machine: %s, %u hardware threads, %.1f GiB, %s; %s; load %.2f; labcount %s (%s), %s\n",
              machine.cpu.c_str(), machine.hardware_threads, static_cast<double>(machine.memory_bytes) / (1 << 30),
              machine.os.c_str(), machine.hostname.c_str(), machine.load_average, LABCOUNT_VERSION,
              machine.cuda_build ? "with CUDA" : "CPU-only build", machine.date.c_str());
  for (const auto& r : results)
    if (!r.device_detail.empty()) std::printf("%s: %s\n", r.name.c_str(), r.device_detail.c_str());
  std::printf("\n%-8s %-16s %9s %9s %8s %7s %9s %9s %9s %9s %9s %9s %7s\n", "backend", "threads/device", "median s",
              "min s", "Mrows/s", "GB/s", "parse s", "transfer", "sort", "reduce", "finish", "output", "vs cpu");
  const backend_result* cpu = nullptr;
  for (const auto& r : results)
    if (r.name == "cpu") cpu = &r;
  auto cell = [](double v) {
    char buf[16];
    if (v > 0)
      std::snprintf(buf, sizeof buf, "%9.4f", v);
    else
      std::snprintf(buf, sizeof buf, "%9s", "-");
    return std::string(buf);
  };
  for (const auto& r : results) {
    const double med = r.wall_median();
    const phase_seconds p = r.phase_median();
    const double rows = static_cast<double>(r.runs.front().rows);
    const double bytes = static_cast<double>(r.runs.front().bytes);
    char speedup[16] = "-";
    if (cpu != nullptr && med > 0) std::snprintf(speedup, sizeof speedup, "%.2fx", cpu->wall_median() / med);
    std::printf("%-8s %-16s %9.4f %9.4f %8.2f %7.3f %s %s %s %s %s %s %7s\n", r.name.c_str(), r.device.c_str(), med,
                r.wall_min(), med > 0 ? rows / med / 1e6 : 0.0, med > 0 ? bytes / med / 1e9 : 0.0,
                cell(p.parse).c_str(), cell(p.transfer).c_str(), cell(p.sort).c_str(), cell(p.reduce).c_str(),
                cell(p.finish).c_str(), cell(p.output).c_str(), speedup);
  }
  std::printf("\nstart-up (backend construction, included in the times above):");
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    std::printf("%s %s %.4f s per run, first in this process %.4f s%s", i == 0 ? "" : ";", r.name.c_str(),
                r.phase_median().setup, r.first_setup, r.name == "gpu" ? " (CUDA context, streams, buffers)" : "");
  }
  if (machine.cuda_build)
    std::printf(
        "; before all runs, probing the GPU (CUDA driver, context) took %.4f s, which every `count` with "
        "--backend auto or gpu pays too",
        machine.probe_seconds);
  std::printf("\n");
  for (const auto& s : machine.backends) {
    const bool ran = std::any_of(results.begin(), results.end(), [&](const auto& r) { return r.name == s.name; });
    if (!ran) std::printf("not run: %s (%s)\n", s.name.c_str(), s.usable ? "not in --backends" : s.why_not.c_str());
  }
  std::printf(
      "parse = read+parse+encode (+ handing codes to the backend); transfer/sort/reduce are GPU device times that "
      "overlap parse; %u thread%s; inputs were in the page cache after the warm-up\n",
      threads, threads == 1 ? "" : "s");
  if (identical)
    std::printf("output identical across backends and runs: fnv1a64 %s, %llu bytes\n",
                hex(results.front().digest.hash).c_str(),
                static_cast<unsigned long long>(results.front().digest.bytes));
  else
    std::printf("OUTPUT DIFFERS between backends or runs: see the error below\n");
}

void print_json(const bench_options& opt, const machine_info& machine, const bench_input& input,
                const std::vector<backend_result>& results, unsigned threads, bool identical) {
  std::string j = "{\n";
  j += "  \"labcount_version\": " + json_quoted(LABCOUNT_VERSION) + ",\n";
  j += "  \"date\": " + json_quoted(machine.date) + ",\n";
  j += "  \"machine\": {\"hostname\": " + json_quoted(machine.hostname) + ", \"cpu\": " + json_quoted(machine.cpu) +
       ", \"hardware_threads\": " + std::to_string(machine.hardware_threads) +
       ", \"memory_bytes\": " + std::to_string(machine.memory_bytes) + ", \"os\": " + json_quoted(machine.os) +
       ", \"cuda_build\": " + (machine.cuda_build ? "true" : "false") +
       ", \"probe_seconds\": " + json_number(machine.probe_seconds) +
       ", \"load_average_1min\": " + json_number(machine.load_average) + ",\n    \"backends\": [";
  for (std::size_t i = 0; i < machine.backends.size(); ++i) {
    const auto& s = machine.backends[i];
    j += std::string(i == 0 ? "" : ", ") + "{\"name\": " + json_quoted(s.name) +
         ", \"usable\": " + (s.usable ? "true" : "false") + ", \"summary\": " + json_quoted(s.summary) +
         ", \"why_not\": " + json_quoted(s.why_not) + ", \"details\": [";
    for (std::size_t k = 0; k < s.details.size(); ++k) j += (k == 0 ? "" : ", ") + json_quoted(s.details[k]);
    j += "]}";
  }
  j += "]},\n";
  j += "  \"options\": {\"inputs\": [";
  for (std::size_t i = 0; i < input.paths.size(); ++i)
    j += (i == 0 ? "" : ", ") + json_quoted(input.generated ? std::string("<generated>") : input.paths[i]);
  j += "], \"generated\": ";
  if (input.generated)
    j += "{\"rows\": " + std::to_string(input.generated->rows) +
         ", \"samples\": " + std::to_string(input.generated->samples) +
         ", \"skew\": " + json_number(input.generated->skew) + ", \"seed\": " + std::to_string(input.generated->seed) +
         "}";
  else
    j += "null";
  j += ", \"key\": " + json_quoted(opt.run.key) + ", \"has_header\": " + (opt.run.no_header ? "false" : "true") +
       ", \"delimiter\": " +
       json_quoted(opt.run.delimiter.empty() ? std::string("auto")
                                             : std::string(1, parse_delimiter(opt.run.delimiter))) +
       ", \"threads\": " + std::to_string(threads) + ", \"device\": " + std::to_string(opt.run.device) +
       ", \"mode\": " +
       json_quoted(opt.run.time.stats          ? "stats"
                   : !opt.run.time.per.empty() ? "per " + opt.run.time.per
                                               : "counts") +
       ", \"format\": " + json_quoted(to_string(make_output_options(opt.run.output).format)) +
       ", \"sort\": " + json_quoted(to_string(make_output_options(opt.run.output).order)) +
       ", \"warmup\": " + std::to_string(opt.warmup) + ", \"repeat\": " + std::to_string(opt.repeat) + "},\n";
  const run_sample& first = results.front().runs.front();
  j += "  \"input\": {\"bytes\": " + std::to_string(first.bytes) + ", \"rows\": " + std::to_string(first.rows) +
       ", \"distinct_keys\": " + std::to_string(first.distinct_keys) + "},\n";
  j += std::string("  \"identical\": ") + (identical ? "true" : "false") + ",\n";
  const backend_result* cpu = nullptr;
  for (const auto& r : results)
    if (r.name == "cpu") cpu = &r;
  j += "  \"results\": [\n";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    const double med = r.wall_median();
    j += "    {\"backend\": " + json_quoted(r.name) + ", \"threads\": " + std::to_string(threads) +
         ", \"device\": " + (r.device_detail.empty() ? std::string("null") : json_quoted(r.device_detail)) +
         ", \"runs\": " + std::to_string(r.runs.size()) +
         ",\n     \"checksum\": " + json_quoted("fnv1a64:" + hex(r.digest.hash)) +
         ", \"output_bytes\": " + std::to_string(r.digest.bytes) +
         ", \"consistent\": " + (r.consistent ? "true" : "false") +
         ",\n     \"wall_seconds\": {\"median\": " + json_number(med) + ", \"min\": " + json_number(r.wall_min()) +
         ", \"max\": " + json_number(r.wall_max()) + ", \"all\": [";
    for (std::size_t k = 0; k < r.runs.size(); ++k) j += (k == 0 ? "" : ", ") + json_number(r.runs[k].wall);
    j += "]},\n     \"rows_per_second\": " + json_number(med > 0 ? static_cast<double>(r.runs.front().rows) / med : 0) +
         ", \"gb_per_second\": " + json_number(med > 0 ? static_cast<double>(r.runs.front().bytes) / med / 1e9 : 0) +
         ", \"speedup_vs_cpu\": " + (cpu != nullptr && med > 0 ? json_number(cpu->wall_median() / med) : "null") +
         ",\n     \"phases_median_seconds\": " + json_phases(r.phase_median()) +
         ",\n     \"startup_first_seconds\": " + json_number(r.first_setup) + "}" +
         (i + 1 < results.size() ? ",\n" : "\n");
  }
  j += "  ]\n}\n";
  std::fputs(j.c_str(), stdout);
}

void run_bench(const bench_options& opt) {
  run_plan plan = make_run_plan(opt.run, "bench");
  count_request& request = plan.request;
  const output_options& out_opts = plan.output;
  const unsigned threads = plan.threads;
  const backend_options& b_opts = plan.backend;

  const machine_info machine = describe_machine(b_opts);
  const std::vector<std::string> names = chosen_backends(opt, machine.backends);
  if (names.empty())
    throw error(error_kind::backend_unavailable, "no backend can run here", "", 0, "run `labcount info` for details");

  const bool show_progress = !opt.no_progress && !opt.messages.quiet && progress_meter::stderr_is_terminal();
  scratch_dir scratch;
  const bench_input input = prepare_input(opt, scratch, show_progress);
  request.inputs = input.paths;
  std::uint64_t input_bytes = 0;
  for (const auto& path : input.paths) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (!ec) input_bytes += size;
  }

  thread_pool pool(threads);
  const fs::path sink_path = scratch.path() / "output";
  std::vector<backend_result> results;
  for (const auto& name : names) {
    const selected_backend selected = select_backend(parse_backend_choice(name), input_bytes, b_opts);
    backend_result r;
    r.name = name;
    r.device = std::to_string(threads) + (threads == 1 ? " thread" : " threads");
    if (name == "gpu") {
      r.device = "GPU " + std::to_string(opt.run.device) + ", " + r.device;
      for (const auto& s : machine.backends)
        if (s.name == "gpu") r.device_detail = s.summary;
    }
    const unsigned total_runs = opt.warmup + opt.repeat;
    for (unsigned i = 0; i < total_runs; ++i) {
      if (show_progress) {
        if (i < opt.warmup)
          std::fprintf(stderr, "\r\033[Klabcount bench: %s warm-up %u/%u", name.c_str(), i + 1, opt.warmup);
        else
          std::fprintf(stderr, "\r\033[Klabcount bench: %s run %u/%u", name.c_str(), i - opt.warmup + 1, opt.repeat);
        std::fflush(stderr);
      }
      run_sample sample = run_once(request, selected, b_opts, pool, out_opts, sink_path);
      if (opt.messages.verbose) {
        if (show_progress) std::fprintf(stderr, "\r\033[K");
        std::fprintf(stderr, "labcount bench: %s %s %u: %.3f s\n", name.c_str(), i < opt.warmup ? "warm-up" : "run",
                     i < opt.warmup ? i + 1 : i - opt.warmup + 1, sample.wall);
      }
      if (i == 0) {
        r.first_setup = sample.phases.setup;
        r.digest = sample.digest;
      } else if (!(sample.digest == r.digest)) {
        r.consistent = false;
      }
      if (i >= opt.warmup) r.runs.push_back(sample);
    }
    results.push_back(std::move(r));
  }
  if (show_progress) std::fprintf(stderr, "\r\033[K");

  bool identical = true;
  for (const auto& r : results) identical = identical && r.consistent && r.digest == results.front().digest;
  if (opt.json)
    print_json(opt, machine, input, results, threads, identical);
  else
    print_table(opt, machine, input, results, threads, identical);
  std::fflush(stdout);
  if (!identical) {
    std::string what = "the backends' outputs differ:";
    for (const auto& r : results)
      what += " " + r.name + " fnv1a64 " + hex(r.digest.hash) + " (" + std::to_string(r.digest.bytes) + " bytes" +
              (r.consistent ? "" : ", and it changed between runs") + ")";
    throw error(error_kind::bad_value, what, "", 0,
                "this is a bug in labcount: please report it with the command line and the input (or the --generate "
                "options); `labcount count --backend cpu` and `--backend gpu` on that input show the difference");
  }
}

}  // namespace

CLI::App* setup_bench(CLI::App& parent) {
  auto opt = std::make_shared<bench_options>();
  CLI::App* cmd = parent.add_subcommand(
      "bench",
      "Time the full count on every available backend with the same input and options, and check that they "
      "agree");
  cmd->footer(
      "Examples:\n"
      "  labcount bench samplesTests.csv                  # every backend here: 1 warm-up, 5 timed runs\n"
      "  labcount bench --generate 100M --samples 100k    # generated data (a temporary file)\n"
      "  labcount bench big.csv --backends cpu --threads 1 --repeat 3 --json > cpu-1t.json\n"
      "\nEach run is what `labcount count` does: read, parse, encode, reduce, order and format the output (to a\n"
      "discarded file). The table has median and min wall time, rows/s, input GB/s, the median of each phase and the\n"
      "speed-up over the CPU backend; --json gives the same as one JSON object with the machine and the options.\n"
      "Exit codes: 0 ok, 1 the backends' outputs differ, 2 bad command line, 3 file error, 4 a backend named in\n"
      "--backends cannot run here.");
  cmd->add_option("inputs", opt->inputs,
                  "CSV files (as count reads them: plain, compressed or ZIP), or directories with --recursive")
      ->option_text("FILE...");
  const std::string generated = "Generated input";
  cmd->add_option("--generate", opt->generate_rows,
                  "Bench on N generated rows (as `labcount generate --rows N`) instead of files; suffixes k, M, G "
                  "are powers of 1000")
      ->option_text("N")
      ->group(generated);
  cmd->add_option("--samples", opt->generate_samples,
                  "With --generate: distinct sample ids (default " + opt->generate_samples + "; suffixes as --generate)")
      ->option_text("N")
      ->group(generated);
  cmd->add_option("--skew", opt->skew,
                  "With --generate: Zipf exponent of sample popularity (0 = uniform; default " +
                      CLI::detail::to_string(opt->skew) + ")")
      ->option_text("X")
      ->group(generated);
  cmd->add_option("--seed", opt->seed, "With --generate: random seed (default " + std::to_string(opt->seed) + ")")
      ->option_text("N")
      ->group(generated);
  const std::string runs = "Runs";
  cmd->add_option("--backends", opt->backends,
                  "Comma-separated backends to run, e.g. cpu,gpu (default: every one usable here; naming one that "
                  "cannot run is an error that says why)")
      ->option_text("NAME[,NAME...]")
      ->group(runs);
  cmd->add_option("--warmup", opt->warmup,
                  "Untimed runs per backend before the timed ones, 0 to 1000 (default " +
                      std::to_string(opt->warmup) + ")")
      ->check(CLI::Range(0u, 1000u))
      ->option_text("N")
      ->group(runs);
  cmd->add_option("--repeat", opt->repeat,
                  "Timed runs per backend; the table shows their median and min (default " +
                      std::to_string(opt->repeat) + ")")
      ->check(CLI::Range(1u, 100000u))
      ->option_text("N")
      ->group(runs);
  cmd->add_flag("--json", opt->json, "Print one JSON object (machine, options, per-backend results) instead of a table")
      ->group(runs);
  add_no_progress_flag(*cmd, opt->no_progress, "Messages");
  add_message_flags(*cmd, opt->messages, "Messages", "No progress on stderr (the results still go to stdout)",
                    "Print each run's wall time on stderr as it ends");
  add_run_flags(*cmd, opt->run);
  cmd->callback([opt] {
    check_message_flags(opt->messages);
    expect_single_process("bench");
    run_bench(*opt);
  });
  return cmd;
}

}  // namespace labcount
