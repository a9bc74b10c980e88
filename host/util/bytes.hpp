// Unaligned word loads and short byte compares, for the per-row code (keys, timestamps): one place for
// the idiom, so every caller reads memory the same, sanitizer-clean way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace labcount::bytes {

// sizeof(T) bytes at p as a T (little-endian on the machines labcount builds for), at any alignment.
template <class T>
[[gnu::always_inline]] inline T load(const char* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Whether the n bytes at a and b are equal. Inline for the usual short keys and timestamps (a libc
// memcmp call costs more than the compare itself): two overlapping loads cover every byte of a
// 4..16-byte text without reading past it.
[[gnu::always_inline]] inline bool equal(const char* a, const char* b, std::size_t n) noexcept {
  if (n >= 8 && n <= 16)
    return load<std::uint64_t>(a) == load<std::uint64_t>(b) &&
           load<std::uint64_t>(a + n - 8) == load<std::uint64_t>(b + n - 8);
  if (n >= 4 && n < 8)
    return load<std::uint32_t>(a) == load<std::uint32_t>(b) &&
           load<std::uint32_t>(a + n - 4) == load<std::uint32_t>(b + n - 4);
  return n == 0 || std::memcmp(a, b, n) == 0;
}

// ASCII case folding, for names a person types (columns, month names); other bytes unchanged.
constexpr char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

// a == b, ASCII letters compared without case ("CSV" == "csv"); other bytes exactly.
constexpr bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

// Whether `s` ends with `suffix`, ASCII letters compared without case ("A.CSV.GZ" ends with ".csv.gz").
constexpr bool ends_with_ignoring_case(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && equal_ignoring_case(s.substr(s.size() - suffix.size()), suffix);
}

// FNV-1a 64 of `data`, continuing from `hash` (so a stream can be hashed piece by piece): the checksum of
// partial states and the digest bench compares outputs with.
inline constexpr std::uint64_t fnv1a64_basis = 14695981039346656037ULL;  // 0xcbf29ce484222325
constexpr std::uint64_t fnv1a64(std::string_view data, std::uint64_t hash = fnv1a64_basis) noexcept {
  for (const char c : data) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return hash;
}

// The keys live scattered across the dictionary's storage, so the first touch of each one is a cache
// miss; the sort and the writers ask for keys a few rows ahead to overlap those misses.
[[gnu::always_inline]] inline void prefetch(const void* address) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(address);
#else
  (void)address;
#endif
}

inline constexpr std::size_t prefetch_distance = 8;

}  // namespace labcount::bytes
