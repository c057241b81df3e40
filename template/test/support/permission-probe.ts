/**
 * Run by test/security/permissions.test.ts the way the Dockerfile's CMD runs src/server.ts,
 * with the same node flags and working directory. Tries what a compromised dependency would
 * try, and prints one JSON line: for each attempt, the error code that stopped it, or
 * 'allowed'.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

const marker = `permission-probe-${process.pid}`;

function attempt(action: () => void): string {
  try {
    action();
    return 'allowed';
  } catch (error) {
    return String((error as { code?: unknown }).code ?? error);
  }
}

async function attemptAsync(action: () => Promise<unknown>): Promise<string> {
  try {
    await action();
    return 'allowed';
  } catch (error) {
    return String((error as { code?: unknown }).code ?? error);
  }
}

const writeAndRemove = (path: string) => () => {
  writeFileSync(path, 'written by the permission probe\n');
  rmSync(path);
};

const results = {
  readOutsideApp: attempt(() => readFileSync('/etc/passwd')),
  // Where Kubernetes mounts a pod's service-account token, unless automounting is turned off.
  readServiceAccountToken: attempt(() => readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/token')),
  writeSources: attempt(writeAndRemove(join('src', `${marker}.ts`))),
  writeTemporary: attempt(writeAndRemove(join(tmpdir(), marker))),
  spawnProcess: attempt(() => {
    const child = spawnSync(process.execPath, ['--version']);
    if (child.error) throw child.error;
  }),
  startWorker: attempt(() => void new Worker('', { eval: true }).terminate()),
  loadAddon: attempt(() => process.dlopen({ exports: {} }, join(tmpdir(), `${marker}.node`))),
  // node:sqlite writes files without asking the permission model: a project on PostgreSQL or
  // MongoDB starts node without the module.
  loadSqlite: await attemptAsync(() => import('node:sqlite')),
};
process.stdout.write(`${JSON.stringify(results)}\n`);
