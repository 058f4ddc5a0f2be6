import type { z } from 'zod';
import { VantageError, zodIssues, type ErrorPayload } from '../contract/errors.js';
import { procedures, type Handlers, type ProcedureName } from '../contract/procedures.js';
import { parseInput } from '../contract/validate.js';

export type Emit = (event: unknown) => void;

/**
 * The one place where every transport's request meets the services: the name must be in the contract, the payload
 * must pass its schema, and the call kind must match — before any handler runs. Outputs are checked too, so a
 * service bug surfaces as an INTERNAL error instead of a malformed reply.
 */
export class Dispatcher {
  constructor(private readonly handlers: Handlers, private readonly log: (msg: string) => void = () => {}) {
    for (const name of Object.keys(procedures)) {
      if (typeof (handlers as unknown as Record<string, unknown>)[name] !== 'function') {
        throw new Error(`no handler registered for contract call ${name}`);
      }
    }
  }

  private prepare(name: string, payload: unknown, kind: 'call' | 'stream' | 'resource') {
    const parsed = parseInput(name, payload);
    const def = procedures[parsed.name as ProcedureName];
    if (def.kind !== kind) throw new VantageError('NOT_FOUND', `${name} is a ${def.kind}, not a ${kind}`);
    const handler = (this.handlers as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[parsed.name]!;
    return { def, handler, input: parsed.input };
  }

  async call(name: string, payload: unknown): Promise<unknown> {
    const { def, handler, input } = this.prepare(name, payload, 'call');
    const started = performance.now();
    const result = await handler(input);
    const ms = performance.now() - started;
    if (ms > 1000) this.log(`slow call ${name}: ${ms.toFixed(0)} ms`);
    const checked = (def as { output: z.ZodType }).output.safeParse(result);
    if (!checked.success) {
      this.log(`${name} returned a reply outside the contract: ${JSON.stringify(zodIssues(checked.error))}`);
      throw new VantageError('INTERNAL', `${name} produced an invalid reply`);
    }
    return checked.data;
  }

  async subscribe(name: string, payload: unknown, emit: Emit, signal: AbortSignal): Promise<void> {
    const { def, handler, input } = this.prepare(name, payload, 'stream');
    const schema = (def as { event: z.ZodType }).event;
    await handler(input, (event: unknown) => {
      const checked = schema.safeParse(event);
      if (!checked.success) {
        this.log(`${name} emitted an event outside the contract: ${JSON.stringify(zodIssues(checked.error))}`);
        throw new VantageError('INTERNAL', `${name} produced an invalid event`);
      }
      if (!signal.aborted) emit(checked.data);
    }, signal);
  }

  async resource(name: string, payload: unknown): Promise<{ body: Uint8Array; contentType: string }> {
    const { def, handler, input } = this.prepare(name, payload, 'resource');
    const body = (await handler(input)) as Uint8Array;
    return { body, contentType: (def as { contentType: string }).contentType };
  }
}

export function toErrorPayload(err: unknown): ErrorPayload {
  return VantageError.from(err).toPayload();
}

export function httpStatusOf(code: ErrorPayload['code']): number {
  switch (code) {
    case 'BAD_INPUT':
      return 400;
    case 'UNAUTHORIZED':
      return 401;
    case 'NOT_FOUND':
      return 404;
    case 'CONFLICT':
      return 409;
    case 'UNSUPPORTED':
      return 422;
    case 'CANCELLED':
      return 499;
    default:
      return 500;
  }
}
