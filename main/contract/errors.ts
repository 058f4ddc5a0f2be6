import { z } from 'zod';

export const ErrorCode = z.enum([
  'BAD_INPUT', // payload failed the contract's schema
  'UNAUTHORIZED', // missing/wrong token or foreign origin
  'NOT_FOUND',
  'UNSUPPORTED', // the call exists but not in this mode / with this pack / for this file
  'CONFLICT',
  'CANCELLED',
  'INTERNAL',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorPayload = z.object({
  code: ErrorCode,
  message: z.string(),
  /** zod issues for BAD_INPUT: where the payload went wrong */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ErrorPayload = z.infer<typeof ErrorPayload>;

/** The one error type services throw at the boundary; transports serialise it as ErrorPayload. */
export class VantageError extends Error {
  readonly code: ErrorCode;
  readonly issues?: ErrorPayload['issues'];
  constructor(code: ErrorCode, message: string, issues?: ErrorPayload['issues']) {
    super(message);
    this.name = 'VantageError';
    this.code = code;
    this.issues = issues;
  }
  toPayload(): ErrorPayload {
    return { code: this.code, message: this.message, ...(this.issues ? { issues: this.issues } : {}) };
  }
  static from(err: unknown): VantageError {
    if (err instanceof VantageError) return err;
    if (err && typeof err === 'object' && 'code' in err && 'message' in err) {
      const parsed = ErrorPayload.safeParse(err);
      if (parsed.success) return new VantageError(parsed.data.code, parsed.data.message, parsed.data.issues);
    }
    return new VantageError('INTERNAL', err instanceof Error ? err.message : String(err));
  }
}

export function zodIssues(error: z.ZodError): NonNullable<ErrorPayload['issues']> {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}
