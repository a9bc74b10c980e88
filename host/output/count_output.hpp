// Writes a count_result the way `labcount count` prints it: plain counts (optionally per file), --stats
// or --per rows, ordered and formatted per output_options. Shared by `count` and `bench` (which checks
// that every backend produces these exact bytes).
#pragma once

#include "output/output_file.hpp"
#include "output/result_writer.hpp"
#include "pipeline/count_pipeline.hpp"

namespace labcount {

void write_count_result(output_file& out, const count_result& result, const count_request& request,
                        output_options options);

}  // namespace labcount
