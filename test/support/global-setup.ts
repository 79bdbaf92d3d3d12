import type { TestProject } from 'vitest/node';
import { startKinesalite } from '../../src/testing/kinesalite.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `http://127.0.0.1:PORT` of the kinesalite that the whole test run shares. */
    kinesaliteEndpoint: string;
  }
}

/**
 * Starts one in-memory kinesalite for the whole run, on 127.0.0.1, with no stream transition
 * delays. Tests read its endpoint with `inject('kinesaliteEndpoint')` and use their own stream
 * names (see `uniqueStreamName`), so they never see each other's records.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const kinesalite = await startKinesalite();
  project.provide('kinesaliteEndpoint', kinesalite.endpoint);
  return () => kinesalite.close();
}
