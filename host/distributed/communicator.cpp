#include "distributed/communicator.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

#include "util/errors.hpp"

namespace labcount {
namespace {

using open_fn = communicator* (*)(int*, char***, char*, std::size_t);
using version_fn = void (*)(char*, std::size_t);

bool has_env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0';
}

// The folder of the running executable ("" when /proc is not there).
std::string executable_dir() {
  char path[4096];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return {};
  std::string_view p(path, static_cast<std::size_t>(n));
  return std::string(p.substr(0, p.rfind('/')));
}

// dlopen of the plugin: $LABCOUNT_MPI_PLUGIN, else beside the executable (a build tree), else in
// ../lib/labcount (an install). RTLD_GLOBAL: Open MPI loads its own components, which need libmpi's symbols.
void* load_plugin(std::string& why) {
  std::vector<std::string> candidates;
  if (const char* p = std::getenv("LABCOUNT_MPI_PLUGIN"); p != nullptr && *p != '\0') {
    candidates.emplace_back(p);  // only this one
  } else {
    const std::string dir = executable_dir();
    candidates.push_back(dir + "/liblabcount_mpi.so");
    candidates.push_back(dir + "/../lib/labcount/liblabcount_mpi.so");
  }
  for (const auto& path : candidates) {
    if (::access(path.c_str(), F_OK) != 0) continue;
    if (void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL)) return handle;
    why = std::string("cannot load ") + path + ": " + ::dlerror();
    return nullptr;
  }
  why = std::getenv("LABCOUNT_MPI_PLUGIN") != nullptr && *std::getenv("LABCOUNT_MPI_PLUGIN") != '\0'
            ? std::string("LABCOUNT_MPI_PLUGIN names no file: ") + std::getenv("LABCOUNT_MPI_PLUGIN")
            : "this labcount was built without MPI (no liblabcount_mpi.so beside it)";
  return nullptr;
}

}  // namespace

std::vector<std::string> gather(communicator& comm, std::string bytes, int root) {
  std::vector<std::string> send(static_cast<std::size_t>(comm.size()));
  send[static_cast<std::size_t>(root)] = std::move(bytes);
  std::vector<std::string> got = comm.all_to_all(std::move(send));
  if (comm.rank() != root) got.assign(got.size(), {});
  return got;
}

bool launched_by_mpi() {
  if (const char* off = std::getenv("LABCOUNT_MPI"); off != nullptr && std::string_view(off) == "0") return false;
  return has_env("OMPI_COMM_WORLD_SIZE") || has_env("PMIX_RANK") || (has_env("PMI_RANK") && has_env("PMI_SIZE"));
}

std::unique_ptr<communicator> open_launched_communicator(int& argc, char**& argv) {
  if (!launched_by_mpi()) return nullptr;
  std::string why;
  void* plugin = load_plugin(why);
  const auto open = plugin != nullptr ? reinterpret_cast<open_fn>(::dlsym(plugin, "labcount_mpi_open")) : nullptr;
  if (plugin != nullptr && open == nullptr) why = "liblabcount_mpi.so has no labcount_mpi_open";
  if (open == nullptr)
    throw error(error_kind::not_built_in, "started by an MPI launcher, but " + why, "", 0,
                "build labcount with Open MPI (apt-get install libopenmpi-dev openmpi-bin; cmake "
                "-DLABCOUNT_ENABLE_MPI=ON), or run it without mpirun/srun (or with LABCOUNT_MPI=0)");
  char message[512] = {};
  communicator* comm = open(&argc, &argv, message, sizeof message);
  if (comm == nullptr)
    throw error(error_kind::not_built_in, std::string("cannot start MPI: ") + message, "", 0,
                "check the MPI installation (mpirun --version), or run without mpirun/srun");
  return std::unique_ptr<communicator>(comm);  // the plugin stays loaded to the end of the process
}

std::string mpi_build_summary() {
  std::string why;
  void* plugin = load_plugin(why);
  if (plugin == nullptr) return "not available: " + why;
  const auto version = reinterpret_cast<version_fn>(::dlsym(plugin, "labcount_mpi_version"));
  if (version == nullptr) return "not available: liblabcount_mpi.so has no labcount_mpi_version";
  char text[512] = {};
  version(text, sizeof text);
  return std::string("built in (") + text + ")";
}

}  // namespace labcount
