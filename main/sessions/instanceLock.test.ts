import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InstanceLock, LOCK_FILE } from './instanceLock.js';

let dir: string;
beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'vantage-lock-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('InstanceLock', () => {
  it('refuses a second instance while the first holds the lock, naming the owner, and frees it on release', () => {
    // a live process that is not us: this test's parent
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, host: hostname(), startedAt: 'earlier' }));
    expect(() => InstanceLock.acquire(dir)).toThrow(new RegExp(`already running on this data folder .*process ${process.ppid}`));
    rmSync(path.join(dir, LOCK_FILE));
    const lock = InstanceLock.acquire(dir);
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(true);
    lock.release();
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it('takes over a stale lock whose process is dead, and a half-written one: the lock then names this process', () => {
    const file = path.join(dir, LOCK_FILE);
    const owner = () => JSON.parse(readFileSync(file, 'utf8')) as { pid: number; host: string; startedAt: string };
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    expect(Number(dead.stdout)).toBeGreaterThan(0);
    for (const stale of [JSON.stringify({ pid: Number(dead.stdout), host: hostname(), startedAt: 'x' }), '{"pid": 12']) {
      writeFileSync(file, stale);
      const lock = InstanceLock.acquire(dir);
      expect(owner()).toMatchObject({ pid: process.pid, host: hostname() });
      expect(Number.isNaN(Date.parse(owner().startedAt))).toBe(false);
      lock.release();
      expect(existsSync(file)).toBe(false);
    }
  });
});
