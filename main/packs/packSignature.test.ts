import { generateKeyPairSync, sign } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPackDir } from '../inference/testPackFixtures.js';
import {
  checkPackSignature,
  fingerprintOf,
  generateSigningKey,
  packProvenanceOf,
  readPublicKeyFile,
  requireTrustOrConfirmation,
  signatureLabel,
  signPackDir,
  SIGNATURE_FILE,
  TrustedKeys,
} from './packSignature.js';

/** Pack signatures with real Ed25519 keys on real files (the test pack's manifest.json). */

let tmp: string;
let key: string; // private key file; key + '.pub' is its public key
let fp: string;

/** a fresh copy of the test pack's manifest (the only file a signature reads) */
function packCopy(name: string): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir);
  cpSync(path.join(testPackDir, 'manifest.json'), path.join(dir, 'manifest.json'));
  return dir;
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'vantage-sig-'));
  ({ privateFile: key, fingerprint: fp } = await generateSigningKey(path.join(tmp, 'keys', 'publisher')));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('keys', () => {
  it('keygen writes a private key only its owner can read and the public key beside it; never overwrites', async () => {
    expect(statSync(key).mode & 0o077).toBe(0);
    expect(readFileSync(key, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(readFileSync(`${key}.pub`, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const pub = await readPublicKeyFile(`${key}.pub`);
    expect(pub.raw).toHaveLength(32);
    expect(pub.fingerprint).toBe(fp);
    expect(fp).toMatch(/^[0-9a-f]{16}$/);
    await expect(generateSigningKey(key)).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('exists already') });
  });

  it('reads a public key given as the raw 32 bytes in base64', async () => {
    const raw = (await readPublicKeyFile(`${key}.pub`)).raw;
    const f = path.join(tmp, 'raw.b64');
    writeFileSync(f, `${raw.toString('base64')}\n`);
    expect((await readPublicKeyFile(f)).fingerprint).toBe(fingerprintOf(raw));
  });

  it('refuses anything that is not an Ed25519 public key with one line naming the file', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }) as string;
    const cases: [string, string | Buffer, RegExp][] = [
      ['private.pem', readFileSync(key), /is a private key; trust the public key/],
      ['rsa.pub', rsa, /is not an Ed25519 public key \(it is a rsa key\)/],
      ['garbage.pub', 'hello, I am a key', /is not an Ed25519 public key \(expected a PEM "PUBLIC KEY" block/],
      ['broken.pub', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', /is not an Ed25519 public key \(the PEM block does not decode\)/],
      ['short.b64', Buffer.alloc(31).toString('base64'), /is not an Ed25519 public key/],
      ['huge.pub', Buffer.alloc(100_000), /is not an Ed25519 public key file \(100000 bytes\)/],
    ];
    const trust = new TrustedKeys(path.join(tmp, 'data-bad'));
    for (const [name, body, msg] of cases) {
      const f = path.join(tmp, name);
      writeFileSync(f, body);
      const err = await trust.add(f).then(
        () => null,
        (e: Error & { code?: string }) => e,
      );
      expect(err, name).toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(msg) });
      expect(err!.message, name).toContain(f);
      expect(err!.message.split('\n'), name).toHaveLength(1);
    }
    await expect(trust.add(path.join(tmp, 'absent.pub'))).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('absent.pub') });
    expect(await trust.list()).toEqual([]);
  });

  it('the trust store keeps one record per key, ignores files it did not write, and forgets a key on untrust', async () => {
    const trust = new TrustedKeys(path.join(tmp, 'data-trust'));
    const k = await trust.add(`${key}.pub`, 'Survey unit');
    expect(k).toMatchObject({ name: 'Survey unit', fingerprint: fp });
    await trust.add(`${key}.pub`); // again, under the file's name: replaces the record
    writeFileSync(path.join(trust.dir, 'junk.json'), '{"name":"x"}');
    // a record whose file name is not its key's fingerprint (hand-made) is not trusted
    writeFileSync(path.join(trust.dir, '0000000000000000.json'), JSON.stringify({ ...k, fingerprint: '0000000000000000' }));
    expect((await trust.list()).map((x) => [x.name, x.fingerprint])).toEqual([['publisher', fp]]);
    await expect(trust.remove('nobody')).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining(`publisher ${fp}`) });
    expect(await trust.remove(fp.slice(0, 8))).toMatchObject({ fingerprint: fp });
    expect(await trust.list()).toEqual([]);
  });
});

describe('signatures', () => {
  it('unsigned, untrusted, then trusted once the key is trusted', async () => {
    const dir = packCopy('signed');
    const trust = new TrustedKeys(path.join(tmp, 'data-1'));
    expect(await checkPackSignature(dir, trust)).toEqual({ status: 'unsigned', fingerprint: null, signer: null });
    expect(await signPackDir(dir, key)).toEqual({ file: path.join(dir, SIGNATURE_FILE), fingerprint: fp });
    expect(await checkPackSignature(dir, trust)).toEqual({ status: 'untrusted', fingerprint: fp, signer: null });
    expect(await checkPackSignature(dir, null)).toEqual({ status: 'untrusted', fingerprint: fp, signer: null });
    await trust.add(`${key}.pub`, 'Survey unit');
    const sig = await checkPackSignature(dir, trust);
    expect(sig).toEqual({ status: 'trusted', fingerprint: fp, signer: 'Survey unit' });
    expect(signatureLabel(sig)).toBe(`trusted: Survey unit (${fp})`);
    const info = { name: 'p', version: '1', licence: '', sha256: 'ab', stages: [], modes: [], sizeBytes: 0, expectedVramMB: 0, builtin: false };
    expect(packProvenanceOf({ ...info, signature: sig })).toEqual({ name: 'p', version: '1', sha256: 'ab', signature: `trusted: Survey unit (${fp})` });
    expect(packProvenanceOf(info)?.signature).toBeNull();
  });

  it('a manifest changed after signing is refused, never taken for unsigned: one byte, reformatting, or a swapped key', async () => {
    const trust = new TrustedKeys(path.join(tmp, 'data-2'));
    await trust.add(`${key}.pub`);
    const tamper: [string, (dir: string) => void][] = [
      ['one byte of the licence', (d) => writeFileSync(path.join(d, 'manifest.json'), readFileSync(path.join(d, 'manifest.json'), 'utf8').replace('"licence": "', '"licence": "X'))],
      ['the same JSON reformatted', (d) => writeFileSync(path.join(d, 'manifest.json'), JSON.stringify(JSON.parse(readFileSync(path.join(d, 'manifest.json'), 'utf8'))))],
      [
        // an attacker signs a changed manifest with their own key and claims the trusted key in manifest.sig
        'the trusted key claimed for another key’s signature',
        (d) => {
          const mine = generateKeyPairSync('ed25519').privateKey;
          const bytes = readFileSync(path.join(d, 'manifest.json'));
          const sigFile = path.join(d, SIGNATURE_FILE);
          const body = JSON.parse(readFileSync(sigFile, 'utf8')) as { signature: string };
          body.signature = sign(null, bytes, mine).toString('base64');
          writeFileSync(sigFile, JSON.stringify(body));
        },
      ],
    ];
    for (const [i, [what, edit]] of tamper.entries()) {
      const dir = packCopy(`tampered-${i}`);
      await signPackDir(dir, key);
      edit(dir);
      await expect(checkPackSignature(dir, trust, 'my-pack'), what).rejects.toMatchObject({
        code: 'BAD_INPUT',
        message: `model pack "my-pack": manifest.sig does not match manifest.json (key ${fp}): the manifest was changed after it was signed; the pack is refused (get a fresh copy from its publisher)`,
      });
    }
  });

  it('a malformed manifest.sig is refused with one line', async () => {
    for (const [i, body] of ['not json', '{}', JSON.stringify({ algorithm: 'ed25519', publicKey: 'AAAA', signature: 'AAAA' }), JSON.stringify({ algorithm: 'rsa' })].entries()) {
      const dir = packCopy(`malformed-${i}`);
      writeFileSync(path.join(dir, SIGNATURE_FILE), body);
      await expect(checkPackSignature(dir, null, 'p')).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/^model pack "p": manifest\.sig is malformed/) });
    }
  });

  it('signing needs an Ed25519 private key', async () => {
    const dir = packCopy('wrong-key');
    await expect(signPackDir(dir, `${key}.pub`)).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/publisher\.pub is not a private key/) });
    const rsa = path.join(tmp, 'rsa.key');
    writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
    await expect(signPackDir(dir, rsa)).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/rsa\.key is a rsa key; pack signatures need an Ed25519 key/) });
  });

  it('installing needs trust or an explicit confirmation; the refusal says which and how to confirm', () => {
    const unsigned = { status: 'unsigned', fingerprint: null, signer: null } as const;
    const untrusted = { status: 'untrusted', fingerprint: fp, signer: null } as const;
    expect(() => requireTrustOrConfirmation('p', unsigned, false)).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED', message: expect.stringMatching(/^model pack "p" is unsigned; install it only if you trust its source: pass --allow-unsigned/), issues: [{ path: 'allowUnsigned', message: 'unsigned' }] }),
    );
    expect(() => requireTrustOrConfirmation('p', untrusted, false)).toThrow(expect.objectContaining({ message: expect.stringContaining(`is signed by an untrusted key ${fp}`) }));
    expect(() => requireTrustOrConfirmation('p', unsigned, true)).not.toThrow();
    expect(() => requireTrustOrConfirmation('p', untrusted, true)).not.toThrow();
    expect(() => requireTrustOrConfirmation('p', { status: 'trusted', fingerprint: fp, signer: 'x' }, false)).not.toThrow();
  });
});
