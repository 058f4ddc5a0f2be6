// `npm test`: every suite in order, each with its own time budget (the whole run stays under 15 minutes on 2 cores).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const suites = [
  { name: 'build', cmd: [process.execPath, path.join(root, 'main/build/build.mjs')], budgetS: 180 },
  { name: 'typecheck', cmd: [bin('tsc'), '-p', 'tsconfig.json'], budgetS: 180 },
  { name: 'typecheck (renderer)', cmd: [bin('tsc'), '-p', 'renderer/tsconfig.json'], budgetS: 120 },
  { name: 'lint', cmd: [bin('eslint'), '.'], budgetS: 180 },
  { name: 'unit', cmd: [bin('vitest'), 'run', '--project', 'unit'], budgetS: 180 },
  { name: 'integration', cmd: [bin('vitest'), 'run', '--project', 'integration'], budgetS: 600 },
  { name: 'e2e', cmd: [bin('playwright'), 'test'], budgetS: 360 },
];
const only = process.argv.slice(2);
const unknown = only.filter((n) => !suites.some((s) => s.name === n));
if (unknown.length) {
  // a typo must not pass as "0 suites failed"
  console.error(`npm test: no suite named ${unknown.map((n) => JSON.stringify(n)).join(', ')}; the suites are ${suites.map((s) => JSON.stringify(s.name)).join(', ')}`);
  process.exit(2);
}
const results = [];
for (const s of suites) {
  if (only.length && !only.includes(s.name)) continue;
  console.log(`\n=== ${s.name} (budget ${s.budgetS} s) ===`);
  const t0 = Date.now();
  const r = spawnSync(s.cmd[0], s.cmd.slice(1), { cwd: root, stdio: 'inherit', timeout: s.budgetS * 1000, killSignal: 'SIGKILL' });
  const seconds = (Date.now() - t0) / 1000;
  const ok = r.status === 0;
  const why = r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGKILL' ? `over its ${s.budgetS} s budget` : ok ? '' : `exit ${r.status ?? r.signal}`;
  results.push({ name: s.name, ok, seconds, why });
}
console.log('\n=== summary ===');
for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(22)} ${r.seconds.toFixed(1).padStart(6)} s ${r.why}`);
const failed = results.filter((r) => !r.ok).length;
console.log(`suites: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
