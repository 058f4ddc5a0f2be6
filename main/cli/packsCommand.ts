import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { createServices, type Services } from '../boot.js';
import type { PackEntry } from '../contract/calls/models.js';
import { VantageError } from '../contract/errors.js';
import type { ModelStatus } from '../contract/index.js';
import { loadPack } from '../inference/packManifest.js';
import { CONFIRM_FLAG, generateSigningKey, signatureLabel, signPackDir, TrustedKeys } from '../packs/packSignature.js';
import type { CommandContext } from './sessionsCommand.js';

export const PACKS_USAGE = `  packs list [--json]                 model packs: name, version, size, stages; * marks the one in use
  packs install FOLDER|FILE.zip [--allow-unsigned]
                                      side-load a pack (offline); every sha256 and its signature are checked before
                                      it is installed; an unsigned pack or one signed by a key you have not trusted
                                      needs --allow-unsigned (or a yes at the prompt in a terminal)
  packs select NAME [VERSION] | remove NAME [VERSION]
                                      choose the pack the app loads (from its next start) / delete an installed pack
  packs verify NAME [VERSION]         re-hash every file of a pack against its manifest; names the first mismatch
  packs trust KEYFILE [--name NAME] | untrust NAME|FINGERPRINT | keys
                                      trust (or stop trusting) a publisher's Ed25519 public key; list trusted keys
  packs keygen OUT                    make a signing key pair: OUT (private, keep it secret) and OUT.pub (share it)
  packs sign FOLDER --key OUT         check a pack folder and sign its manifest.json (writes manifest.sig)`;

type PackKey = { name: string; version: string };

function need(v: string | undefined, what: string): string {
  if (!v) throw new VantageError('BAD_INPUT', `missing ${what}: see vantage --help`);
  return v;
}

/** `vantage packs …`: the pack manager from a terminal, on the same services (data folder, selection) as the app. */
export async function runPacks(args: string[], ctx: CommandContext): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'allow-unsigned': { type: 'boolean' }, key: { type: 'string' }, name: { type: 'string' } },
  });
  const [sub, a, b] = positionals;
  const print = (result: unknown, text: string) => void process.stdout.write((ctx.json ? JSON.stringify(result, null, 2) : text) + '\n');
  const keys = await keyCommand(sub, a, values, ctx.dataDir);
  if (keys) {
    print(keys.result, keys.text);
    return;
  }
  const services = createServices({ dataDir: ctx.dataDir, mode: 'browser' });
  try {
    const { result, key } =
      sub === 'install' ? { result: await install(services, need(a, 'pack FOLDER or FILE.zip'), values['allow-unsigned'] === true, ctx.json), key: undefined } : await dispatch(services, sub, a, b);
    print(result, human(sub!, result, key));
  } finally {
    await services.close();
  }
}

/** keygen, sign, trust, untrust, keys: files and the trusted-keys folder only (no database, no pack loads) */
async function keyCommand(sub: string | undefined, a: string | undefined, values: { key?: string; name?: string }, dataDir: string): Promise<{ result: unknown; text: string } | null> {
  const trust = new TrustedKeys(dataDir);
  switch (sub) {
    case 'keygen': {
      const r = await generateSigningKey(path.resolve(need(a, 'OUT (the private key file to write)')));
      return { result: r, text: `wrote ${r.privateFile} (private: keep it secret) and ${r.publicFile} (public: give it to the people who install your packs)\nkey fingerprint ${r.fingerprint}` };
    }
    case 'sign': {
      const dir = path.resolve(need(a, 'pack FOLDER'));
      const pack = await loadPack(dir); // a signer vouches for what the manifest says: every sha256 must match first
      const r = await signPackDir(dir, path.resolve(need(values.key, '--key PRIVATE_KEY')));
      return { result: { name: pack.name, version: pack.version, ...r }, text: `signed ${pack.name} ${pack.version} with key ${r.fingerprint}: wrote ${r.file}` };
    }
    case 'trust': {
      const k = await trust.add(path.resolve(need(a, 'KEYFILE (an Ed25519 public key)')), values.name);
      return { result: k, text: `trusted key ${k.fingerprint} as "${k.name}": packs it signs install without a prompt` };
    }
    case 'untrust': {
      const k = await trust.remove(need(a, 'key NAME or FINGERPRINT'));
      return { result: k, text: `no longer trusted: ${k.name} (${k.fingerprint})` };
    }
    case 'keys': {
      const list = await trust.list();
      return { result: list, text: list.length ? list.map((k) => `${k.fingerprint}  ${k.name}  (trusted ${k.trustedAt.slice(0, 10)})`).join('\n') : '(no trusted keys)' };
    }
    default:
      return null;
  }
}

/**
 * install; an unsigned or untrusted pack is refused unless --allow-unsigned, or — in a terminal — the user says yes
 * when asked (the refusal's message is the question's reason).
 */
async function install(s: Services, source: string, allowUnsigned: boolean, json: boolean): Promise<PackEntry> {
  const file = path.resolve(source);
  try {
    return await s.models.install(file, { allowUnsigned });
  } catch (err) {
    const needsYes = err instanceof VantageError && err.issues?.some((i) => i.path === CONFIRM_FLAG);
    if (!needsYes || json || !process.stdin.isTTY || !process.stderr.isTTY) throw err;
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question(`${err.message.replace(/: pass --allow-unsigned.*$/, '')}.\nInstall it anyway? [y/N] `).finally(() => rl.close());
    if (!/^y(es)?$/i.test(answer.trim())) throw new VantageError('CANCELLED', `not installed: ${path.basename(file)}`);
    return s.models.install(file, { allowUnsigned: true });
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
      throw new VantageError('BAD_INPUT', `unknown packs command "${sub ?? ''}": list, install, select, remove, verify, trust, untrust, keys, keygen or sign`);
  }
}

const size = (bytes: number) => (bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GB` : `${(bytes / 1024 ** 2).toFixed(1)} MB`);

function table(rows: PackEntry[]): string {
  if (rows.length === 0) return '(no model packs)';
  const cells = rows.map((p) => [p.selected ? '*' : ' ', p.name, p.version, size(p.sizeBytes), p.stages.join(','), signatureLabel(p.signature), p.builtin ? 'built-in' : '']);
  const head = [' ', 'NAME', 'VERSION', 'SIZE', 'STAGES', 'SIGNATURE', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [head, ...cells].map((c) => c.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function human(sub: string, r: unknown, key: PackKey | undefined): string {
  if (sub === 'list') return table(r as PackEntry[]);
  if (sub === 'install') {
    const p = r as PackEntry;
    return `installed ${p.name} ${p.version} (${size(p.sizeBytes)}; ${p.stages.join(', ')}); every sha256 matched; signature: ${signatureLabel(p.signature)}\n` + `use it with: vantage packs select ${p.name} ${p.version}`;
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
