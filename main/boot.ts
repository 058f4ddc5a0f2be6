import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { CaseRepository } from '../db/repository.js';
import { openDatabase, type Db } from '../db/database.js';
import { appVersion, builtinPackDir, workerPath } from './appPaths.js';
import { ChatService } from './chat/chatService.js';
import { VantageError } from './contract/errors.js';
import type { Handlers } from './contract/procedures.js';
import { FileAccess, type Purpose } from './files/fileAccess.js';
import { ImageryService } from './imagery/imageryService.js';
import { InferenceHost } from './inference/inferenceHost.js';
import { ModelService } from './packs/modelService.js';
import { Dispatcher } from './server/dispatcher.js';
import { SessionsService } from './sessions/sessionsService.js';

export interface BootOptions {
  dataDir: string;
  mode: 'electron' | 'browser';
  /** model pack folder; the bundled test pack when absent */
  packDir?: string;
  /** Electron's native dialogs; absent in browser mode, where the backend file browser is used */
  dialogs?: { pick(purpose: Purpose): Promise<string | null> };
  /** extra places offered by the file browser */
  places?: { name: string; path: string }[];
  log?: (msg: string) => void;
}

export interface Services {
  db: Db;
  repo: CaseRepository;
  files: FileAccess;
  imagery: ImageryService;
  sessions: SessionsService;
  models: ModelService;
  chat: ChatService;
  inference: InferenceHost;
  handlers: Handlers;
  dispatcher: Dispatcher;
  close(): Promise<void>;
}

/** Boot step: opens the case database, constructs every service with its dependencies, maps the contract to them. */
export function createServices(opts: BootOptions): Services {
  mkdirSync(opts.dataDir, { recursive: true });
  const log = opts.log ?? ((m: string) => console.error(`[vantage] ${m}`));
  const db = openDatabase(path.join(opts.dataDir, 'vantage.db'));
  const repo = new CaseRepository(db);
  const interrupted = repo.recoverInterrupted();
  if (interrupted > 0) log(`${interrupted} answer(s) interrupted by the last shutdown were marked failed`);

  const files = new FileAccess(opts.places ? [...opts.places, ...FileAccess.defaultPlaces()] : undefined);
  const imagery = new ImageryService({});
  const inference = new InferenceHost({ workerUrl: workerPath('inferenceWorker') });
  const packDir = opts.packDir ?? builtinPackDir();
  const models = new ModelService(inference, packDir, opts.packDir === undefined);
  const sessions = new SessionsService(repo, imagery);
  const chat = new ChatService(repo, sessions, imagery, models, inference);

  const registered = new Set<string>();
  const ensureRegistered = async (imageId: string) => {
    if (registered.has(imageId)) return;
    const row = repo.getImage(imageId);
    await imagery.register(row.id, row.path);
    registered.add(imageId);
  };

  const handlers: Handlers = {
    'app.status': async () => ({ version: appVersion(), mode: opts.mode, nativeDialogs: opts.dialogs !== undefined }),
    'files.browse': (i) => files.browse(i),
    'files.pick': async (i) => {
      if (!opts.dialogs) throw new VantageError('UNSUPPORTED', 'native dialogs exist only in the desktop app; use files.browse');
      const picked = await opts.dialogs.pick(i.purpose);
      return { ref: picked === null ? null : files.refFor(picked, i.purpose === 'image' ? 'file' : 'dir') };
    },
    'imagery.open': (i) => sessions.openImage(i.sessionId, files.resolve(i.file, 'file')),
    'imagery.info': async (i) => sessions.info(i.imageId),
    'sessions.list': async () => sessions.list(),
    'sessions.create': async (i) => sessions.create(i.name),
    'sessions.open': (i) => sessions.open(i.sessionId),
    'sessions.saveView': async (i) => {
      sessions.saveView(i.sessionId, i.view);
      return { ok: true as const };
    },
    'models.status': async () => models.status(),
    'models.list': async () => models.list(),
    'chat.ask': (i, emit, signal) => chat.ask(i, emit, signal),
    'imagery.tile': async (i) => {
      await ensureRegistered(i.imageId);
      return imagery.tile(i.imageId, i.z, i.x, i.y);
    },
  };

  return {
    db,
    repo,
    files,
    imagery,
    sessions,
    models,
    chat,
    inference,
    handlers,
    dispatcher: new Dispatcher(handlers, log),
    async close() {
      await inference.close();
      await imagery.close();
      db.close();
    },
  };
}
