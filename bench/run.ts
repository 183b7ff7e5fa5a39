/**
 * Runs hop's benchmarks and prints the results as Markdown. Usage:
 *   npm run bench               every benchmark
 *   npm run bench -- reminders  only the named ones
 * docs/benchmarks.md records the results with the machine they ran on.
 */
import { log } from '../lib/log.ts';
import { attendanceBench } from './attendance.ts';
import { documentsBench } from './documents.ts';
import { remindersBench } from './reminders.ts';
import { weakLinksBench } from './weak-links.ts';
import { schedulingBench } from './scheduling.ts';
import { machineDescription, type BenchResult } from './support.ts';

const benchmarks: Record<string, () => Promise<BenchResult>> = {
  reminders: remindersBench,
  documents: documentsBench,
  scheduling: schedulingBench,
  attendance: attendanceBench,
  'weak-links': weakLinksBench,
};

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in benchmarks));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')}; known: ${Object.keys(benchmarks).join(', ')}`);
  process.exit(2);
}
const names = requested.length > 0 ? requested : Object.keys(benchmarks);

console.log(`Machine: ${await machineDescription()}\n`);
let failed = false;
for (const name of names) {
  const started = Date.now();
  try {
    const result = await benchmarks[name]!();
    console.log(`### ${result.name}\n`);
    console.log('| metric | value | target | met |\n| --- | --- | --- | --- |');
    for (const row of result.rows) console.log(`| ${row.metric} | ${row.value} | ${row.target ?? ''} | ${row.met === undefined ? '' : row.met ? 'yes' : 'no'} |`);
    for (const note of result.notes ?? []) console.log(`\n${note}`);
    console.log(`\n(${name}: ${((Date.now() - started) / 1000).toFixed(0)} s in all)\n`);
  } catch (error) {
    failed = true;
    log.error({ err: error, benchmark: name }, 'benchmark failed');
  }
}
process.exit(failed ? 1 : 0);
