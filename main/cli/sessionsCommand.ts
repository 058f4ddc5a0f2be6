import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createServices, type Services } from '../boot.js';
import type { ImportResult } from '../cases/caseFileService.js';
import { VantageError } from '../contract/errors.js';

export const SESSIONS_USAGE = `  sessions list [--query TEXT] [--deleted] [--json]
                                      cases, newest first; --query matches name, image file, turn text or a date (2026-11)
  sessions show ID [--json]           one case: images (missing or not), turns, masks, regions, map view
  sessions export ID --out DIR [--embed] [--json]
                                      write the case as one DIR/<name>.vantage file (images embedded with --embed)
  sessions import FILE.vantage [--json]
                                      read a case file into a new case (the file is never modified)
  sessions rename ID NAME | duplicate ID [NAME] | delete ID | restore ID | purge [ID]`;

export interface CommandContext {
  dataDir: string;
  json: boolean;
}

function need(v: string | undefined, what: string): string {
  if (!v) throw new VantageError('BAD_INPUT', `missing ${what}: see vantage --help`);
  return v;
}

/** `vantage sessions …`: the case lifecycle from a terminal, on the same services (and database) as the app. */
export async function runSessions(args: string[], ctx: CommandContext): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { query: { type: 'string' }, deleted: { type: 'boolean' }, out: { type: 'string' }, embed: { type: 'boolean' } },
  });
  const [sub, a, b] = positionals;
  const services = createServices({ dataDir: ctx.dataDir, mode: 'browser' });
  try {
    const result = await dispatch(services, sub, a, b, values);
    if (ctx.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else process.stdout.write(human(sub!, result) + '\n');
  } finally {
    await services.close();
  }
}

async function dispatch(
  s: Services,
  sub: string | undefined,
  a: string | undefined,
  b: string | undefined,
  v: { query?: string; deleted?: boolean; out?: string; embed?: boolean },
): Promise<unknown> {
  switch (sub) {
    case 'list':
      return v.deleted ? s.sessions.listDeleted() : s.sessions.list(v.query);
    case 'show': {
      const d = await s.sessions.open(need(a, 'case ID'));
      return {
        ...d.session,
        view: d.view,
        images: d.images.map((i) => ({ id: i.id, name: i.name, path: s.repo.getImage(i.id).path, sha256: i.sha256, missing: i.missing })),
        turns: d.turns.map((t) => ({ id: t.id, role: t.role, status: t.status, text: t.text, provider: t.provider, pack: t.pack?.name ?? null })),
        regions: d.regions.length,
        masks: d.masks.map((m) => ({ id: m.id, turnId: m.turnId, phrase: m.phrase, score: m.score, areaPx: m.areaPx })),
      };
    }
    case 'export': {
      const out = path.resolve(need(v.out, '--out DIR'));
      if (!existsSync(out) || !statSync(out).isDirectory()) throw new VantageError('NOT_FOUND', `--out must be an existing folder: ${out}`);
      return s.caseFiles.export({ sessionId: need(a, 'case ID'), folder: out, embedImages: v.embed === true });
    }
    case 'import':
      return s.caseFiles.import(path.resolve(need(a, 'FILE.vantage')));
    case 'rename':
      return s.sessions.rename(need(a, 'case ID'), need(b, 'NAME'));
    case 'duplicate':
      return s.sessions.duplicate(need(a, 'case ID'), b);
    case 'delete':
      return { id: a, ...s.sessions.delete(need(a, 'case ID')) };
    case 'restore':
      return s.sessions.restore(need(a, 'case ID'));
    case 'purge':
      return { purged: s.sessions.purge(a) };
    default:
      throw new VantageError('BAD_INPUT', `unknown sessions command "${sub ?? ''}": list, show, export, import, rename, duplicate, delete, restore or purge`);
  }
}

function human(sub: string, r: unknown): string {
  if (sub === 'list') {
    const rows = r as { id: string; name: string; updatedAt: string; imageCount: number; turnCount: number; deletedAt?: string }[];
    if (rows.length === 0) return '(no cases)';
    return rows
      .map((c) => `${c.id}  ${(c.deletedAt ? `deleted ${c.deletedAt.slice(0, 16)}` : c.updatedAt.slice(0, 16)).padEnd(24)} ${String(c.imageCount).padStart(3)} img ${String(c.turnCount).padStart(4)} turns  ${c.name}`)
      .join('\n');
  }
  if (sub === 'show') {
    const d = r as { id: string; name: string; images: { name: string; path: string; missing: boolean }[]; turns: { role: string; status: string; text: string }[]; masks: unknown[] };
    return [
      `${d.name}  (${d.id})`,
      ...d.images.map((i) => `image  ${i.name}${i.missing ? '  MISSING — relink it' : ''}  ${i.path}`),
      ...d.turns.map((t) => `${t.role.padEnd(9)} ${t.status === 'complete' ? '' : `[${t.status}] `}${t.text.replace(/\s+/g, ' ').slice(0, 100)}`),
      `${d.masks.length} mask(s)`,
    ].join('\n');
  }
  if (sub === 'export') {
    const e = r as { path: string; bytes: number; embeddedImages: number };
    return `wrote ${e.path} (${e.bytes} bytes${e.embeddedImages ? `, ${e.embeddedImages} image(s) embedded` : ', images by reference'})`;
  }
  if (sub === 'import') {
    const i = r as ImportResult;
    const ids = i.keptIds
      ? ''
      : i.ids.alreadyHere > 0
        ? ` (new ids: ${i.ids.alreadyHere} of its ids were already here)`
        : ` (${i.ids.malformed} malformed id(s) replaced)`;
    return [`imported "${i.session.name}" as case ${i.session.id}${ids}${i.extractedImages ? `, ${i.extractedImages} image(s) extracted` : ''}`, ...i.warnings.map((w) => `warning: ${w}`)].join('\n');
  }
  return JSON.stringify(r);
}
