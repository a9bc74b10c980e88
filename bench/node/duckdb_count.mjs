// Rows per SampleID with DuckDB (embedded, default threads = all cores).
// Usage: node duckdb_count.mjs FILE [KEY]
// stdout: one summary line "keys=<distinct keys> rows=<sum of counts> self_s=<seconds in process>";
// the whole result is materialized in memory (getRows), it is not printed, so that a 10M-key result
// does not turn the benchmark into a console-write benchmark.
import { DuckDBInstance } from '@duckdb/node-api';

const [file, key = 'SampleID'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node duckdb_count.mjs FILE [KEY]');
  process.exit(2);
}
const sql_string = (s) => `'${s.replaceAll("'", "''")}'`;
const sql_ident = (s) => `"${s.replaceAll('"', '""')}"`;

const t0 = performance.now();
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const reader = await connection.runAndReadAll(
  `SELECT ${sql_ident(key)}, count(*) FROM read_csv(${sql_string(file)}) GROUP BY 1`);
const rows = reader.getRows();
const self_s = (performance.now() - t0) / 1000;

let total = 0n;
for (const row of rows) total += BigInt(row[1]);
console.log(`keys=${rows.length} rows=${total} self_s=${self_s.toFixed(3)}`);
