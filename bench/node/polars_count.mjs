// Rows per SampleID with Polars (nodejs-polars), doing the work labcount does: read, group, order by key,
// write the table to a file (eager readCSV, groupBy().len(), sort, writeCSV).
// Usage: node polars_count.mjs FILE DEST [KEY]
// stdout: "self_s=<seconds in process>"; the harness reads the keys and rows from DEST.
import pl from 'nodejs-polars';

const [file, dest, key = 'SampleID'] = process.argv.slice(2);
if (!file || !dest) {
  console.error('usage: node polars_count.mjs FILE DEST [KEY]');
  process.exit(2);
}

const t0 = performance.now();
pl.readCSV(file).groupBy(key).len().sort(key).writeCSV(dest);
console.log(`self_s=${((performance.now() - t0) / 1000).toFixed(3)}`);
