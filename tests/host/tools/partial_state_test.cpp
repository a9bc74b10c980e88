// Partial states (tools/partial_state.hpp): a batch counted in parts, each part's state written and read back,
// the states merged (flat and as a tree) and written as a table must give the bytes of one run over the whole
// batch, in every mode. Damaged and foreign files are errors naming them.
//
//   count(part1) --partial--> s1 --+
//   count(part2) --partial--> s2 --+--merge--> table == count(part1 part2 part3)
//   count(part3) --partial--> s3 --+
#include "tools/partial_state.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "backend/backend.hpp"
#include "output/count_output.hpp"
#include "support/temp_file.hpp"
#include "util/bytes.hpp"
#include "util/errors.hpp"
#include "util/thread_pool.hpp"

namespace labcount {
namespace {

struct mode_case {
  const char* name;
  value_mode mode;
  time_bucket bucket;
  bool per_file;
};

const mode_case modes[] = {{"counts", value_mode::counts, time_bucket::day, false},
                           {"per_file", value_mode::counts, time_bucket::day, true},
                           {"per_hour", value_mode::groups, time_bucket::hour, false},
                           {"per_week", value_mode::groups, time_bucket::week, false},
                           {"stats", value_mode::stats, time_bucket::day, false}};

// Lab rows in runs: a key repeats with its time often (repeats), times across midnights and before 1970.
std::string lab_file(std::mt19937_64& rng, int rows, int keys) {
  std::string text = "TestTime,SampleID\r\n";
  int key = 0;
  int day = 1, hour = 0, minute = 0;
  for (int i = 0; i < rows; ++i) {
    if (rng() % 4 != 0) {
      key = static_cast<int>(rng() % keys);
      day = 1 + static_cast<int>(rng() % 28);
      hour = static_cast<int>(rng() % 24);
      minute = static_cast<int>(rng() % 60);
    }
    const std::string year = rng() % 10 == 0 ? "1969" : "2004";
    text += (year == "1969" ? "12/31/1969 " : "8/" + std::to_string(day) + "/2004 ") + std::to_string(hour) + ":" +
            (minute < 10 ? "0" : "") + std::to_string(minute) + ",\"S" + std::to_string(key) +
            (key % 7 == 0 ? ",x" : "") + "\"\r\n";
  }
  return text;
}

class PartialState : public ::testing::TestWithParam<mode_case> {
 protected:
  count_request request_for(const std::vector<std::string>& inputs) const {
    count_request r;
    r.inputs = inputs;
    r.mode = GetParam().mode;
    r.bucket = GetParam().bucket;
    r.per_file = GetParam().per_file;
    r.times = &parser_;
    r.chunk_bytes = 4096;
    return r;
  }
  count_result run(const count_request& request) const {
    thread_pool pool(2);
    backend_options options;
    options.num_workers = 2;
    options.mode = request.mode;
    options.group_times = groups_of_times(request);
    return run_count(request, *make_cpu_backend(options), pool);
  }
  std::string table(const count_result& result, const count_request& request, const std::string& path) const {
    output_file out(path);
    write_count_result(out, result, request, output_options{});
    out.commit();
    return testing::read_file(path);
  }
  // count --partial of `inputs`, written to `path` and read back.
  partial_state state_of(const std::vector<std::string>& inputs, const std::string& path) const {
    count_request request = request_for(inputs);
    const value_mode table_mode = prepare_partial_request(request);
    output_file out(path);
    write_partial(out, partial_of(run(request), request, table_mode));
    out.commit();
    EXPECT_TRUE(is_partial_file(path));
    return read_partial(path);
  }

  time_parser parser_;
  testing::temp_dir dir_;
};

TEST_P(PartialState, MergedPartsGiveTheBytesOfOneRun) {
  std::mt19937_64 rng(41);
  std::vector<std::string> parts;
  for (int p = 0; p < 3; ++p)
    parts.push_back(dir_.write("part" + std::to_string(p) + ".csv", lab_file(rng, 4000 + 1000 * p, 300)));
  // A part counted twice: its repeats and counts double, as in one run (not with --per-file, where a run lists
  // a file once and the CLI never counts one file twice).
  parts.push_back(GetParam().per_file ? dir_.write("part3.csv", lab_file(rng, 3000, 300)) : parts[0]);
  const count_request whole_request = request_for(parts);
  const std::string whole = table(run(whole_request), whole_request, (dir_.path() / "whole.csv").string());

  std::vector<std::string> state_paths;
  for (std::size_t p = 0; p < parts.size(); ++p)
    state_paths.push_back((dir_.path() / ("s" + std::to_string(p))).string());
  // Flat: every state into the first.
  partial_state flat = state_of({parts[0]}, state_paths[0]);
  for (std::size_t p = 1; p < parts.size(); ++p)
    merge_partial(flat, state_paths[0], state_of({parts[p]}, state_paths[p]), state_paths[p]);
  count_request flat_request;
  EXPECT_EQ(table(result_of(std::move(flat), flat_request), flat_request, (dir_.path() / "flat.csv").string()), whole);

  // A tree: (0 1) and (2 3) merged, written as states, read back and merged.
  partial_state left = read_partial(state_paths[0]);
  merge_partial(left, state_paths[0], read_partial(state_paths[1]), state_paths[1]);
  partial_state right = read_partial(state_paths[2]);
  merge_partial(right, state_paths[2], read_partial(state_paths[3]), state_paths[3]);
  const std::string left_path = (dir_.path() / "left").string(), right_path = (dir_.path() / "right").string();
  for (const auto& [state, path] : {std::pair{&left, left_path}, std::pair{&right, right_path}}) {
    output_file out(path);
    write_partial(out, *state);
    out.commit();
  }
  partial_state tree = read_partial(left_path);
  merge_partial(tree, left_path, read_partial(right_path), right_path);
  count_request tree_request;
  EXPECT_EQ(table(result_of(std::move(tree), tree_request), tree_request, (dir_.path() / "tree.csv").string()), whole);
}

// Parts of more keys than merge encodes in one block (64 Ki), overlapping: the merged table is the whole's.
TEST_P(PartialState, PartsOfManyKeysMergeIntoTheWhole) {
  std::mt19937_64 rng(43);
  const std::vector<std::string> parts{dir_.write("many0.csv", lab_file(rng, 120'000, 200'000)),
                                       dir_.write("many1.csv", lab_file(rng, 150'000, 200'000))};
  const count_request whole_request = request_for(parts);
  const std::string whole = table(run(whole_request), whole_request, (dir_.path() / "whole.csv").string());
  const std::string s0 = (dir_.path() / "m0").string(), s1 = (dir_.path() / "m1").string();
  partial_state merged = state_of({parts[0]}, s0);
  partial_state second = state_of({parts[1]}, s1);
  ASSERT_GT(second.keys.size(), std::size_t{1} << 16);
  merge_partial(merged, s0, std::move(second), s1);
  count_request merged_request;
  EXPECT_EQ(table(result_of(std::move(merged), merged_request), merged_request, (dir_.path() / "m.csv").string()),
            whole);
}

// An MPI job cuts each rank's state by key hash and merges the cuts of one hash on one rank: the parts, encoded
// and decoded as they travel, then merged in any order, give the table of the whole.
TEST_P(PartialState, PartitionedByKeyAndMergedBackGiveTheWhole) {
  std::mt19937_64 rng(7);
  const std::string a = dir_.write("a.csv", lab_file(rng, 5000, 400));
  const std::string b = dir_.write("b.csv", lab_file(rng, 3000, 400));
  const count_request whole_request = request_for({a, b});
  const std::string whole = table(run(whole_request), whole_request, (dir_.path() / "whole.csv").string());
  for (const std::size_t ranks : {1u, 2u, 3u, 7u}) {
    SCOPED_TRACE(ranks);
    std::vector<std::vector<partial_state>> cut;  // cut[input][rank]
    for (const auto& in : {a, b}) {
      const std::vector<std::string> bytes = encode_partitioned(state_of({in}, (dir_.path() / "s").string()), ranks);
      ASSERT_EQ(bytes.size(), ranks);
      std::vector<partial_state> parts;
      for (const auto& b : bytes) parts.push_back(decode_partial(b, "part"));
      cut.push_back(std::move(parts));
    }
    // Each rank's keys are its own: no key in two parts.
    std::set<std::string> seen;
    std::size_t keys = 0;
    for (std::size_t r = 0; r < ranks; ++r)
      for (std::uint32_t code = 0; code < cut[0][r].keys.size(); ++code) {
        seen.insert(std::string(cut[0][r].keys.key(code)));
        ++keys;
      }
    EXPECT_EQ(seen.size(), keys);
    // Merge per rank (input b first: any order), then the ranks' shares, last rank first.
    std::vector<partial_state> shares;
    for (std::size_t r = 0; r < ranks; ++r) {
      partial_state share = std::move(cut[1][r]);
      if (r % 2 == 0)
        merge_partial(share, "b", std::move(cut[0][r]), "a");
      else
        merge_encoded(share, "b", encode_partial(cut[0][r]), "a");  // the MPI ranks' way
      shares.push_back(std::move(share));
    }
    partial_state total = std::move(shares.back());
    for (std::size_t r = ranks - 1; r-- > 0;) merge_partial(total, "total", std::move(shares[r]), "share");
    count_request total_request;
    EXPECT_EQ(table(result_of(std::move(total), total_request), total_request, (dir_.path() / "t.csv").string()), whole);
  }
}

// The exchange of an MPI job (distributed_count.cpp), without MPI: each rank sends the others their cuts of its
// state, keeps its own in place (keep_part) and merges in what it receives; ranks 1.. send rank 0 their cut,
// with their rows, and rank 0 merges them into its state. Rank 0's state then gives the table of the whole.
TEST_P(PartialState, TheExchangeOfAnMpiJobGivesTheWhole) {
  std::mt19937_64 rng(11);
  const std::vector<std::string> inputs{dir_.write("x.csv", lab_file(rng, 6000, 500)),
                                        dir_.write("y.csv", lab_file(rng, 4000, 500)),
                                        dir_.write("z.csv", lab_file(rng, 100, 500))};
  const count_request whole_request = request_for(inputs);
  const std::string whole = table(run(whole_request), whole_request, (dir_.path() / "whole.csv").string());
  for (const std::size_t ranks : {2u, 3u}) {
    SCOPED_TRACE(ranks);
    std::vector<partial_state> state;  // per rank: x, y, z (two ranks: x, and y with z)
    state.push_back(state_of({inputs[0]}, (dir_.path() / "s0").string()));
    state.push_back(ranks == 2 ? state_of({inputs[1], inputs[2]}, (dir_.path() / "s1").string())
                               : state_of({inputs[1]}, (dir_.path() / "s1").string()));
    if (ranks == 3) state.push_back(state_of({inputs[2]}, (dir_.path() / "s2").string()));
    std::uint64_t rows = 0;
    for (const auto& s : state) rows += s.rows;
    std::vector<std::vector<std::string>> sent;  // sent[from][to]
    for (std::size_t r = 0; r < ranks; ++r) {
      std::vector<bool> others(ranks, true);
      others[r] = false;
      sent.push_back(encode_partitioned(state[r], ranks, others, ranks));
      EXPECT_TRUE(sent[r][r].empty());
      const std::size_t keys = state[r].keys.size();
      keep_part(state[r], ranks, r);
      EXPECT_EQ(state[r].keys.size(), keys);  // the keys stay, without their values
    }
    for (std::size_t r = 0; r < ranks; ++r)
      for (std::size_t from = 0; from < ranks; ++from)
        if (from != r) merge_encoded(state[r], "rank", sent[from][r], "from");
    std::vector<std::string> shares(ranks), names(ranks, "share");
    for (std::size_t r = 1; r < ranks; ++r) {
      std::vector<bool> own(ranks, false);
      own[r] = true;
      std::vector<std::string> share = encode_partitioned(state[r], ranks, own, r);
      for (std::size_t q = 0; q < ranks; ++q) EXPECT_EQ(share[q].empty(), q != r);
      shares[r] = std::move(share[r]);
    }
    merge_shares(state[0], "rank 0", shares, names, 0);
    EXPECT_EQ(state[0].rows, rows);
    // A state as --partial writes it: its pairs in (code, time) order, as decode_partial checks.
    EXPECT_NO_THROW(decode_partial(encode_partial(state[0]), "the job's state"));
    // With pairs (appended, not merged), a share holding a key of another rank (a bug) is an error, not a table
    // with a key twice. (Counts merge by lookups: a key found is added to.)
    if (ranks == 2 && GetParam().mode != value_mode::counts) {
      partial_state whole = state_of({inputs[0]}, (dir_.path() / "tw").string());
      std::vector<std::string> again = {"", encode_partial(whole)}, name = {"", "again"};
      EXPECT_THROW(merge_shares(whole, "whole", again, name, 0), error);
    }
    count_request total_request;
    EXPECT_EQ(table(result_of(std::move(state[0]), total_request), total_request, (dir_.path() / "t.csv").string()),
              whole);
  }
}

TEST_P(PartialState, ADamagedStateIsAnErrorNamingIt) {
  std::mt19937_64 rng(5);
  const std::string part = dir_.write("part.csv", lab_file(rng, 200, 20));
  const std::string path = (dir_.path() / "state").string();
  state_of({part}, path);
  const std::string bytes = testing::read_file(path);
  for (std::size_t length = 0; length < bytes.size(); length += 1 + length / 16) {
    const std::string cut = dir_.write("cut", bytes.substr(0, length));
    try {
      read_partial(cut);
      ADD_FAILURE() << "a state cut to " << length << " of " << bytes.size() << " bytes was read";
    } catch (const error& e) {
      EXPECT_EQ(e.kind(), error_kind::bad_value) << e.what();
      EXPECT_EQ(e.file(), cut);
    }
  }
  for (std::size_t at = 0; at < bytes.size(); at += 1 + at / 8) {
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x21);
    const std::string changed = dir_.write("changed", flipped);
    EXPECT_THROW(read_partial(changed), error) << "byte " << at << " changed";
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, PartialState, ::testing::ValuesIn(modes),
                         [](const ::testing::TestParamInfo<mode_case>& info) { return info.param.name; });

// A state whose checksum is right but which lists one key twice (made by hand: no encoder writes one) is an
// error naming it, whether read alone or merged into another, not a table with the key on two rows.
TEST(PartialStates, AKeyListedTwiceIsAnErrorNamingTheState) {
  partial_state s;
  s.key_names = {"SampleID"};
  s.rows = 3;
  s.keys.encode("KA");
  s.keys.encode("KB");
  s.counts = {1, 2};
  std::string bytes = encode_partial(s);
  const std::size_t at = bytes.find("KB");
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(bytes.find("KB", at + 1), std::string::npos);
  bytes[at + 1] = 'A';  // now "KA" twice
  const std::uint64_t sum = bytes::fnv1a64(std::string_view(bytes).substr(0, bytes.size() - 8));
  for (int i = 0; i < 8; ++i) bytes[bytes.size() - 8 + i] = static_cast<char>(sum >> (8 * i));
  for (const bool merged : {false, true}) {
    SCOPED_TRACE(merged ? "merged into another state" : "read alone");
    try {
      if (merged) {
        partial_state total = decode_partial(encode_partial(s), "good.lcp");
        // (Merging re-codes keys by lookup: both copies would land on one code and their counts be summed.)
        merge_encoded(total, "good.lcp", bytes, "twice.lcp");
        ADD_FAILURE() << "merged a state that lists a key twice";
      } else {
        decode_partial(bytes, "twice.lcp");
        ADD_FAILURE() << "read a state that lists a key twice";
      }
    } catch (const error& e) {
      EXPECT_EQ(e.kind(), error_kind::bad_value) << e.what();
      EXPECT_EQ(e.file(), "twice.lcp");
      EXPECT_NE(std::string(e.what()).find("listed twice"), std::string::npos) << e.what();
    }
  }
}

TEST(PartialStates, DifferentOptionsAreAnErrorNamingTheDifference) {
  testing::temp_dir dir;
  const time_parser parser;
  const std::string csv = dir.write("a.csv", "TestTime,SampleID\n8/10/2004 1:15,S1\n");
  const auto state = [&](value_mode mode, time_bucket bucket, const std::string& name) {
    count_request r;
    r.inputs = {csv};
    r.mode = mode;
    r.bucket = bucket;
    r.times = &parser;
    const value_mode table_mode = prepare_partial_request(r);
    thread_pool pool(1);
    backend_options options;
    options.mode = r.mode;
    options.group_times = groups_of_times(r);
    partial_state s = partial_of(run_count(r, *make_cpu_backend(options), pool), r, table_mode);
    (void)name;
    return s;
  };
  partial_state day = state(value_mode::groups, time_bucket::day, "day");
  try {
    merge_partial(day, "day.lcp", state(value_mode::groups, time_bucket::week, "week"), "week.lcp");
    FAIL() << "merged --per day with --per week";
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::usage);
    EXPECT_NE(std::string(e.what()).find("--per is day in day.lcp but week in week.lcp"), std::string::npos)
        << e.what();
  }
  partial_state counts = state(value_mode::counts, time_bucket::day, "counts");
  EXPECT_THROW(merge_partial(counts, "c.lcp", state(value_mode::stats, time_bucket::day, "s"), "s.lcp"), error);
  // A well-formed state whose bucket no timestamp has (fuzz_partial: a week past 2^63 / 7 overflowed the writer).
  partial_state odd;
  odd.table = value_mode::groups;
  odd.bucket = time_bucket::week;
  odd.key_names = {"SampleID"};
  odd.keys.encode("S1");
  odd.pairs.push_back({0, std::numeric_limits<std::int64_t>::min() / 2, 1});
  const std::string odd_path = (dir.path() / "odd.lcp").string();
  {
    output_file out(odd_path);
    write_partial(out, odd);
    out.commit();
  }
  try {
    read_partial(odd_path);
    FAIL() << "read a week no timestamp has";
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find("a time bucket no timestamp has"), std::string::npos) << e.what();
  }
  // The magic number alone: cut short, and said so.
  try {
    read_partial(dir.write("magic_only.lcp", std::string("\x89LCP\r\n\x1a\n\x01", 9)));
    FAIL();
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find("ends early"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(is_partial_file(csv));
  try {
    read_partial(csv);
    FAIL();
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find("magic number"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace labcount
