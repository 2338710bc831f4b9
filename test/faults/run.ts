// `npm run faults [-- scenario …]`: runs the compiled bridge through faults and prints what it measured. Figures
// are printed, never asserted (test/bridge/faults.integration.test.ts asserts the zeros); one that was not
// measured says so and why, never 0. Scenarios: kill9 postgres disk mattermost fuzz (all when none is named).
import {availableParallelism, loadavg} from 'node:os';
import {fuzz} from './fuzz';
import {mattermostDown} from './mattermost';
import {fullDisk, killDuringIngest, postgresRestart, type Figure, type Figures} from './scenarios';

const KILLS = Number(process.env.FAULTS_KILLS ?? 10);
const FUZZ_LINES = Number(process.env.FAULTS_FUZZ_LINES ?? 1_000_000);

const SCENARIOS: Record<string, () => Promise<Figures>> = {
  kill9: () => killDuringIngest(KILLS),
  postgres: () => postgresRestart(),
  disk: () => fullDisk(),
  mattermost: () => mattermostDown(),
  fuzz: () => fuzz(FUZZ_LINES),
};

function show(f: Figure): string {
  if (typeof f === 'object') return `not measured: ${f.none}`;
  return typeof f === 'number' ? f.toLocaleString('en-US') : f;
}

async function main(): Promise<void> {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((a) => !(a in SCENARIOS));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(' ')}`);
  const names = asked.length > 0 ? asked : Object.keys(SCENARIOS);
  process.stdout.write(`machine: ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(2)}\n`);
  let failed = 0;
  for (const name of names) {
    const t0 = Date.now();
    process.stdout.write(`\n== ${name} ==\n`);
    try {
      const figures = await SCENARIOS[name]();
      process.stdout.write(`${figures.scenario}\n`);
      for (const [k, v] of figures.rows) process.stdout.write(`  ${k.padEnd(48)} ${show(v)}\n`);
    } catch (err) {
      failed += 1;
      process.stdout.write(`  not measured: the scenario failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    process.stdout.write(`  (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

void main();
