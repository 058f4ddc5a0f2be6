import { z } from 'zod';
import { RegionGeometry } from './geometry.js';
import {
  ChatEvent,
  FileRef,
  FolderListing,
  Id,
  ImageInfo,
  MapView,
  ModelStatus,
  PackInfo,
  SessionDetail,
  SessionSummary,
} from './schemas.js';

type Schema = z.ZodType;
export interface CallDef<I extends Schema = Schema, O extends Schema = Schema> {
  kind: 'call';
  input: I;
  output: O;
}
export interface StreamDef<I extends Schema = Schema, E extends Schema = Schema> {
  kind: 'stream';
  input: I;
  event: E;
}
export interface ResourceDef<I extends Schema = Schema> {
  kind: 'resource';
  input: I;
  contentType: string;
}

const call = <I extends Schema, O extends Schema>(input: I, output: O): CallDef<I, O> => ({ kind: 'call', input, output });
const stream = <I extends Schema, E extends Schema>(input: I, event: E): StreamDef<I, E> => ({ kind: 'stream', input, event });
const resource = <I extends Schema>(input: I, contentType: string): ResourceDef<I> => ({ kind: 'resource', input, contentType });

const empty = z.object({}).strict();
const ok = z.object({ ok: z.literal(true) });

/**
 * Every call between the UI (or any client) and the services, declared once. Both transports, the typed
 * client and the CLI derive from this table. Region geometries are always image pixel coordinates.
 */
export const procedures = {
  'app.status': call(
    empty,
    z.object({
      version: z.string(),
      mode: z.enum(['electron', 'browser']),
      /** native dialogs exist (Electron); otherwise the backend file browser is used */
      nativeDialogs: z.boolean(),
    }),
  ),

  'files.browse': call(
    z
      .object({
        folder: FileRef.optional(),
        /** a folder path the user typed into the browser's location field */
        typedPath: z.string().max(4096).optional(),
        purpose: z.enum(['image', 'pack', 'folder']),
      })
      .strict(),
    FolderListing,
  ),
  'files.pick': call(
    z.object({ purpose: z.enum(['image', 'pack', 'folder']) }).strict(),
    z.object({ ref: FileRef.nullable() }),
  ),

  'imagery.open': call(z.object({ sessionId: Id, file: FileRef }).strict(), ImageInfo),
  'imagery.info': call(z.object({ imageId: Id }).strict(), ImageInfo),

  'sessions.list': call(empty, z.array(SessionSummary)),
  'sessions.create': call(z.object({ name: z.string().min(1).max(200) }).strict(), SessionSummary),
  'sessions.open': call(z.object({ sessionId: Id }).strict(), SessionDetail),
  'sessions.saveView': call(z.object({ sessionId: Id, view: MapView }).strict(), ok),

  'models.status': call(empty, ModelStatus),
  'models.list': call(empty, z.array(PackInfo)),

  'chat.ask': stream(
    z
      .object({
        sessionId: Id,
        imageId: Id,
        text: z.string().min(1).max(8000),
        regions: z.array(RegionGeometry).max(8),
        mode: z.enum(['chat', 'ground']).default('chat'),
        maxNewTokens: z.number().int().min(1).max(2048).default(64),
      })
      .strict(),
    ChatEvent,
  ),

  /** 256×256 PNG map tile in Web Mercator (or pixel space for non-georeferenced images), transparent outside */
  'imagery.tile': resource(
    z
      .object({
        imageId: Id,
        z: z.coerce.number().int().min(0).max(30),
        x: z.coerce.number().int().min(0),
        y: z.coerce.number().int(),
      })
      .strict(),
    'image/png',
  ),
} as const;

export type Procedures = typeof procedures;
export type ProcedureName = keyof Procedures;
export type CallName = { [K in ProcedureName]: Procedures[K] extends CallDef ? K : never }[ProcedureName];
export type StreamName = { [K in ProcedureName]: Procedures[K] extends StreamDef ? K : never }[ProcedureName];
export type ResourceName = { [K in ProcedureName]: Procedures[K] extends ResourceDef ? K : never }[ProcedureName];

export type InputOf<K extends ProcedureName> = z.input<Procedures[K]['input']>;
export type ParsedInputOf<K extends ProcedureName> = z.output<Procedures[K]['input']>;
export type OutputOf<K extends CallName> = Procedures[K] extends CallDef<Schema, infer O> ? z.output<O> : never;
export type EventOf<K extends StreamName> = Procedures[K] extends StreamDef<Schema, infer E> ? z.output<E> : never;

/** What a client sees: one async function per call, one subscription per stream, a URL per resource. */
export interface Subscription {
  unsubscribe(): void;
}
export interface StreamHandlers<E> {
  next(event: E): void;
  error(error: import('./errors.js').ErrorPayload): void;
  complete(): void;
}
export type VantageClient = {
  call<K extends CallName>(name: K, input: InputOf<K>): Promise<OutputOf<K>>;
  subscribe<K extends StreamName>(name: K, input: InputOf<K>, handlers: StreamHandlers<EventOf<K>>): Subscription;
  resourceUrl<K extends ResourceName>(name: K, input: InputOf<K>): string;
};

/** The service side: what both transports dispatch to after validation. */
export type Handlers = {
  [K in CallName]: (input: ParsedInputOf<K>) => Promise<OutputOf<K>>;
} & {
  [K in StreamName]: (input: ParsedInputOf<K>, emit: (event: EventOf<K>) => void, signal: AbortSignal) => Promise<void>;
} & {
  [K in ResourceName]: (input: ParsedInputOf<K>) => Promise<Uint8Array>;
};
