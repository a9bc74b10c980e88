// Ordering a result: one total order per --sort, the same at any input order, fast for millions of
// keys (a radix sort on 8-byte chunks of the key bytes, not string compares).
//
//   rows [(S2,1) (S10,4) (S1,4)]  --order_rows(key)-->  [(S1,4) (S10,4) (S2,1)]
//                                 --order_rows(count, top=2)-->  [(S1,4) (S10,4)]
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "output/result_rows.hpp"

namespace labcount {

// Sorts rows per options.order into a total order (the result does not depend on the input order)
// and keeps only the first options.top rows when top != 0.
void order_rows(std::vector<count_row>& rows, const output_options& options);

// The output order of `rows` (by `order`), as indices into rows: the fast sort of order_rows, for the
// tables that carry more than a count (--stats, --per). Ties that order leaves (equal keys; equal
// counts and keys) come in no particular order: the caller breaks them.
std::vector<std::uint32_t> output_order(std::span<const count_row> rows, sort_order order);

std::string_view to_string(sort_order order) noexcept;

}  // namespace labcount
