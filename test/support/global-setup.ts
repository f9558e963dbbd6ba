import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { aptGetInstall, canInstallWithAptGet, ensurePrerequisites, testPrerequisites } from './prerequisites.js';

let database: EmbeddedDatabase | undefined;
let dataDir: string | undefined;

/**
 * Before any test: the Debian packages the tests use (installed here when possible), then one database server
 * for the whole run: MONGODB_URI when given (real MongoDB), otherwise an embedded FerretDB (built once if needed)
 * on a temporary directory. Test files each use their own database on it.
 */
export async function setup(): Promise<void> {
  ensurePrerequisites({ prerequisites: testPrerequisites, canInstall: canInstallWithAptGet(), install: aptGetInstall, report: (line) => process.stderr.write(`${line}\n`) });
  if (process.env.MONGODB_URI) {
    process.env.TEST_MONGODB_URI = process.env.MONGODB_URI;
    return;
  }
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'gateway-test-db-'));
  database = await startEmbeddedDatabase({ dataDir, dbName: 'test' });
  process.env.TEST_MONGODB_URI = database.uri;
}

export async function teardown(): Promise<void> {
  await database?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}
