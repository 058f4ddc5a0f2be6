import { ErrorPayload, VantageError } from '../../../main/contract/errors.js';

/** Any reply that is not a well-formed ErrorPayload still becomes a typed error the UI can show. */
export function toVantageError(payload: unknown, fallback: string): VantageError {
  const parsed = ErrorPayload.safeParse(payload);
  if (parsed.success) return new VantageError(parsed.data.code, parsed.data.message, parsed.data.issues);
  return new VantageError('INTERNAL', fallback);
}

export function toErrorPayload(err: unknown): ErrorPayload {
  return VantageError.from(err).toPayload();
}
