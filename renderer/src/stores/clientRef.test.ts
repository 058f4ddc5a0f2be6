import { describe, expect, it } from 'vitest';
import { VantageError } from '../../../main/contract/errors.js';
import { toVantageError } from '../transport/transportError.js';
import { errorText } from './clientRef.js';

describe('errorText', () => {
  it('gives the analyst the sentence, not the contract code, which stays on the error for code', () => {
    const err = toVantageError({ code: 'NOT_FOUND', message: 'the case has no image img9' }, 'x');
    expect(errorText(err)).toBe('the case has no image img9');
    expect(err.code).toBe('NOT_FOUND');
    expect(errorText(new VantageError('BAD_INPUT', 'tie points are "xa,ya:xb,yb" pairs'))).toBe('tie points are "xa,ya:xb,yb" pairs');
    expect(errorText({ code: 'INTERNAL', message: 'inference worker exited' })).toBe('inference worker exited');
  });

  it('says where the input went wrong, and reads anything else as text', () => {
    const err = new VantageError('BAD_INPUT', 'invalid input', [{ path: 'minArea', message: 'Number must be greater than or equal to 0' }]);
    expect(errorText(err)).toBe('invalid input (minArea: Number must be greater than or equal to 0)');
    expect(errorText('offline')).toBe('offline');
  });
});
