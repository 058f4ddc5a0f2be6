import path from 'node:path';
import { parseArgs } from 'node:util';
import { createServices, type Services } from '../boot.js';
import type { PackEntry } from '../contract/calls/models.js';
import { VantageError } from '../contract/errors.js';
import type { ModelStatus } from '../contract/index.js';
import type { CommandContext } from './sessionsCommand.js';

export const PACKS_USAGE = `  packs list [--json]                 model packs: name, version, size, stages; * marks the one in use
  packs install FOLDER|FILE.zip       side-load a pack (offline); every sha256 is checked before it is installed
  packs select NAME [VERSION] | remove NAME [VERSION]
                                      choose the pack the app loads (from its next start) / delete an installed pack
  packs verify NAME [VERSION]         re-hash every file of a pack against its manifest; names the first mismatch`;

type PackKey = { name: string; version: string };

function need(v: string | undefined, what: string): string {
  if (!v) throw new VantageError('BAD_INPUT', `missing ${what}: see vantage --help`);
  return v;
}

/** `vantage packs …`: the pack manager from a terminal, on the same services (data folder, selection) as the app. */
export async function runPacks(args: string[], ctx: CommandContext): Promise<void> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const [sub, a, b] = positionals;
  const services = createServices({ dataDir: ctx.dataDir, mode: 'browser' });
  try {
    const { result, key } = await dispatch(services, sub, a, b);
    if (ctx.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else process.stdout.write(human(sub!, result, key) + '\n');
  } finally {
    await services.close();
  }
}

/** NAME [VERSION] → the one pack meant; a name alone is enough while one version of it is installed. */
async function resolve(s: Services, sub: string, name: string | undefined, version: string | undefined): Promise<PackKey> {
  const n = need(name, 'pack NAME');
  const packs = await s.models.list();
  const named = packs.filter((p) => p.name === n && (version === undefined || p.version === version));
  if (named.length === 0) {
    const have = packs.map((p) => `${p.name} ${p.version}`).join(', ') || 'none';
    throw new VantageError('NOT_FOUND', `model pack ${n}${version ? ` ${version}` : ''} is not installed (installed: ${have})`);
  }
  const versions = [...new Set(named.map((p) => p.version))];
  if (versions.length > 1) {
    throw new VantageError('BAD_INPUT', `${versions.length} versions of model pack ${n} are installed (${versions.join(', ')}): name one, e.g. vantage packs ${sub} ${n} ${versions[0]}`);
  }
  return { name: n, version: versions[0]! };
}

/** result: what --json prints (the contract's objects: PackEntry[], PackEntry, ModelStatus, { ok }) */
async function dispatch(s: Services, sub: string | undefined, a: string | undefined, b: string | undefined): Promise<{ result: unknown; key?: PackKey }> {
  switch (sub) {
    case 'list':
      return { result: await s.models.list() };
    case 'install':
      return { result: await s.models.install(path.resolve(need(a, 'pack FOLDER or FILE.zip'))) };
    case 'select': {
      const key = await resolve(s, sub, a, b);
      return { result: await s.models.select(key.name, key.version), key };
    }
    case 'remove': {
      const key = await resolve(s, sub, a, b);
      await s.models.remove(key.name, key.version);
      return { result: { ok: true as const }, key };
    }
    case 'verify': {
      const key = await resolve(s, sub, a, b);
      return { result: await s.models.verify(key.name, key.version), key };
    }
    default:
      throw new VantageError('BAD_INPUT', `unknown packs command "${sub ?? ''}": list, install, select, remove or verify`);
  }
}

const size = (bytes: number) => (bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GB` : `${(bytes / 1024 ** 2).toFixed(1)} MB`);

function table(rows: PackEntry[]): string {
  if (rows.length === 0) return '(no model packs)';
  const cells = rows.map((p) => [p.selected ? '*' : ' ', p.name, p.version, size(p.sizeBytes), p.stages.join(','), p.builtin ? 'built-in' : '']);
  const head = [' ', 'NAME', 'VERSION', 'SIZE', 'STAGES', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [head, ...cells].map((c) => c.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function human(sub: string, r: unknown, key: PackKey | undefined): string {
  if (sub === 'list') return table(r as PackEntry[]);
  if (sub === 'install') {
    const p = r as PackEntry;
    return `installed ${p.name} ${p.version} (${size(p.sizeBytes)}; ${p.stages.join(', ')}); every sha256 matched\n` + `use it with: vantage packs select ${p.name} ${p.version}`;
  }
  if (sub === 'select') {
    const s = r as ModelStatus;
    const providers = [...new Set(Object.values(s.stageProviders))].join(', ');
    return `selected ${s.pack?.name ?? '?'} ${s.pack?.version ?? '?'} (loads on ${providers || 'cpu'}); the app uses it from its next start`;
  }
  if (sub === 'remove') return `removed ${key?.name} ${key?.version}`;
  if (sub === 'verify') {
    const p = r as PackEntry & { verifiedFiles: number };
    return `${p.name} ${p.version}: all ${p.verifiedFiles} files match their sha256 in manifest.json (${size(p.sizeBytes)})`;
  }
  return JSON.stringify(r);
}
