// Practice 8 proof: what npm installs is pinned, verified and unable to run code at install.
// (npm audit needs the registry's audit service; CI runs it and fails when it is unreachable.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../support/server.ts';

interface LockedPackage {
  version?: string;
  resolved?: string;
  integrity?: string;
  hasInstallScript?: boolean;
  link?: boolean;
}

const read = (file: string): string => readFileSync(join(PROJECT_ROOT, file), 'utf8');
const manifest = JSON.parse(read('package.json')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string>; engines?: { node?: string } };
const lock = JSON.parse(read('package-lock.json')) as { lockfileVersion: number; packages: Record<string, LockedPackage> };
const installed = Object.entries(lock.packages).filter(([location, entry]) => location !== '' && !entry.link);
const EXACT_VERSION = /^\d+\.\d+\.\d+$/;

describe('supply chain: pinned, verified, no install scripts', () => {
  it('pins every direct dependency to an exact version', () => {
    const declared = { ...manifest.dependencies, ...manifest.devDependencies };
    assert.ok(Object.keys(declared).length > 0);
    const loose = Object.entries(declared).filter(([, version]) => !EXACT_VERSION.test(version));
    assert.deepEqual(loose, [], 'use exact versions (save-exact=true)');
  });

  it('locks every package with sha512 integrity from the npm registry over HTTPS', () => {
    assert.equal(lock.lockfileVersion, 3);
    assert.ok(installed.length > 0);
    for (const [location, entry] of installed) {
      assert.match(entry.integrity ?? '', /^sha512-/, `${location} has no sha512 integrity`);
      assert.match(entry.resolved ?? '', /^https:\/\/registry\.npmjs\.org\//, `${location} is not from the npm registry`);
      assert.match(entry.version ?? '', EXACT_VERSION, `${location} has no exact version`);
    }
  });

  it('locks no package that runs an install script', () => {
    const withScripts = installed.filter(([, entry]) => entry.hasInstallScript).map(([location]) => location);
    assert.deepEqual(withScripts, [], 'a dependency wants to run code at install time');
  });

  it('locks exactly what package.json declares', () => {
    const root = lock.packages[''] as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    assert.deepEqual(root.dependencies ?? {}, manifest.dependencies ?? {});
    assert.deepEqual(root.devDependencies ?? {}, manifest.devDependencies ?? {});
  });

  it('configures npm for exact saves, no scripts and strict engines', () => {
    const settings = new Map(
      read('.npmrc')
        .split('\n')
        .filter((line) => line.trim() && !line.trim().startsWith('#'))
        .map((line) => line.split('=').map((part) => part.trim()) as [string, string]),
    );
    assert.equal(settings.get('save-exact'), 'true');
    assert.equal(settings.get('ignore-scripts'), 'true');
    assert.equal(settings.get('engine-strict'), 'true');
    assert.match(manifest.engines?.node ?? '', /^>=24\./);
  });

  it('runs the audit and lockfile checks in CI, and keeps dependencies updated', () => {
    const workflow = read('.github/workflows/ci.yml');
    for (const step of ['npm ci --ignore-scripts', 'npm run lint:lockfile', 'npm audit --audit-level=high', 'npm audit signatures', 'npm test']) {
      assert.ok(workflow.includes(step), `CI does not run: ${step}`);
    }
    assert.match(read('.github/dependabot.yml'), /package-ecosystem: npm/);
  });
});
