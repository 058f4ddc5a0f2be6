import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { PackInfo, PackSignature, Turn } from '../contract/schemas.js';
import { VantageError } from '../contract/errors.js';
import { parseJsonText } from '../util/json.js';
import { joinUnder } from '../util/safePath.js';

/**
 * Pack signatures (native-models/PACK_CONTRACT.md "Signature"): `manifest.sig` beside `manifest.json` holds a detached
 * Ed25519 signature over the exact bytes of manifest.json, and the signer's public key. The manifest names every
 * file with its sha256 and size (checked by loadPack), so the signature covers the whole pack. Whether a signature
 * is *trusted* depends only on the keys the user added with `vantage packs trust KEYFILE` (TrustedKeys).
 */

export const SIGNATURE_FILE = 'manifest.sig';
/** a key or signature file is a few hundred bytes; anything much larger is not one (and is not read whole) */
const MAX_KEY_FILE = 16 * 1024;
/** the most bytes a manifest.sig may have (an install refuses a larger one) */
export const MAX_SIGNATURE_BYTES = MAX_KEY_FILE;

const b64 = (bytes: number, what: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, `${what} must be base64`)
    .refine((s) => Buffer.from(s, 'base64').length === bytes, `${what} must be ${bytes} bytes`);

const SignatureFile = z
  .object({
    algorithm: z.literal('ed25519'),
    /** the signer's raw 32-byte Ed25519 public key, base64 */
    publicKey: b64(32, 'publicKey'),
    /** the 64-byte Ed25519 signature of manifest.json's bytes, base64 */
    signature: b64(64, 'signature'),
  })
  .strict();

/** First 16 hex digits of the SHA-256 of the raw 32-byte public key: how keys are named to people. */
export function fingerprintOf(rawKey: Buffer): string {
  return createHash('sha256').update(rawKey).digest('hex').slice(0, 16);
}

const rawOf = (key: KeyObject): Buffer => Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url');
const keyOfRaw = (raw: Buffer): KeyObject => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });

async function readSmall(file: string, what: string): Promise<string> {
  const st = await stat(file).catch(() => {
    throw new VantageError('NOT_FOUND', `no ${what} at ${file}`);
  });
  if (!st.isFile() || st.size > MAX_KEY_FILE) throw new VantageError('BAD_INPUT', `${file} is not ${what} (${st.isFile() ? `${st.size} bytes` : 'not a file'})`);
  return readFile(file, 'utf8');
}

/** An Ed25519 public key from a PEM "PUBLIC KEY" (SPKI) file or a file holding the raw 32-byte key in base64. */
export async function readPublicKeyFile(file: string): Promise<{ raw: Buffer; fingerprint: string }> {
  const text = await readSmall(file, 'an Ed25519 public key file');
  const refuse = (why: string) => new VantageError('BAD_INPUT', `${file} is not an Ed25519 public key (${why}); give the .pub file written by vantage packs keygen`);
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new VantageError('BAD_INPUT', `${file} is a private key; trust the public key (the .pub file beside it) and keep the private key secret`);
  }
  let key: KeyObject;
  if (text.includes('-----BEGIN PUBLIC KEY-----')) {
    try {
      key = createPublicKey(text);
    } catch {
      throw refuse('the PEM block does not decode');
    }
    if (key.asymmetricKeyType !== 'ed25519') throw refuse(`it is a ${key.asymmetricKeyType ?? 'unknown'} key`);
  } else {
    const t = text.trim();
    if (!/^[A-Za-z0-9+/]{43}=$/.test(t)) throw refuse('expected a PEM "PUBLIC KEY" block or the 32-byte key in base64');
    key = keyOfRaw(Buffer.from(t, 'base64'));
  }
  const raw = rawOf(key);
  return { raw, fingerprint: fingerprintOf(raw) };
}

async function readPrivateKeyFile(file: string): Promise<KeyObject> {
  const text = await readSmall(file, 'an Ed25519 private key file');
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch {
    throw new VantageError('BAD_INPUT', `${file} is not a private key (expected a PEM "PRIVATE KEY" block as written by vantage packs keygen)`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new VantageError('BAD_INPUT', `${file} is a ${key.asymmetricKeyType ?? 'unknown'} key; pack signatures need an Ed25519 key`);
  return key;
}

/** Writes a new key pair: `out` (private, PEM PKCS#8, mode 0600) and `out.pub` (public, PEM SPKI). Never overwrites. */
export async function generateSigningKey(out: string): Promise<{ privateFile: string; publicFile: string; fingerprint: string }> {
  const publicFile = `${out}.pub`;
  for (const f of [out, publicFile]) {
    if (await stat(f).then(() => true, () => false)) throw new VantageError('CONFLICT', `${f} exists already; choose another name (keys are never overwritten)`);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  await mkdir(path.dirname(path.resolve(out)), { recursive: true });
  await writeFile(out, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  await writeFile(publicFile, publicKey.export({ format: 'pem', type: 'spki' }), { flag: 'wx' });
  return { privateFile: out, publicFile, fingerprint: fingerprintOf(rawOf(publicKey)) };
}

/**
 * Signs the pack in `dir` (its manifest.json as it is on disk) with the private key in `keyFile`: writes manifest.sig.
 * The caller checks the pack first (loadPack), so a signer never vouches for files that do not match the manifest.
 */
export async function signPackDir(dir: string, keyFile: string): Promise<{ file: string; fingerprint: string }> {
  const key = await readPrivateKeyFile(keyFile);
  const manifest = await readFile(path.join(dir, 'manifest.json')).catch(() => {
    throw new VantageError('NOT_FOUND', `${dir} has no manifest.json; sign the pack folder that holds it`);
  });
  const raw = rawOf(createPublicKey(key));
  const body = { algorithm: 'ed25519', publicKey: raw.toString('base64'), signature: sign(null, manifest, key).toString('base64') };
  const file = path.join(dir, SIGNATURE_FILE);
  await writeFile(file, JSON.stringify(body, null, 2) + '\n');
  return { file, fingerprint: fingerprintOf(raw) };
}

/**
 * What the signature of the pack in `dir` says: 'unsigned' (no manifest.sig), 'untrusted' (it verifies, with a key
 * the user has not trusted) or 'trusted'. A manifest.sig that is malformed or does not verify — the manifest was
 * changed after signing — is an error, never "unsigned": such a pack is refused.
 */
export async function checkPackSignature(dir: string, trust: TrustedKeys | null, label = path.basename(dir)): Promise<PackSignature> {
  const sigFile = path.join(dir, SIGNATURE_FILE);
  const st = await stat(sigFile).catch(() => null);
  if (!st) return { status: 'unsigned', fingerprint: null, signer: null };
  if (!st.isFile() || st.size > MAX_SIGNATURE_BYTES) throw badSignature(label, 'is not a signature file');
  return checkSignatureBytes(await readFile(path.join(dir, 'manifest.json')), await readFile(sigFile), trust, label);
}

const badSignature = (label: string, why: string) =>
  new VantageError('BAD_INPUT', `model pack "${label}": ${SIGNATURE_FILE} ${why}; the pack is refused (get a fresh copy from its publisher)`);

/** checkPackSignature on bytes already read: manifest.json's and manifest.sig's (null: absent). An install checks them before copying anything. */
export async function checkSignatureBytes(manifest: Buffer, sigRaw: Buffer | null, trust: TrustedKeys | null, label: string): Promise<PackSignature> {
  if (!sigRaw) return { status: 'unsigned', fingerprint: null, signer: null };
  let parsed: z.infer<typeof SignatureFile>;
  try {
    parsed = SignatureFile.parse(parseJsonText(sigRaw.toString('utf8')));
  } catch {
    throw badSignature(label, 'is malformed (expected {"algorithm":"ed25519","publicKey":…,"signature":…})');
  }
  const raw = Buffer.from(parsed.publicKey, 'base64');
  const fingerprint = fingerprintOf(raw);
  if (!verify(null, manifest, keyOfRaw(raw), Buffer.from(parsed.signature, 'base64'))) {
    throw badSignature(label, `does not match manifest.json (key ${fingerprint}): the manifest was changed after it was signed`);
  }
  const known = (await trust?.list())?.find((k) => k.fingerprint === fingerprint && k.publicKey === parsed.publicKey);
  return known ? { status: 'trusted', fingerprint, signer: known.name } : { status: 'untrusted', fingerprint, signer: null };
}

/** One line for provenance and the CLI: "trusted: NAME (fingerprint)", "untrusted: fingerprint" or "unsigned". */
export function signatureLabel(sig: PackSignature): string {
  if (sig.status === 'trusted') return `trusted: ${sig.signer} (${sig.fingerprint})`;
  if (sig.status === 'untrusted') return `untrusted: ${sig.fingerprint}`;
  return 'unsigned';
}

/** The input flag that confirms installing an unsigned or untrusted pack (`models.install`, `--allow-unsigned`). */
export const CONFIRM_FLAG = 'allowUnsigned';

/**
 * Refuses an unsigned or untrusted pack unless the user confirmed. The error carries `issues: [{path: 'allowUnsigned'}]`
 * so a client can tell "needs confirmation" from other refusals and ask.
 */
export function requireTrustOrConfirmation(packName: string, sig: PackSignature, confirmed: boolean): void {
  if (sig.status === 'trusted' || confirmed) return;
  const what = sig.status === 'unsigned' ? 'is unsigned' : `is signed by an untrusted key ${sig.fingerprint}`;
  throw new VantageError(
    'UNSUPPORTED',
    `model pack "${packName}" ${what}; install it only if you trust its source: pass --allow-unsigned or confirm in the Model panel${sig.status === 'untrusted' ? ' (or trust its key with vantage packs trust KEYFILE)' : ''}`,
    [{ path: CONFIRM_FLAG, message: sig.status }],
  );
}

export interface TrustedKey {
  name: string;
  fingerprint: string;
  /** raw 32-byte key, base64 */
  publicKey: string;
  trustedAt: string;
}

const TrustedKeyFile = z.object({ name: z.string().min(1).max(200), fingerprint: z.string().regex(/^[0-9a-f]{16}$/), publicKey: b64(32, 'publicKey'), trustedAt: z.string() });

/**
 * The keys the user chose to trust: one JSON file per key in `<dataDir>/trusted-keys/<fingerprint>.json`
 * ({name, fingerprint, publicKey, trustedAt}). Files that do not parse, or whose fingerprint is not their key's, are ignored.
 */
export class TrustedKeys {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, 'trusted-keys');
  }

  async list(): Promise<TrustedKey[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const out: TrustedKey[] = [];
    for (const n of names.sort()) {
      if (!n.endsWith('.json')) continue;
      try {
        const k = TrustedKeyFile.parse(parseJsonText(await readFile(path.join(this.dir, n), 'utf8')));
        if (fingerprintOf(Buffer.from(k.publicKey, 'base64')) === k.fingerprint && n === `${k.fingerprint}.json`) out.push(k);
      } catch {
        // not a key record: ignored (trust is only what `packs trust` wrote)
      }
    }
    return out;
  }

  /** Trusts the public key in `keyFile` under `name` (default: the file name without extension). */
  async add(keyFile: string, name?: string): Promise<TrustedKey> {
    const { raw, fingerprint } = await readPublicKeyFile(keyFile);
    const label = (name ?? path.basename(keyFile).replace(/\.(pub|pem|key|txt)$/i, '')).trim();
    if (!label || label.length > 200) throw new VantageError('BAD_INPUT', 'a trusted key needs a name of 1 to 200 characters (--name)');
    const rec: TrustedKey = { name: label, fingerprint, publicKey: raw.toString('base64'), trustedAt: new Date().toISOString() };
    await mkdir(this.dir, { recursive: true });
    await writeFile(joinUnder(this.dir, [`${fingerprint}.json`], 'trusted key'), JSON.stringify(rec, null, 2) + '\n');
    return rec;
  }

  /** Stops trusting a key (by fingerprint, or a unique prefix of at least 8 digits, or its name). */
  async remove(which: string): Promise<TrustedKey> {
    const keys = await this.list();
    const hits = keys.filter((k) => k.name === which || (which.length >= 8 && k.fingerprint.startsWith(which.toLowerCase())));
    if (hits.length !== 1) {
      const have = keys.map((k) => `${k.name} ${k.fingerprint}`).join(', ') || 'none';
      throw new VantageError(hits.length ? 'BAD_INPUT' : 'NOT_FOUND', `${hits.length ? 'several' : 'no'} trusted keys match "${which}" (trusted: ${have})`);
    }
    await rm(joinUnder(this.dir, [`${hits[0]!.fingerprint}.json`], 'trusted key'), { force: true });
    return hits[0]!;
  }
}

/** A stored answer's pack provenance: name, version, manifest sha256 and the signature label when it was made. */
export function packProvenanceOf(pack: PackInfo | null): Turn['pack'] {
  if (!pack) return null;
  return { name: pack.name, version: pack.version, sha256: pack.sha256, signature: pack.signature ? signatureLabel(pack.signature) : null };
}
