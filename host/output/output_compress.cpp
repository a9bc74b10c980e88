#include "output/output_compress.hpp"

#include <cstdint>
#include <new>
#include <vector>

#include "util/bytes.hpp"
#include "util/errors.hpp"

#ifdef LABCOUNT_HAS_ISAL
#include <isa-l/igzip_lib.h>
#endif
#ifdef LABCOUNT_HAS_ZSTD
#include <zstd.h>
#endif

namespace labcount {
namespace {

constexpr std::size_t out_chunk = std::size_t{1} << 18;

#ifdef LABCOUNT_HAS_ISAL
class gzip_compressor final : public output_compressor {
 public:
  gzip_compressor() : state_(std::make_unique<isal_zstream>()), level_buffer_(ISAL_DEF_LVL1_DEFAULT), out_(out_chunk) {
    isal_deflate_init(state_.get());
    state_->gzip_flag = IGZIP_GZIP;
    state_->level = 1;
    state_->level_buf = level_buffer_.data();
    state_->level_buf_size = static_cast<std::uint32_t>(level_buffer_.size());
  }

  void compress(std::string_view bytes, const sink& out) override {
    while (!bytes.empty()) {
      const auto take = static_cast<std::uint32_t>(std::min<std::size_t>(bytes.size(), 1u << 30));
      run(bytes.substr(0, take), false, out);
      bytes.remove_prefix(take);
    }
  }
  void finish(const sink& out) override { run({}, true, out); }

 private:
  void run(std::string_view bytes, bool end, const sink& out) {
    state_->next_in = reinterpret_cast<std::uint8_t*>(const_cast<char*>(bytes.data()));
    state_->avail_in = static_cast<std::uint32_t>(bytes.size());
    state_->end_of_stream = end ? 1 : 0;
    do {
      state_->next_out = out_.data();
      state_->avail_out = static_cast<std::uint32_t>(out_.size());
      if (isal_deflate(state_.get()) != COMP_OK)
        throw error(error_kind::internal, "gzip compression of the output failed", "", 0, "");
      const std::size_t made = out_.size() - state_->avail_out;
      if (made != 0) out(std::string_view(reinterpret_cast<const char*>(out_.data()), made));
    } while (state_->avail_in != 0 || (end && state_->internal_state.state != ZSTATE_END));
  }

  std::unique_ptr<isal_zstream> state_;
  std::vector<std::uint8_t> level_buffer_;
  std::vector<std::uint8_t> out_;
};
#endif

#ifdef LABCOUNT_HAS_ZSTD
class zstd_compressor final : public output_compressor {
 public:
  zstd_compressor() : context_(ZSTD_createCCtx()), out_(out_chunk) {
    if (context_ == nullptr) throw std::bad_alloc();
    ZSTD_CCtx_setParameter(context_, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(context_, ZSTD_c_checksumFlag, 1);
  }
  ~zstd_compressor() override { ZSTD_freeCCtx(context_); }
  zstd_compressor(const zstd_compressor&) = delete;
  zstd_compressor& operator=(const zstd_compressor&) = delete;

  void compress(std::string_view bytes, const sink& out) override { run(bytes, ZSTD_e_continue, out); }
  void finish(const sink& out) override { run({}, ZSTD_e_end, out); }

 private:
  void run(std::string_view bytes, ZSTD_EndDirective mode, const sink& out) {
    ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
    for (;;) {
      ZSTD_outBuffer o{out_.data(), out_.size(), 0};
      const std::size_t left = ZSTD_compressStream2(context_, &o, &in, mode);
      if (ZSTD_isError(left))
        throw error(error_kind::internal, std::string("zstd compression of the output failed (") +
                                              ZSTD_getErrorName(left) + ")", "", 0, "");
      if (o.pos != 0) out(std::string_view(out_.data(), o.pos));
      // continue: done once the input is taken; end: once the frame is flushed (left == 0).
      if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) return;
    }
  }

  ZSTD_CCtx* context_;
  std::vector<char> out_;
};
#endif

}  // namespace

compression output_compression_of(std::string_view path) noexcept {
  if (bytes::ends_with_ignoring_case(path, ".gz")) return compression::gzip;
  if (bytes::ends_with_ignoring_case(path, ".zst")) return compression::zstd;
  return compression::none;
}

std::string_view strip_compression_suffix(std::string_view path) noexcept {
  switch (output_compression_of(path)) {
    case compression::gzip: return path.substr(0, path.size() - 3);
    case compression::zstd: return path.substr(0, path.size() - 4);
    default: return path;
  }
}

std::unique_ptr<output_compressor> make_compressor(compression c, const std::string& path) {
  switch (c) {
    case compression::gzip:
#ifdef LABCOUNT_HAS_ISAL
      return std::make_unique<gzip_compressor>();
#else
      throw error(error_kind::not_built_in, "this build cannot write gzip (.gz) outputs", path, 0,
                  "rebuild with libisal-dev installed, or write the plain file and gzip it");
#endif
    case compression::zstd:
#ifdef LABCOUNT_HAS_ZSTD
      return std::make_unique<zstd_compressor>();
#else
      throw error(error_kind::not_built_in, "this build cannot write zstd (.zst) outputs", path, 0,
                  "rebuild with libzstd-dev installed, or write the plain file and zstd it");
#endif
    default: break;
  }
  throw error(error_kind::internal, "internal: make_compressor needs a compression", path, 0, "");
}

}  // namespace labcount
