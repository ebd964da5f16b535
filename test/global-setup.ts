/**
 * Vitest global setup: provides the URL of a PostgreSQL maintenance database to
 * the tests, either from TEST_DATABASE_URL or from an embedded server that
 * lives for the duration of the test run.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../src/db/embedded.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the maintenance database "postgres", used to create and drop test databases. */
    adminDatabaseUrl: string;
  }
}

/** Starts the test server (unless TEST_DATABASE_URL is set) and returns its teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const externalUrl = process.env.TEST_DATABASE_URL;
  if (externalUrl) {
    project.provide('adminDatabaseUrl', externalUrl);
    return async () => {};
  }

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'wijkmunt-test-pg-'));
  // mkdtemp creates the folder 0700; when running as root this lets the
  // postgres user keep the cluster inside it instead of relocating it.
  await chmod(dataDir, 0o755);
  const server = await startEmbeddedPostgres({
    dataDir,
    // Durability is pointless for throw-away data and costs time.
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
  });
  project.provide('adminDatabaseUrl', server.url);

  return async () => {
    await server.stop();
    // The cluster may have been relocated out of dataDir, so remove both.
    await rm(server.clusterDir, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  };
}
