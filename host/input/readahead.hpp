// A byte stream read ahead on a thread of its own: for compressed inputs, so that inflating runs beside the parse
// workers instead of in turn with them (the chunk cutter reads under the input's lock).
//
//   compressed file -> decompressor -> [readahead thread: fills buffers 1 2 3] -> read() hands them out
//
// At most `buffers` buffers of `buffer_bytes` are held. An error of the inner stream (corrupt data) is raised by
// read() only after every byte before it was handed out, as the inner stream itself would raise it; the end of
// the stream likewise. Destroying the reader stops the thread (after the inner read it is in).
#pragma once

#include <cstddef>
#include <memory>

#include "input/byte_reader.hpp"

namespace labcount {

std::unique_ptr<byte_reader> make_readahead(std::unique_ptr<byte_reader> inner, std::size_t buffer_bytes = 1 << 20,
                                            std::size_t buffers = 4);

}  // namespace labcount
