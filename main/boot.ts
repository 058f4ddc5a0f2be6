import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { CaseLifecycleRepository } from '../db/caseLifecycle.js';
import { CaseRepository } from '../db/repository.js';
import { openDatabase, type Db } from '../db/database.js';
import { appVersion, builtinPackDir, workerPath } from './appPaths.js';
import { CaseFileService } from './cases/caseFileService.js';
import { ChatService } from './chat/chatService.js';
import { BatchMaskService } from './chat/batchMasks.js';
import { ChangeService } from './change/changeService.js';
import { ChangeCaptionService } from './change/changeCaptionService.js';
import { VantageError } from './contract/errors.js';
import type { Handlers } from './contract/procedures.js';
import { FileAccess, type Purpose } from './files/fileAccess.js';
import { checkDroppedImage } from './imagery/droppedFile.js';
import { ImageryService } from './imagery/imageryService.js';
import { BasemapService } from './imagery/mbtilesBasemap.js';
import { InferenceHost } from './inference/inferenceHost.js';
import { ModelService } from './packs/modelService.js';
import { PackStore } from './packs/packStore.js';
import { SettingsStore } from './packs/settingsStore.js';
import { ReportService } from './reports/reportService.js';
import { Dispatcher } from './server/dispatcher.js';
import { InstanceLock } from './sessions/instanceLock.js';
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
  /** the app itself (Electron, `vantage serve`): refuse a second running app on the same data folder */
  singleInstance?: boolean;
}

export interface Services {
  db: Db;
  repo: CaseRepository;
  files: FileAccess;
  imagery: ImageryService;
  sessions: SessionsService;
  caseFiles: CaseFileService;
  models: ModelService;
  chat: ChatService;
  batchMasks: BatchMaskService;
  reports: ReportService;
  inference: InferenceHost;
  handlers: Handlers;
  dispatcher: Dispatcher;
  close(): Promise<void>;
}

/** Boot step: opens the case database, constructs every service with its dependencies, maps the contract to them. */
export function createServices(opts: BootOptions): Services {
  mkdirSync(opts.dataDir, { recursive: true });
  const log = opts.log ?? ((m: string) => console.error(`[vantage] ${m}`));
  const lock = opts.singleInstance ? InstanceLock.acquire(opts.dataDir) : null;
  let db: Db;
  try {
    db = openDatabase(path.join(opts.dataDir, 'vantage.db'));
  } catch (err) {
    lock?.release();
    throw err;
  }
  const repo = new CaseRepository(db);
  const life = new CaseLifecycleRepository(db);
  const interrupted = repo.recoverInterrupted();
  if (interrupted > 0) log(`${interrupted} answer(s) interrupted by the last shutdown were marked failed`);

  const files = new FileAccess(opts.places ? [...opts.places, ...FileAccess.defaultPlaces()] : undefined);
  // tiles render in a worker pool (dist/main/tileWorker.mjs; in-process when not built); displays persist per image
  const imagery = new ImageryService({
    workerUrl: workerPath('tileWorker'),
    overviewCacheDir: path.join(opts.dataDir, 'cache', 'overviews'),
    log, // evictions from the overview cache (capped: VANTAGE_OVERVIEW_CACHE_MB, default 8 GiB)
    // an id the case does not know (a scratch registration) simply has no stored look
    displays: { load: (id) => (repo.hasImage(id) ? repo.getImage(id).display : null), save: (id, d) => repo.setDisplay(id, d) },
  });
  const settings = new SettingsStore(db);
  // the offline basemap chosen in an earlier run, reopened; a file now gone is reported once to the page
  const basemap = new BasemapService(settings);
  const lostBasemap = basemap.restore();
  if (lostBasemap) log(lostBasemap);
  const inference = new InferenceHost({ workerUrl: workerPath('inferenceWorker') });
  const packStore = new PackStore(opts.dataDir);
  // half-copied packs of installs that were killed (their process is gone): removed in the background
  packStore.removeStaleStaging().then(
    (n) => n > 0 && log(`${n} unfinished model pack install(s) from an earlier run were removed`),
    () => {},
  );
  const models = new ModelService(inference, {
    builtinDir: builtinPackDir(),
    store: packStore,
    settings,
    ...(opts.packDir !== undefined ? { forcedDir: opts.packDir } : {}),
  });
  const sessions = new SessionsService(repo, imagery, life);
  const purged = sessions.purge();
  if (purged > 0) log(`${purged} case(s) deleted more than 30 days ago were purged`);
  const caseFiles = new CaseFileService(db, opts.dataDir, appVersion());
  const chat = new ChatService(repo, sessions, imagery, models, inference);
  const change = new ChangeService(repo, sessions, workerPath('changeWorker'));
  const changeCaption = new ChangeCaptionService(repo, sessions, imagery, models, inference, chat);
  const reports = new ReportService(repo, imagery, appVersion());
  const batchMasks = new BatchMaskService(repo, sessions, chat);

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
    'files.fromDrop': async (i) => {
      if (opts.mode !== 'electron') throw new VantageError('UNSUPPORTED', 'in the browser a dropped file is uploaded, not named by path');
      return { ref: files.refFor(await checkDroppedImage(i.path), 'file') };
    },
    'files.pick': async (i) => {
      if (!opts.dialogs) throw new VantageError('UNSUPPORTED', 'native dialogs exist only in the desktop app; use files.browse');
      const picked = await opts.dialogs.pick(i.purpose);
      return { ref: picked === null ? null : files.refFor(picked, i.purpose === 'folder' || i.purpose === 'pack' ? 'dir' : 'file') };
    },
    'imagery.open': (i) => sessions.openImage(i.sessionId, files.resolve(i.file, 'file')),
    'imagery.info': async (i) => {
      await ensureRegistered(i.imageId);
      return { ...sessions.info(i.imageId), display: await imagery.display(i.imageId), layer: await imagery.layer(i.imageId), overviewBuild: await imagery.overviewBuild(i.imageId) };
    },
    'imagery.setDisplay': async (i) => {
      await ensureRegistered(i.imageId);
      return { display: await imagery.setDisplay(i.imageId, i.display) };
    },
    'imagery.setLayer': async (i) => {
      await ensureRegistered(i.imageId);
      return { layer: await imagery.setLayer(i.imageId, i.layer) };
    },
    'imagery.setOrder': async (i) => {
      repo.setImageOrder(i.sessionId, i.imageIds);
      return { ok: true as const };
    },
    'imagery.pixel': async (i) => {
      await ensureRegistered(i.imageId);
      return imagery.pixel(i.imageId, i.x, i.y);
    },
    'sessions.list': async (i) => sessions.list(i.query),
    'sessions.rename': async (i) => sessions.rename(i.sessionId, i.name),
    'sessions.duplicate': async (i) => sessions.duplicate(i.sessionId, i.name),
    'sessions.delete': async (i) => ({ ok: true as const, ...sessions.delete(i.sessionId) }),
    'sessions.restore': async (i) => sessions.restore(i.sessionId),
    'sessions.deleted': async () => sessions.listDeleted(),
    'sessions.purge': async (i) => ({ purged: sessions.purge(i.sessionId) }),
    'sessions.export': async (i) => {
      const r = await caseFiles.export({ sessionId: i.sessionId, folder: files.resolve(i.folder, 'dir'), embedImages: i.embedImages });
      return { fileName: r.fileName, bytes: r.bytes, embeddedImages: r.embeddedImages };
    },
    'sessions.import': (i) => caseFiles.import(files.resolve(i.file, 'file')),
    'imagery.relink': (i) => sessions.relink(i.imageId, files.resolve(i.file, 'file')),
    'sessions.create': async (i) => sessions.create(i.name),
    'sessions.open': (i) => sessions.open(i.sessionId),
    'sessions.saveView': async (i) => {
      sessions.saveView(i.sessionId, i.view);
      return { ok: true as const };
    },
    'models.status': async () => models.status(),
    'models.list': () => models.list(),
    'models.install': (i) => models.install(files.resolve(i.file), { allowUnsigned: i.allowUnsigned === true }),
    'models.select': (i) => models.select(i.name, i.version),
    'models.remove': async (i) => {
      await models.remove(i.name, i.version);
      return { ok: true as const };
    },
    'chat.instantMask': (i) => chat.instantMask(i),
    'chat.batchMasks': async (i, emit, signal) => {
      const filePath = i.file !== undefined ? files.resolve(i.file, 'file') : undefined;
      await batchMasks.run({ sessionId: i.sessionId, imageId: i.imageId, save: i.save, ...(filePath !== undefined ? { filePath } : {}), ...(i.prompts ? { prompts: i.prompts } : {}) }, emit, signal);
    },
    'chat.ask': (i, emit, signal) => chat.ask(i, emit, signal),
    'change.analyze': (i) => change.analyze(i),
    'change.caption': (i, emit, signal) => changeCaption.caption(i, emit, signal),
    'reports.objects': async (i) => reports.objects(i.sessionId),
    'reports.export': (i) => reports.export({ ...i, folderPath: i.folder ? files.resolve(i.folder, 'dir') : undefined }),
    'reports.list': async (i) => reports.list(i.sessionId),
    'reports.rewrite': async (i) => reports.rewrite(i.reportId, i.folder ? files.resolve(i.folder, 'dir') : undefined),
    'imagery.setBasemap': async (i) => ({ basemap: basemap.set(i.file === null ? null : files.resolve(i.file, 'file')) }),
    'imagery.basemap': async () => ({ basemap: basemap.info(), notice: basemap.takeNotice() }),
    'imagery.basemapTile': (i) => basemap.tile(i.z, i.x, i.y),
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
    caseFiles,
    models,
    chat,
    batchMasks,
    reports,
    inference,
    handlers,
    dispatcher: new Dispatcher(handlers, log),
    async close() {
      await inference.close();
      await imagery.close();
      basemap.close();
      db.close();
      lock?.release();
    },
  };
}
