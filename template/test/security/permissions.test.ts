// Node's permission model in the production start: the Dockerfile's CMD runs the server with
// node flags that allow reading only the application directory, writing only the data
// directory (SQLite) or nowhere, and no child processes, workers or native addons; without
// SQLite, node:sqlite (outside the permission model) is not there to load. These proofs read
// that CMD and run with exactly its flags, so they prove what the image ships.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { defaultDatabaseUrl } from '../../src/project.ts';
import { createTestDatabase } from '../support/database.ts';
import { request } from '../support/http.ts';
import { PROJECT_ROOT, startServer, type RunningServer } from '../support/server.ts';
import type { TestDatabase } from '../support/test-database.ts';
import { AUTH_REQUIRED, newUser } from '../support/users.ts';

const PROBE = 'test/support/permission-probe.ts';
const SERVER_ENTRY = 'src/server.ts';
/** What each attempt of the probe must end with under the production flags. */
const REFUSALS: Record<string, string> = {
  readOutsideApp: 'ERR_ACCESS_DENIED',
  readServiceAccountToken: 'ERR_ACCESS_DENIED',
  writeSources: 'ERR_ACCESS_DENIED',
  writeTemporary: 'ERR_ACCESS_DENIED',
  spawnProcess: 'ERR_ACCESS_DENIED',
  startWorker: 'ERR_ACCESS_DENIED',
  loadAddon: 'ERR_DLOPEN_DISABLED',
  // SQLite's own file access is outside the permission model; a project without SQLite has no
  // node:sqlite at all. With SQLite the module is the database (README, "Container image").
  ...(defaultDatabaseUrl?.startsWith('file:') ? {} : { loadSqlite: 'ERR_UNKNOWN_BUILTIN_MODULE' }),
};

/** The Dockerfile's CMD: exec form, which is a JSON array. */
async function productionCommand(): Promise<string[]> {
  const dockerfile = await readFile(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
  const commands = [...dockerfile.matchAll(/^CMD\s+(\[.*\])\s*$/gm)].map((match) => JSON.parse(match[1] ?? '') as string[]);
  assert.equal(commands.length, 1, 'the Dockerfile has exactly one exec-form CMD');
  return commands[0] ?? [];
}

/** The node flags of the production start: everything between `node` and the entry point. */
async function productionNodeFlags(): Promise<string[]> {
  const command = await productionCommand();
  assert.equal(command[0], 'node', 'the image starts node itself, not npm or a shell');
  assert.equal(command.at(-1), SERVER_ENTRY);
  return command.slice(1, -1);
}

async function runProbe(nodeFlags: string[]): Promise<Record<string, string>> {
  const { stdout } = await promisify(execFile)(process.execPath, [...nodeFlags, PROBE], { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH } });
  return JSON.parse(stdout) as Record<string, string>;
}

/**
 * A fresh database the server can use under the production grants: SQLite's file goes into
 * the directory the flags let it write (data/ as in the image); a server database is as usual.
 */
async function databaseWithinGrants(nodeFlags: string[]): Promise<TestDatabase> {
  const database = await createTestDatabase();
  if (!database.url.startsWith('file:')) return database;
  const writable = nodeFlags.find((flag) => flag.startsWith('--allow-fs-write='))?.slice('--allow-fs-write='.length);
  assert.ok(writable, 'an SQLite server needs --allow-fs-write for its data directory');
  await mkdir(resolve(PROJECT_ROOT, writable), { recursive: true });
  const directory = await mkdtemp(join(resolve(PROJECT_ROOT, writable), 'permission-proof-'));
  return {
    ...database,
    url: `file:${join(directory, 'app.db')}`,
    async dispose() {
      await rm(directory, { recursive: true, force: true });
      await database.dispose();
    },
  };
}

describe('permission model in the production start', () => {
  let nodeFlags: string[];
  before(async () => {
    nodeFlags = await productionNodeFlags();
  });

  it('turns the permission model on, with no blanket grant', () => {
    assert.ok(nodeFlags.includes('--permission'), 'the CMD starts node with --permission');
    for (const flag of nodeFlags) {
      assert.doesNotMatch(flag, /^--allow-fs-(read|write)=\*$/, `${flag} grants the whole file system`);
      assert.doesNotMatch(flag, /^--allow-(child-process|worker|addons|wasi)$/, `${flag} is not needed by this API`);
    }
  });

  it('refuses reading outside the app, writing outside the data directory, and starting processes, workers or addons', async () => {
    const restricted = await runProbe(nodeFlags);
    assert.deepEqual(Object.fromEntries(Object.keys(REFUSALS).map((attempt) => [attempt, restricted[attempt]])), REFUSALS);
    // The same probe without the flags: it is the flags that refuse, not the machine.
    const unrestricted = await runProbe([]);
    for (const [attempt, refusal] of Object.entries(REFUSALS)) {
      assert.notEqual(unrestricted[attempt], refusal, `${attempt} is refused even without the permission model`);
    }
  });

  describe('the app under the same flags', () => {
    let server: RunningServer;
    before(async () => {
      const database = await databaseWithinGrants(nodeFlags);
      try {
        server = await startServer({}, { database, nodeArguments: nodeFlags });
      } catch (error) {
        await database.dispose();
        throw error;
      }
    });
    after(async () => {
      await server?.stop();
      await server?.database.dispose();
    });

    it('serves health, readiness, its OpenAPI document and users', async () => {
      assert.equal((await request(server, '/health')).status, 200);
      assert.equal((await request(server, '/ready')).status, 200);
      assert.equal((await request(server, '/openapi.json')).status, 200);
      const user = await newUser(server, 'permissions');
      const path = AUTH_REQUIRED ? '/api/users/me' : `/api/users/${user.id}`;
      const read = await request<{ id: string }>(server, path, { token: user.accessToken });
      assert.equal(read.status, 200, read.text);
      assert.equal(read.body.id, user.id);
    });

    it('shuts down cleanly on SIGTERM', async () => {
      const { code } = await server.stop();
      assert.equal(code, 0, server.output());
      await server.waitForLog((line) => line.msg === 'shutdown complete');
    });
  });
});
