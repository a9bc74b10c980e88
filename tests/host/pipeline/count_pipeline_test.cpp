// The whole host pipeline (input_source + scanner + dictionary + workers + CPU backend) against the
// single-threaded reference, at many thread counts and chunk sizes: how the input is split must never
// change the answer.
#include "pipeline/count_pipeline.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <map>
#include <random>
#include <tuple>

#include "input/input_source.hpp"
#include "support/reference_csv.hpp"
#include "support/temp_file.hpp"
#include "util/errors.hpp"

namespace labcount {
namespace {

using counts_map = std::map<std::string, std::uint64_t>;

struct run_output {
  counts_map counts;
  count_result result;
};

// run_count on the CPU backend with `threads` workers.
count_result run_request(const count_request& request, unsigned threads) {
  thread_pool pool(threads);
  backend_options options;
  options.num_workers = threads;
  return run_count(request, *make_cpu_backend(options), pool);
}

run_output run(const std::vector<std::string>& paths, const std::string& key, unsigned threads, std::size_t chunk,
               bad_row_policy policy = bad_row_policy::error, bool has_header = true, char delimiter = ',') {
  count_request request;
  request.inputs = paths;
  request.key = key;
  request.has_header = has_header;
  request.delimiter = delimiter;
  request.on_bad_row = policy;
  request.chunk_bytes = chunk;
  run_output out;
  out.result = run_request(request, threads);
  for (std::uint32_t code = 0; code < out.result.dictionary.size(); ++code)
    if (out.result.counts[code] != 0)
      out.counts[std::string(out.result.dictionary.key(code))] = out.result.counts[code];
  return out;
}

const std::vector<unsigned> thread_counts = {1, 2, 3, 8};
const std::vector<std::size_t> chunk_sizes = {1, 2, 5, 63, 64, 65, 1000, 0};

// Every case is checked at every thread count and chunk size, against the reference.
void expect_same_everywhere(const std::string& text, const std::string& key_name, std::size_t key_index,
                            const counts_map& expected, bool has_header = true, char delimiter = ',') {
  testing::temp_dir dir;
  const std::string path = dir.write("in.csv", text);
  const auto ref = testing::reference_count(text, delimiter, has_header, key_index);
  ASSERT_EQ(ref.counts, expected) << "the reference disagrees with the hand-written expectation";
  for (unsigned threads : thread_counts)
    for (std::size_t chunk : chunk_sizes) {
      const auto got = run({path}, key_name, threads, chunk, bad_row_policy::error, has_header, delimiter);
      ASSERT_EQ(got.counts, expected) << "threads=" << threads << " chunk=" << chunk;
      ASSERT_EQ(got.result.rows, ref.rows);
    }
}

TEST(CountPipeline, HighCardinalityGoesStraightToTheGlobalDictionary) {
  // Past 1 Mi keys a worker stops using its private dictionary (count_pipeline.cpp, "direct mode"): the
  // batch then holds views into the chunk, and copies of quoted keys, whose text lives in a scratch
  // buffer that the next quoted row overwrites. Then the keys seen before come round again.
  constexpr std::size_t distinct = (std::size_t{1} << 20) + 50'000;
  std::string text = "TestTime,SampleID\n";
  counts_map expected;
  for (std::size_t i = 0; i < distinct; ++i) {
    text += "8/10/2004 1:15,k" + std::to_string(i) + "\n";
    ++expected["k" + std::to_string(i)];
  }
  for (std::size_t j = 0; j < 200'000; ++j) {
    const std::string quoted = "q,\"" + std::to_string(j % 50);
    text += "8/10/2004 1:16,\"q,\"\"" + std::to_string(j % 50) + "\"\n";
    ++expected[quoted];
    const std::string old = "k" + std::to_string(j * 7 % distinct);
    text += "8/10/2004 1:17," + old + "\n";
    ++expected[old];
  }
  testing::temp_dir dir;
  const std::string path = dir.write("many.csv", text);
  for (unsigned threads : {1u, 2u}) {
    const auto got = run({path}, "SampleID", threads, 0);
    ASSERT_EQ(got.counts.size(), expected.size()) << threads;
    ASSERT_TRUE(got.counts == expected) << threads;
  }
  // The same rows through the timed path (--stats): one count per key, as above.
  static const time_parser parser;
  count_request request;
  request.inputs = {path};
  request.mode = value_mode::stats;
  request.times = &parser;
  thread_pool pool(1);
  backend_options options;
  options.mode = value_mode::stats;
  const count_result stats = run_count(request, *make_cpu_backend(options), pool);
  std::size_t checked = 0;
  for (std::uint32_t code = 0; code < stats.dictionary.size(); ++code) {
    if (stats.stats[code].count == 0) continue;
    ASSERT_EQ(stats.stats[code].count, expected.at(std::string(stats.dictionary.key(code))));
    ++checked;
  }
  EXPECT_EQ(checked, expected.size());
}

TEST(CountPipeline, SeedFormatCrlf) {
  expect_same_everywhere(
      "TestTime,SampleID\r\n8/10/2004 1:15,S00802\r\n8/10/2004 1:15,S00802\r\n8/10/2004 0:46,S96030\r\n", "SampleID", 1,
      {{"S00802", 2}, {"S96030", 1}});
}

TEST(CountPipeline, LineEndingsMixedAndLastLineWithoutNewline) {
  expect_same_everywhere("a,k\n1,x\r\n2,y\n3,x", "k", 1, {{"x", 2}, {"y", 1}});
  expect_same_everywhere("a,k\r\n1,x\r\n2,x\r", "k", 1, {{"x", 2}});
}

TEST(CountPipeline, BlankLinesAreSkipped) {
  expect_same_everywhere("\n\r\na,k\n\n1,x\r\n\r\n\n2,x\n\n", "k", 1, {{"x", 2}});
}

TEST(CountPipeline, BomIsSkipped) { expect_same_everywhere("\xEF\xBB\xBFk,a\nx,1\n", "k", 0, {{"x", 1}}); }

TEST(CountPipeline, QuotedKeysWithDelimitersQuotesAndNewlines) {
  expect_same_everywhere("\"a\",\"k\"\n1,\"x,y\"\n2,\"say \"\"hi\"\"\"\n3,\"two\r\nlines\"\n4,x\n5,\"x\"\n", "k", 1,
                         {{"x,y", 1}, {"say \"hi\"", 1}, {"two\r\nlines", 1}, {"x", 2}});
}

TEST(CountPipeline, MultiLineFieldsInOtherColumns) {
  std::string text = "note,k,more\n";
  for (int i = 0; i < 50; ++i)
    text += "\"line one\nline two, with comma\n\"\"quoted\"\"\",k" + std::to_string(i % 3) + ",\"x\ny\"\n";
  expect_same_everywhere(text, "k", 1, {{"k0", 17}, {"k1", 17}, {"k2", 16}});
}

TEST(CountPipeline, KeyAnywhereAndManyColumns) {
  expect_same_everywhere("a,b,c,d,e\n1,2,3,4,5\n1,2,3,4,5\n9,8,7,6,5\n", "a", 0, {{"1", 2}, {"9", 1}});
  expect_same_everywhere("a,b,c,d,e\n1,2,3,4,5\n1,2,3,4,5\n9,8,7,6,5\n", "e", 4, {{"5", 3}});
  expect_same_everywhere("a,b,c,d,e\n1,2,3,4,5\n1,2,3,4,5\n9,8,7,6,5\n", "3", 2, {{"3", 2}, {"7", 1}});
}

TEST(CountPipeline, KeysAreByteExact) {
  expect_same_everywhere("k\n x\nx \nx\n\"x\"\nÄ\n\"\"\n", "k", 0, {{" x", 1}, {"x ", 1}, {"x", 2}, {"Ä", 1}, {"", 1}});
}

TEST(CountPipeline, VeryLongKeys) {
  const std::string long_key(100000, 'k');
  expect_same_everywhere("id,k\n1," + long_key + "\n2," + long_key + "\n3,\"" + long_key + "\"\n", "k", 1,
                         {{long_key, 3}});
}

TEST(CountPipeline, NoHeaderAndOtherDelimiters) {
  expect_same_everywhere("x;1\ny;2\nx;3\n", "1", 0, {{"x", 2}, {"y", 1}}, false, ';');
  expect_same_everywhere("a\tk\n1\tx\n", "k", 1, {{"x", 1}}, true, '\t');
}

TEST(CountPipeline, EmptyAndHeaderOnly) {
  testing::temp_dir dir;
  for (const char* text : {"", "\xEF\xBB\xBF", "\n\n", "SampleID\n", "SampleID"}) {
    const auto got = run({dir.write("e.csv", text)}, "SampleID", 2, 0);
    EXPECT_TRUE(got.counts.empty()) << text;
    EXPECT_EQ(got.result.key_names, std::vector<std::string>{"SampleID"});
  }
}

TEST(CountPipeline, CountsAreSummedOverInputs) {
  testing::temp_dir dir;
  const auto a = dir.write("a.csv", "t,SampleID\n1,x\n2,y\n");
  const auto b = dir.write("b.csv", "SampleID,t\nx,1\n");  // the key may sit elsewhere in another file
  EXPECT_EQ(run({a, b}, "SampleID", 2, 0).counts, (counts_map{{"x", 2}, {"y", 1}}));
}

TEST(CountPipeline, FirstBadRowIsReportedWithItsLine) {
  testing::temp_dir dir;
  std::string text = "a,k\n";
  for (int i = 0; i < 200; ++i) text += (i == 150 || i == 170) ? "oops\n" : "1,x\n";
  const auto path = dir.write("bad.csv", text);
  for (unsigned threads : thread_counts)
    for (std::size_t chunk : chunk_sizes) {
      try {
        run({path}, "k", threads, chunk);
        FAIL() << "expected an error";
      } catch (const error& e) {
        EXPECT_EQ(e.kind(), error_kind::too_few_fields);
        EXPECT_EQ(e.line(), 152u) << "threads=" << threads << " chunk=" << chunk;
        EXPECT_EQ(e.file(), path);
        EXPECT_FALSE(e.hint().empty());
      }
      const auto skipped = run({path}, "k", threads, chunk, bad_row_policy::skip);
      EXPECT_EQ(skipped.result.bad_rows, 2u);
      EXPECT_EQ(skipped.counts, (counts_map{{"x", 198}}));
      ASSERT_EQ(skipped.result.bad_row_samples.size(), 2u);
      EXPECT_EQ(skipped.result.bad_row_samples[0].line, 152u);
      EXPECT_EQ(skipped.result.bad_row_samples[1].line, 172u);
    }
}

// The first problem in input order is the one reported, whatever the thread count and chunk size: a
// record past the cap (found by the chunk cutter, not a worker) gets its line like a bad row does.
TEST(CountPipeline, ARecordPastTheCapNamesItsLineAtAnyChunkSize) {
  testing::temp_dir dir;
  std::string text = "a,k\n";
  for (int i = 0; i < 300; ++i) text += "1,x\n";
  const std::string long_then_bad = text + std::string(5000, 'z') + ",y\n" + "oops\n";
  const std::string bad_then_long = text + "oops\n" + std::string(5000, 'z') + ",y\n";
  const auto first = dir.write("long_first.csv", long_then_bad);
  const auto second = dir.write("bad_first.csv", bad_then_long);
  for (unsigned threads : thread_counts)
    for (std::size_t chunk : {std::size_t{1}, std::size_t{64}, std::size_t{1000}}) {
      for (const auto& [path, kind, line] : {std::tuple{first, error_kind::record_too_long, 302u},
                                             std::tuple{second, error_kind::too_few_fields, 302u}}) {
        count_request request;
        request.inputs = {path};
        request.key = "k";
        request.chunk_bytes = chunk;
        request.max_record_bytes = 2048;
        try {
          run_request(request, threads);
          FAIL() << "expected an error";
        } catch (const error& e) {
          EXPECT_EQ(e.kind(), kind) << path << " threads=" << threads << " chunk=" << chunk << ": " << e.what();
          EXPECT_EQ(e.line(), line) << path << " threads=" << threads << " chunk=" << chunk;
        }
      }
    }
}

// A file that shrinks while it is mapped (rotated, truncated) once crashed the run with SIGBUS.
TEST(CountPipeline, AFileThatShrinksWhileReadIsAnIoError) {
  testing::temp_dir dir;
  std::string text = "a,k\n";
  while (text.size() < (std::size_t{8} << 20)) text += "1,x\n";
  const auto path = dir.write("big.csv", text);
  input_source source(path, std::size_t{1} << 20);
  std::vector<std::string> header;
  std::uint64_t line = 0;
  char delimiter = ',';
  ASSERT_TRUE(source.read_first_record(delimiter, true, header, line));
  ASSERT_EQ(::truncate(path.c_str(), 4096), 0);
  std::uint64_t quotes = 0;
  while (auto c = source.next_chunk()) {
    quotes += count_quotes(c->begin, c->end);  // touches every page: past 4 KiB they are gone
    source.release(*c);
  }
  EXPECT_EQ(quotes, 0u);
  try {
    source.check_intact();
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::io);
    EXPECT_EQ(e.file(), path);
    EXPECT_NE(std::string(e.what()).find("shrank"), std::string::npos) << e.what();
  }
}

TEST(CountPipeline, UnterminatedQuoteIsAnErrorUnderEveryPolicy) {
  testing::temp_dir dir;
  std::string text = "a,k\n1,x\n2,\"y\n";
  for (int i = 0; i < 50; ++i) text += "3,z\n";
  const auto path = dir.write("quote.csv", text);
  for (auto policy : {bad_row_policy::error, bad_row_policy::skip, bad_row_policy::warn})
    for (unsigned threads : thread_counts)
      for (std::size_t chunk : chunk_sizes) {
        try {
          run({path}, "k", threads, chunk, policy);
          FAIL() << "expected an error";
        } catch (const error& e) {
          EXPECT_EQ(e.kind(), error_kind::unterminated_quote);
          EXPECT_EQ(e.line(), 3u) << "threads=" << threads << " chunk=" << chunk;
          EXPECT_NE(std::string(e.what()).find("the remaining 51 lines (203 B) are one field"), std::string::npos)
              << e.what();
        }
      }
}

// The fuzzer found it: an earlier bad record with an even number of quotes (x"y" is a stray quote, one
// bad row) in the last chunk was taken for the one that never closes, so the line depended on the
// chunk size. Only the record whose own quotes are odd swallows the rest.
TEST(CountPipeline, OnlyTheRecordWithOddQuotesSwallowsTheRest) {
  testing::temp_dir dir;
  const auto path = dir.write("q.csv", "a,k\n1,x\"y\"\n2,z\n3,w\"v\n4,u\n");
  for (unsigned threads : thread_counts)
    for (std::size_t chunk : chunk_sizes) {
      try {
        run({path}, "k", threads, chunk, bad_row_policy::skip);
        FAIL() << "expected an error";
      } catch (const error& e) {
        EXPECT_EQ(e.kind(), error_kind::stray_quote);
        EXPECT_EQ(e.line(), 4u) << "threads=" << threads << " chunk=" << chunk;
        EXPECT_NE(std::string(e.what()).find("the remaining 2 lines"), std::string::npos) << e.what();
      }
    }
}

TEST(CountPipeline, MaxBadRowsStopsTheRun) {
  testing::temp_dir dir;
  std::string text = "a,k\n";
  for (int i = 0; i < 100; ++i) text += i % 10 == 0 ? "oops\n" : "1,x\n";
  const auto path = dir.write("bad.csv", text);
  for (std::uint64_t limit : {0u, 5u, 9u, 10u}) {
    count_request request;
    request.inputs = {path};
    request.key = "k";
    request.on_bad_row = bad_row_policy::skip;
    request.max_bad_rows = limit;
    request.chunk_bytes = 64;
    if (limit >= 10) {
      EXPECT_EQ(run_request(request, 2).bad_rows, 10u);
      continue;
    }
    try {
      run_request(request, 2);
      FAIL() << "expected an error at limit " << limit;
    } catch (const error& e) {
      EXPECT_EQ(e.kind(), error_kind::too_many_bad_rows);
    }
  }
}

TEST(CountPipeline, QuoteErrorsNameTheLine) {
  testing::temp_dir dir;
  struct bad_case {
    const char* text;
    error_kind kind;
    std::uint64_t line;
  };
  for (const auto& c : {bad_case{"a,k\n1,x\n2,\"open\n3,x\n", error_kind::unterminated_quote, 3},
                        bad_case{"a,k\n1,x\n2,5\"pipe\n", error_kind::stray_quote, 3},
                        bad_case{"a,k\n1,x\n2,\"x\"y\n", error_kind::stray_quote, 3},
                        bad_case{"a,k\n1,x,3\n", error_kind::too_many_fields, 2}}) {
    const auto path = dir.write("q.csv", c.text);
    for (unsigned threads : {1u, 2u})
      for (std::size_t chunk : {std::size_t{1}, std::size_t{0}}) {
        try {
          run({path}, "k", threads, chunk);
          ADD_FAILURE() << "expected an error for " << c.text;
        } catch (const error& e) {
          EXPECT_EQ(e.kind(), c.kind) << c.text;
          EXPECT_EQ(e.line(), c.line) << c.text << " threads=" << threads << " chunk=" << chunk;
        }
      }
  }
}

TEST(CountPipeline, MissingKeyColumnListsTheColumns) {
  testing::temp_dir dir;
  const auto path = dir.write("h.csv", "TestTime,SampleID\n1,x\n");
  try {
    run({path}, "Sample", 1, 0);
    FAIL();
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::missing_key_column);
    EXPECT_NE(e.hint().find("1:TestTime, 2:SampleID"), std::string::npos) << e.hint();
  }
  EXPECT_THROW(run({path}, "3", 1, 0), error);
  EXPECT_THROW(run({path}, "SampleID", 1, 0, bad_row_policy::error, false), error);  // names need a header
}

// ---- Differential: random CSVs (random quoting, line endings, cardinality) against the reference. ----

struct random_csv {
  std::string text;
  std::size_t key_index;
  std::string key_name;
};

random_csv make_random_csv(std::mt19937_64& rng, bool with_bad_rows) {
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  const std::size_t columns = 1 + pick(4);
  const std::size_t key_index = pick(columns);
  const std::size_t cardinality = std::vector<std::size_t>{1, 2, 10, 1000, 100000}[pick(5)];
  const std::size_t rows = pick(4) == 0 ? pick(40) : pick(3000);
  const bool crlf = pick(2) == 0;

  auto value = [&](bool is_key) -> std::string {
    std::string v;
    if (is_key) {
      v = "K" + std::to_string(pick(cardinality));
      switch (pick(8)) {
        case 0: v += ",c"; break;
        case 1: v += "\"q\""; break;
        case 2: v += "\nnl"; break;
        case 3: v += "é"; break;
        case 4: v = " " + v; break;
        default: break;
      }
    } else {
      static const char* pieces[] = {"", "x", "1.5", "a,b", "say \"hi\"", "two\nlines", "cr\r\nlf", "ünï", " sp "};
      v = pieces[pick(9)];
    }
    const bool needs_quotes = v.find_first_of(",\"\r\n") != std::string::npos;
    if (needs_quotes || pick(5) == 0) {
      std::string q = "\"";
      for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
      return q + "\"";
    }
    return v;
  };

  random_csv out;
  out.key_index = key_index;
  std::string eol = crlf ? "\r\n" : "\n";
  for (std::size_t c = 0; c < columns; ++c) {
    if (c) out.text += ',';
    const std::string name = "col" + std::to_string(c);
    out.text += pick(3) == 0 ? "\"" + name + "\"" : name;
  }
  out.key_name = "col" + std::to_string(key_index);
  out.text += eol;
  for (std::size_t r = 0; r < rows; ++r) {
    if (pick(50) == 0) out.text += eol;  // blank line
    std::size_t fields = columns;
    if (with_bad_rows && pick(40) == 0) fields = pick(2) == 0 ? columns + 1 : (columns > 1 ? columns - 1 : 2);
    for (std::size_t c = 0; c < fields; ++c) {
      if (c) out.text += ',';
      out.text += value(c == key_index);
    }
    if (pick(10) == 0) eol = pick(2) == 0 ? "\r\n" : "\n";  // mixed line endings
    if (r + 1 < rows || pick(2) == 0) out.text += eol;
  }
  return out;
}

TEST(CountPipelineDifferential, RandomValidCsvsMatchTheReference) {
  std::mt19937_64 rng(20261125);
  testing::temp_dir dir;
  for (int iteration = 0; iteration < 60; ++iteration) {
    const auto csv = make_random_csv(rng, false);
    const auto path = dir.write("r.csv", csv.text);
    const auto ref = testing::reference_count(csv.text, ',', true, csv.key_index);
    ASSERT_EQ(ref.bad_rows, 0u) << "generator made a bad row in iteration " << iteration;
    const unsigned threads = thread_counts[rng() % thread_counts.size()];
    const std::size_t chunk = chunk_sizes[rng() % chunk_sizes.size()];
    const auto got = run({path}, csv.key_name, threads, chunk);
    ASSERT_EQ(got.counts, ref.counts) << "iteration " << iteration << " threads=" << threads << " chunk=" << chunk;
    ASSERT_EQ(got.result.rows, ref.rows);
  }
}

TEST(CountPipelineDifferential, RandomCsvsWithBadRowsMatchTheReference) {
  std::mt19937_64 rng(7);
  testing::temp_dir dir;
  for (int iteration = 0; iteration < 40; ++iteration) {
    const auto csv = make_random_csv(rng, true);
    const auto path = dir.write("r.csv", csv.text);
    const auto ref = testing::reference_count(csv.text, ',', true, csv.key_index);
    const unsigned threads = thread_counts[rng() % thread_counts.size()];
    const std::size_t chunk = chunk_sizes[rng() % chunk_sizes.size()];
    const auto got = run({path}, csv.key_name, threads, chunk, bad_row_policy::skip);
    ASSERT_EQ(got.counts, ref.counts) << "iteration " << iteration;
    ASSERT_EQ(got.result.bad_rows, ref.bad_rows) << "iteration " << iteration;
    if (ref.first_bad_line) {
      ASSERT_FALSE(got.result.bad_row_samples.empty());
      EXPECT_EQ(got.result.bad_row_samples.front().line, *ref.first_bad_line) << "iteration " << iteration;
      try {
        run({path}, csv.key_name, threads, chunk);
        ADD_FAILURE() << "expected an error";
      } catch (const error& e) {
        EXPECT_EQ(e.line(), *ref.first_bad_line);
      }
    }
  }
}

// A file full of quoted multi-line fields, cut at every possible place: the answer never changes.
TEST(CountPipelineDifferential, QuotedMultiLineFieldsAtEveryChunkSize) {
  std::string text = "k,v\n";
  for (int i = 0; i < 40; ++i) text += "\"key\n" + std::to_string(i % 4) + "\",\"a\n\"\"b\"\"\nc,d\"\r\n";
  const auto ref = testing::reference_count(text, ',', true, 0);
  testing::temp_dir dir;
  const auto path = dir.write("m.csv", text);
  for (std::size_t chunk = 1; chunk <= text.size() + 1; chunk += 3)
    for (unsigned threads : {1u, 3u}) ASSERT_EQ(run({path}, "k", threads, chunk).counts, ref.counts) << chunk;
}

}  // namespace
}  // namespace labcount
