import type { z } from 'zod';
import { appCalls } from './calls/app.js';
import { fileCalls } from './calls/files.js';
import { changeCalls } from './calls/change.js';
import { chatCalls } from './calls/chat.js';
import type { CallDef, ResourceDef, StreamDef } from './calls/define.js';
import { imageryCalls } from './calls/imagery.js';
import { maskCalls } from './calls/masks.js';
import { modelCalls } from './calls/models.js';
import { reportCalls } from './calls/reports.js';
import { sessionCalls } from './calls/sessions.js';

export type { CallDef, ResourceDef, StreamDef } from './calls/define.js';
type Schema = z.ZodType;

/**
 * Every call between the UI (or any client) and the services, declared once per domain in calls/*.ts. Both
 * transports, the typed client and the CLI derive from this table. Region geometries are always image pixels.
 */
export const procedures = {
  ...appCalls,
  ...fileCalls,
  ...imageryCalls,
  ...sessionCalls,
  ...modelCalls,
  ...chatCalls,
  ...maskCalls,
  ...changeCalls,
  ...reportCalls,
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

/** One domain's part of the handler table: its calls named `PREFIX.*` (each domain's handlers.ts). */
export type HandlersOf<P extends string> = Pick<Handlers, Extract<keyof Handlers, `${P}.${string}`>>;

/** The service side: what both transports dispatch to after validation. */
export type Handlers = {
  [K in CallName]: (input: ParsedInputOf<K>) => Promise<OutputOf<K>>;
} & {
  [K in StreamName]: (input: ParsedInputOf<K>, emit: (event: EventOf<K>) => void, signal: AbortSignal) => Promise<void>;
} & {
  [K in ResourceName]: (input: ParsedInputOf<K>) => Promise<Uint8Array>;
};
