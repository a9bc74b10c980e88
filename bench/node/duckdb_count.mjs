// Rows per SampleID with DuckDB (embedded, default threads = all cores), doing the work labcount does and no
// more: read the file, group, order by key, write the table to a file (COPY ... TO, DuckDB's own CSV writer).
// Usage: node duckdb_count.mjs FILE DEST [KEY]
// stdout: "self_s=<seconds in process>"; the harness reads the keys and rows from DEST, as it does labcount's.
// (An earlier version materialised every result row as a JavaScript value with getRows(), which cost DuckDB
// seconds on 10 M keys that a DuckDB user writing a table would not pay.)
import { DuckDBInstance } from '@duckdb/node-api';

const [file, dest, key = 'SampleID'] = process.argv.slice(2);
if (!file || !dest) {
  console.error('usage: node duckdb_count.mjs FILE DEST [KEY]');
  process.exit(2);
}
const sql_string = (s) => `'${s.replaceAll("'", "''")}'`;
const sql_ident = (s) => `"${s.replaceAll('"', '""')}"`;

const t0 = performance.now();
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
await connection.run(
  `COPY (SELECT ${sql_ident(key)}, count(*) AS count FROM read_csv(${sql_string(file)}) GROUP BY 1 ORDER BY 1) ` +
  `TO ${sql_string(dest)} (HEADER, DELIMITER ',')`);
console.log(`self_s=${((performance.now() - t0) / 1000).toFixed(3)}`);
