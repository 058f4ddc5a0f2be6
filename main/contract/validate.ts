import type { z } from 'zod';
import { VantageError, zodIssues } from './errors.js';
import { procedures, type ProcedureName } from './procedures.js';

export function isProcedureName(name: string): name is ProcedureName {
  return Object.prototype.hasOwnProperty.call(procedures, name);
}

/** Validates a payload against the contract; throws BAD_INPUT with the zod issues so nothing malformed reaches a service. */
export function parseInput(name: string, payload: unknown): { name: ProcedureName; input: unknown } {
  if (!isProcedureName(name)) {
    throw new VantageError('NOT_FOUND', `unknown call "${name}"; valid calls: ${Object.keys(procedures).join(', ')}`);
  }
  const schema: z.ZodType = procedures[name].input;
  const parsed = schema.safeParse(payload ?? {});
  if (!parsed.success) {
    throw new VantageError('BAD_INPUT', `invalid input for ${name}`, zodIssues(parsed.error));
  }
  return { name, input: parsed.data };
}
