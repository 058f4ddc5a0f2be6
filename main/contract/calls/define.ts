import { z } from 'zod';

export type Schema = z.ZodType;
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

export const call = <I extends Schema, O extends Schema>(input: I, output: O): CallDef<I, O> => ({ kind: 'call', input, output });
export const stream = <I extends Schema, E extends Schema>(input: I, event: E): StreamDef<I, E> => ({ kind: 'stream', input, event });
export const resource = <I extends Schema>(input: I, contentType: string): ResourceDef<I> => ({ kind: 'resource', input, contentType });

export const empty = z.object({}).strict();
export const ok = z.object({ ok: z.literal(true) });
