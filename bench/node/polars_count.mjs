// Rows per SampleID with Polars (nodejs-polars; eager readCSV, then groupBy().len()).
// Usage: node polars_count.mjs FILE [KEY]
// stdout: one summary line "keys=<distinct keys> rows=<sum of counts> self_s=<seconds in process>";
// the result frame is built in memory, not printed (see duckdb_count.mjs).
import pl from 'nodejs-polars';

const [file, key = 'SampleID'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node polars_count.mjs FILE [KEY]');
  process.exit(2);
}

const t0 = performance.now();
const counts = pl.readCSV(file).groupBy(key).len();
const self_s = (performance.now() - t0) / 1000;

const count_column = counts.columns.find((c) => c !== key);
const total = counts.getColumn(count_column).sum();
console.log(`keys=${counts.height} rows=${total} self_s=${self_s.toFixed(3)}`);
