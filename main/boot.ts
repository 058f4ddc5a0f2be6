import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { CaseLifecycleRepository } from '../db/caseLifecycle.js';
import { CaseRepository } from '../db/repository.js';
import { openDatabase, type Db } from '../db/database.js';
import { appVersion, builtinPackDir, workerPath } from './appPaths.js';
import { CaseFileService } from './cases/caseFileService.js';
import { SettingsRepository } from '../db/settings.js';
import { ChatService } from './chat/chatService.js';
import { chatHandlers } from './chat/handlers.js';
import { ChangeService } from './change/changeService.js';
import { ChangeCaptionService } from './change/changeCaptionService.js';
import { changeHandlers } from './change/handlers.js';
import type { Handlers } from './contract/procedures.js';
import { FileAccess, type Purpose } from './files/fileAccess.js';
import { fileHandlers } from './files/handlers.js';
import { basemapHandlers } from './imagery/handlers.js';
import { ImageryService } from './imagery/imageryService.js';
import { BasemapService } from './imagery/mbtilesBasemap.js';
import { InferenceHost } from './inference/inferenceHost.js';
import { BatchMaskService } from './masks/batchMasks.js';
import { maskHandlers, objectHandlers } from './masks/handlers.js';
import { ObjectEditService } from './masks/objectEdits.js';
import { InstantMaskService } from './masks/instantMasks.js';
import { remeasureCase, remeasureOutdated } from './masks/measure.js';
import { modelHandlers } from './packs/handlers.js';
import { ModelService } from './packs/modelService.js';
import { PackStore } from './packs/packStore.js';
import { reportHandlers } from './reports/handlers.js';
import { ReportService } from './reports/reportService.js';
import { Dispatcher } from './server/dispatcher.js';
import { CaseImagery } from './sessions/caseImagery.js';
import { caseImageryHandlers, sessionHandlers } from './sessions/handlers.js';
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
  instantMasks: InstantMaskService;
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
  const settings = new SettingsRepository(db);
  // outlines stored by an earlier measurement (before they were clipped to the image) are measured again, once
  const remeasured = remeasureOutdated(repo, settings);
  if (remeasured > 0) log(`${remeasured} stored mask outline(s) were measured again from their rasters`);
  // the offline basemap chosen in an earlier run, reopened; a file now gone is reported once to the page
  const basemap = new BasemapService(settings);
  const lostBasemap = basemap.restore();
  if (lostBasemap) log(lostBasemap);
  // WebGPU is tried when the probe (a child process, run before the first pack load) finds a hardware adapter
  const inference = new InferenceHost({ workerUrl: workerPath('inferenceWorker'), webgpuProbe: workerPath('webgpuProbe') });
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
  // a .vantage file is read in a child process (dist/main/caseReader.mjs); its masks are measured again on import
  const caseFiles = new CaseFileService(db, opts.dataDir, appVersion(), { reader: { script: workerPath('caseReader') }, remeasure: remeasureCase });
  const chat = new ChatService(repo, sessions, imagery, models, inference);
  const change = new ChangeService(repo, sessions, workerPath('changeWorker'));
  const changeCaption = new ChangeCaptionService(repo, sessions, imagery, models, inference, chat);
  const reports = new ReportService(repo, imagery, appVersion());
  const instantMasks = new InstantMaskService(sessions, imagery, models, inference);
  const batchMasks = new BatchMaskService(repo, sessions, instantMasks);
  const caseImagery = new CaseImagery(repo, sessions, imagery);

  // the contract mapped to the services: each domain's calls, one line each, in its own handlers.ts
  const handlers: Handlers = {
    'app.status': async () => ({ version: appVersion(), mode: opts.mode, nativeDialogs: opts.dialogs !== undefined }),
    ...fileHandlers(files, { mode: opts.mode, dialogs: opts.dialogs }),
    ...caseImageryHandlers(caseImagery, sessions, files),
    ...basemapHandlers(basemap, files),
    ...sessionHandlers(sessions, caseFiles, files),
    ...modelHandlers(models, files),
    ...maskHandlers(instantMasks, batchMasks, files),
    ...objectHandlers(new ObjectEditService(repo, life)),
    ...chatHandlers(chat),
    ...changeHandlers(change, changeCaption),
    ...reportHandlers(reports, files),
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
    instantMasks,
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
