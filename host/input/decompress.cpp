#include "input/decompress.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <utility>
#include <vector>

#include "util/errors.hpp"

#ifdef LABCOUNT_HAS_ISAL
#include <isa-l/igzip_lib.h>
#endif
#ifdef LABCOUNT_HAS_ZSTD
#include <zstd.h>
#endif
#ifdef LABCOUNT_HAS_BZIP2
#include <bzlib.h>
#endif
#ifdef LABCOUNT_HAS_LZMA
#include <lzma.h>
#endif

namespace labcount {
namespace {

// What the codecs share: the compressed bytes in a buffer (in_[pos_, len_) unread), and errors deferred past
// the bytes decoded before them.
class stream_decoder : public byte_reader {
 public:
  stream_decoder(std::unique_ptr<byte_reader> compressed, std::string name, compression format)
      : compressed_(std::move(compressed)), name_(std::move(name)), format_(format), in_(std::size_t{1} << 20) {}

  std::size_t read(char* out, std::size_t n) final {
    if (pending_error_) std::rethrow_exception(std::exchange(pending_error_, nullptr));
    produced_ = 0;
    try {
      decode(out, n);
    } catch (const error&) {
      if (produced_ == 0) throw;
      pending_error_ = std::current_exception();  // raised at the next read()
    }
    return produced_;
  }

 protected:
  // Fills out[0, n) as far as the data goes (all n unless the stream ends), adding to produced_ as bytes
  // come out; throws on bad data.
  virtual void decode(char* out, std::size_t n) = 0;

  // Moves the unread bytes to the front and reads more behind them; sets input_done_ at the end of the
  // compressed input.
  void refill() {
    if (pos_ != 0) {
      std::memmove(in_.data(), in_.data() + pos_, len_ - pos_);
      len_ -= pos_;
      pos_ = 0;
    }
    const std::size_t got = compressed_->read(in_.data() + len_, in_.size() - len_);
    if (got == 0) input_done_ = true;
    len_ += got;
  }
  std::size_t unread() const noexcept { return len_ - pos_; }
  unsigned char* next_in() noexcept { return reinterpret_cast<unsigned char*>(in_.data() + pos_); }

  [[noreturn]] void corrupt(const std::string& what) const {
    throw error(error_kind::bad_value, what, name_, 0,
                std::string("check the file with `") + tool() + " -t`; re-create or copy it again");
  }
  [[noreturn]] void truncated() const {
    throw error(error_kind::bad_value,
                "the " + std::string(compression_name(format_)) + " data ends early: the file is truncated", name_, 0,
                "the file was cut off (an interrupted copy or download?); copy it again");
  }
  [[noreturn]] void trailing_garbage() const {
    throw error(
        error_kind::bad_value,
        "unexpected bytes after the end of the " + std::string(compression_name(format_)) + " data", name_, 0,
        "the file is not a clean " + std::string(compression_name(format_)) + " stream; re-create it with " + tool());
  }

  std::size_t produced_ = 0;
  std::size_t pos_ = 0;
  std::size_t len_ = 0;
  bool input_done_ = false;

 private:
  const char* tool() const noexcept {
    switch (format_) {
      case compression::gzip: return "gzip";
      case compression::zstd: return "zstd";
      case compression::bzip2: return "bzip2";
      case compression::xz: return "xz";
      case compression::none: break;
    }
    return "?";
  }

  std::unique_ptr<byte_reader> compressed_;
  std::string name_;
  compression format_;
  std::vector<char> in_;
  std::exception_ptr pending_error_;
};

#ifdef LABCOUNT_HAS_ISAL
// ISA-L's igzip inflates 2-3x faster than zlib on x86 and streams, which a whole-buffer decompressor
// (libdeflate) cannot: batches are far larger than memory.
class gzip_reader final : public stream_decoder {
 public:
  gzip_reader(std::unique_ptr<byte_reader> compressed, std::string name)
      : stream_decoder(std::move(compressed), std::move(name), compression::gzip),
        state_(std::make_unique<inflate_state>()) {
    start_member();
  }

 private:
  void decode(char* out, std::size_t n) override {
    while (produced_ < n) {
      if (!input_done_ && (unread() == 0 || (member_done_ && unread() < 2))) refill();
      if (member_done_) {
        if (unread() == 0 && input_done_) break;  // clean end after the last member
        if (!is_gzip_magic(next_in(), unread())) trailing_garbage();
        start_member();
      }
      const auto want = static_cast<std::uint32_t>(std::min<std::size_t>(n - produced_, 1u << 30));
      const auto offered = static_cast<std::uint32_t>(std::min<std::size_t>(unread(), 1u << 30));
      state_->next_in = next_in();
      state_->avail_in = offered;
      state_->next_out = reinterpret_cast<std::uint8_t*>(out + produced_);
      state_->avail_out = want;
      const int status = isal_inflate(state_.get());
      pos_ += offered - state_->avail_in;
      const std::size_t got = want - state_->avail_out;
      produced_ += got;
      if (status < 0) fail(status);
      if (state_->block_state == ISAL_BLOCK_FINISH) {
        member_done_ = true;
      } else if (got == 0 && unread() == 0 && input_done_) {
        truncated();
      }
    }
  }

  void start_member() {
    isal_inflate_init(state_.get());
    state_->crc_flag = ISAL_GZIP;
    member_done_ = false;
  }

  [[noreturn]] void fail(int status) const {
    corrupt(status == ISAL_INCORRECT_CHECKSUM   ? "the gzip checksum does not match: the data is corrupt"
            : status == ISAL_INVALID_WRAPPER    ? "not a valid gzip header"
            : status == ISAL_UNSUPPORTED_METHOD ? "gzip data with an unsupported compression method"
                                                : "corrupt gzip data");
  }

  std::unique_ptr<inflate_state> state_;
  bool member_done_ = false;
};
#endif

#ifdef LABCOUNT_HAS_ZSTD
// ZSTD_decompressStream runs on into the next frame by itself (concatenated .zst files, skippable frames).
class zstd_reader final : public stream_decoder {
 public:
  zstd_reader(std::unique_ptr<byte_reader> compressed, std::string name)
      : stream_decoder(std::move(compressed), std::move(name), compression::zstd), stream_(ZSTD_createDStream()) {
    if (stream_ == nullptr) throw std::bad_alloc();
  }
  ~zstd_reader() override { ZSTD_freeDStream(stream_); }
  zstd_reader(const zstd_reader&) = delete;
  zstd_reader& operator=(const zstd_reader&) = delete;

 private:
  void decode(char* out, std::size_t n) override {
    while (produced_ < n) {
      if (unread() == 0 && !input_done_) refill();
      // With no input left, a frame still open may have output buffered (flush it) or be cut off.
      if (unread() == 0 && input_done_ && !frame_open_) break;
      ZSTD_inBuffer in{next_in(), unread(), 0};
      ZSTD_outBuffer o{out + produced_, n - produced_, 0};
      const std::size_t hint = ZSTD_decompressStream(stream_, &o, &in);
      pos_ += in.pos;
      produced_ += o.pos;
      if (ZSTD_isError(hint)) corrupt(std::string("corrupt zstd data (") + ZSTD_getErrorName(hint) + ")");
      if (unread() == 0 && input_done_ && in.pos == 0 && o.pos == 0) truncated();  // open, and nothing came out
      frame_open_ = hint != 0;                                                     // 0: a frame just ended
    }
  }

  ZSTD_DStream* stream_;
  bool frame_open_ = false;
};
#endif

#ifdef LABCOUNT_HAS_BZIP2
// One bz_stream per bzip2 stream; pbzip2 and `cat a.bz2 b.bz2` write several, one after the other.
class bzip2_reader final : public stream_decoder {
 public:
  bzip2_reader(std::unique_ptr<byte_reader> compressed, std::string name)
      : stream_decoder(std::move(compressed), std::move(name), compression::bzip2) {
    start_stream();
  }
  ~bzip2_reader() override { BZ2_bzDecompressEnd(&stream_); }
  bzip2_reader(const bzip2_reader&) = delete;
  bzip2_reader& operator=(const bzip2_reader&) = delete;

 private:
  void decode(char* out, std::size_t n) override {
    while (produced_ < n) {
      if (!input_done_ && (unread() == 0 || (stream_done_ && unread() < 4))) refill();
      if (stream_done_) {
        if (unread() == 0 && input_done_) break;
        if (compression_of(next_in(), unread()) != compression::bzip2) trailing_garbage();
        BZ2_bzDecompressEnd(&stream_);
        start_stream();
      }
      const auto offered = static_cast<unsigned>(std::min<std::size_t>(unread(), 1u << 30));
      const auto want = static_cast<unsigned>(std::min<std::size_t>(n - produced_, 1u << 30));
      stream_.next_in = reinterpret_cast<char*>(next_in());
      stream_.avail_in = offered;
      stream_.next_out = out + produced_;
      stream_.avail_out = want;
      const int status = BZ2_bzDecompress(&stream_);
      pos_ += offered - stream_.avail_in;
      const std::size_t got = want - stream_.avail_out;
      produced_ += got;
      if (status == BZ_STREAM_END) {
        stream_done_ = true;
      } else if (status != BZ_OK) {
        corrupt(status == BZ_DATA_ERROR_MAGIC ? "not valid bzip2 data" : "corrupt bzip2 data (bad checksum or block)");
      } else if (got == 0 && unread() == 0 && input_done_) {
        truncated();
      }
    }
  }

  void start_stream() {
    stream_ = bz_stream{};
    if (BZ2_bzDecompressInit(&stream_, 0, 0) != BZ_OK) throw std::bad_alloc();
    stream_done_ = false;
  }

  bz_stream stream_{};
  bool stream_done_ = false;
};
#endif

#ifdef LABCOUNT_HAS_LZMA
// LZMA_CONCATENATED: several .xz streams one after the other decode as one, as `xz -dc` does.
class xz_reader final : public stream_decoder {
 public:
  xz_reader(std::unique_ptr<byte_reader> compressed, std::string name)
      : stream_decoder(std::move(compressed), std::move(name), compression::xz) {
    if (lzma_stream_decoder(&stream_, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) throw std::bad_alloc();
  }
  ~xz_reader() override { lzma_end(&stream_); }
  xz_reader(const xz_reader&) = delete;
  xz_reader& operator=(const xz_reader&) = delete;

 private:
  void decode(char* out, std::size_t n) override {
    while (produced_ < n && !ended_) {
      if (unread() == 0 && !input_done_) refill();
      const std::size_t offered = unread();
      stream_.next_in = next_in();
      stream_.avail_in = offered;
      stream_.next_out = reinterpret_cast<std::uint8_t*>(out + produced_);
      stream_.avail_out = n - produced_;
      const lzma_ret status = lzma_code(&stream_, input_done_ ? LZMA_FINISH : LZMA_RUN);
      pos_ += offered - stream_.avail_in;
      produced_ += (n - produced_) - stream_.avail_out;
      switch (status) {
        case LZMA_OK: break;
        case LZMA_STREAM_END: ended_ = true; break;
        case LZMA_BUF_ERROR: truncated();
        case LZMA_FORMAT_ERROR: corrupt("not valid xz data");
        case LZMA_DATA_ERROR: corrupt("corrupt xz data");
        case LZMA_MEM_ERROR: throw std::bad_alloc();
        default: corrupt("corrupt xz data (liblzma error " + std::to_string(static_cast<int>(status)) + ")");
      }
    }
  }

  lzma_stream stream_ = LZMA_STREAM_INIT;
  bool ended_ = false;
};
#endif

}  // namespace

compression compression_of(const unsigned char* b, std::size_t size) noexcept {
  if (is_gzip_magic(b, size)) return compression::gzip;
  if (size >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) return compression::zstd;
  if (size >= 4 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h' && b[3] >= '1' && b[3] <= '9') return compression::bzip2;
  if (size >= 6 && b[0] == 0xfd && b[1] == '7' && b[2] == 'z' && b[3] == 'X' && b[4] == 'Z' && b[5] == 0)
    return compression::xz;
  return compression::none;
}

std::string_view compression_name(compression c) noexcept {
  switch (c) {
    case compression::none: return "";
    case compression::gzip: return "gzip";
    case compression::zstd: return "zstd";
    case compression::bzip2: return "bzip2";
    case compression::xz: return "xz";
  }
  return "";
}

bool compression_supported(compression c) noexcept {
  switch (c) {
    case compression::none: return true;
#ifdef LABCOUNT_HAS_ISAL
    case compression::gzip: return true;
#endif
#ifdef LABCOUNT_HAS_ZSTD
    case compression::zstd: return true;
#endif
#ifdef LABCOUNT_HAS_BZIP2
    case compression::bzip2: return true;
#endif
#ifdef LABCOUNT_HAS_LZMA
    case compression::xz: return true;
#endif
    default: return false;
  }
}

std::unique_ptr<byte_reader> make_decompressor(compression c, std::unique_ptr<byte_reader> compressed,
                                               std::string name) {
  switch (c) {
    case compression::none: return compressed;
#ifdef LABCOUNT_HAS_ISAL
    case compression::gzip: return std::make_unique<gzip_reader>(std::move(compressed), std::move(name));
#endif
#ifdef LABCOUNT_HAS_ZSTD
    case compression::zstd: return std::make_unique<zstd_reader>(std::move(compressed), std::move(name));
#endif
#ifdef LABCOUNT_HAS_BZIP2
    case compression::bzip2: return std::make_unique<bzip2_reader>(std::move(compressed), std::move(name));
#endif
#ifdef LABCOUNT_HAS_LZMA
    case compression::xz: return std::make_unique<xz_reader>(std::move(compressed), std::move(name));
#endif
    default: break;
  }
  static constexpr struct {
    compression format;
    const char* package;
    const char* tool;
  } missing[] = {{compression::gzip, "libisal-dev", "zcat"},
                 {compression::zstd, "libzstd-dev", "zstdcat"},
                 {compression::bzip2, "libbz2-dev", "bzcat"},
                 {compression::xz, "liblzma-dev", "xzcat"}};
  const auto* m = std::find_if(std::begin(missing), std::end(missing), [&](const auto& e) { return e.format == c; });
  const std::string format(compression_name(c));
  throw error(error_kind::not_built_in,
              "the input is " + format + "-compressed, but this labcount was built without " + format + " support",
              name, 0,
              std::string("install ") + m->package + " and rebuild, or decompress first: " + m->tool +
                  " FILE | labcount count -");
}

}  // namespace labcount
