// A key of several columns (--key SampleID,Assay) as one byte string, so that everything after the
// scanner (dictionary, backends, partial states, the MPI exchange, ordering) handles one key as before:
//
//   ("S1", "A\0B")  ->  "S1" 00 01 "A" 00 FF "B"
//
// Each part's 0x00 bytes are written 00 FF, and parts are joined by 00 01. Byte order of two encodings is
// the order of their tuples, part by part: the joint 00 01 sorts below any byte that continues a part (00 FF,
// or 01..FF), so a part that is a prefix of another sorts first, as in byte order. A key of one column is
// its bytes as they are, never encoded: only code that knows the number of parts decodes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace labcount::key_tuple {

// Appends `part` encoded; every part but the first is preceded by the joint.
inline void append_part(std::string& out, std::string_view part, bool first) {
  if (!first) out.append("\0\1", 2);
  for (std::size_t at = 0;;) {
    const std::size_t nul = part.find('\0', at);
    if (nul == std::string_view::npos) {
      out.append(part.substr(at));
      return;
    }
    out.append(part.substr(at, nul - at));
    out.append("\0\xFF", 2);
    at = nul + 1;
  }
}

inline std::string encode(const std::vector<std::string_view>& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) append_part(out, parts[i], i == 0);
  return out;
}

// The parts of an encoded key of `num_parts` parts, as views into `key` where a part holds no 0x00 byte, and
// into `scratch` where it does (valid until `scratch` is next used). False when `key` is not such an
// encoding (a 00 not followed by 01 or FF, or another number of parts). One part: the key itself.
inline bool split(std::string_view key, std::size_t num_parts, std::vector<std::string_view>& parts,
                  std::string& scratch) {
  parts.clear();
  if (num_parts <= 1) {
    parts.push_back(key);
    return true;
  }
  scratch.clear();
  scratch.reserve(key.size());  // decoded parts are never longer: views into it stay valid
  std::size_t begin = 0;
  bool escaped = false;  // the part so far holds a 00 FF: it is decoded into scratch
  std::size_t scratch_begin = 0;
  const auto end_part = [&](std::size_t end) {
    if (escaped) {
      scratch.append(key.substr(begin, end - begin));
      parts.emplace_back(scratch.data() + scratch_begin, scratch.size() - scratch_begin);
    } else {
      parts.push_back(key.substr(begin, end - begin));
    }
  };
  for (std::size_t at = 0; at < key.size(); ++at) {
    if (key[at] != '\0') continue;
    if (at + 1 == key.size()) return false;
    if (key[at + 1] == '\1') {
      end_part(at);
      begin = at + 2;
      escaped = false;
      scratch_begin = scratch.size();
      ++at;
    } else if (key[at + 1] == '\xFF') {
      if (!escaped) scratch_begin = scratch.size();
      escaped = true;
      scratch.append(key.substr(begin, at - begin));
      scratch.push_back('\0');
      begin = at + 2;
      ++at;
    } else {
      return false;
    }
  }
  end_part(key.size());
  return parts.size() == num_parts;
}

// The names of the key columns as the output's header shows them: the names joined by the delimiter of a
// message ("SampleID, Assay").
inline std::string describe(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) out += (i == 0 ? "" : ", ") + names[i];
  return out;
}

}  // namespace labcount::key_tuple
