import type { AddressInfo } from 'node:net';

/** A kinesalite server running in this process, in memory, on 127.0.0.1. */
export interface RunningKinesalite {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** The TCP port it listens on. */
  readonly port: number;
  /** Stops listening, drops open connections and frees the in-memory store. */
  close(): Promise<void>;
}

/** Options of {@link startKinesalite}. */
export interface KinesaliteStartOptions {
  /** Port to listen on; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Milliseconds new streams stay CREATING, deleted ones DELETING, resharded ones UPDATING. @default 0 */
  readonly transitionMs?: number;
  /** Most shards the server holds over all streams. @default 10000 */
  readonly shardLimit?: number;
}

/**
 * Starts kinesalite in this process, storing in memory and listening on 127.0.0.1 only.
 *
 * kinesalite is imported here, on first use, so that an application that only produces records
 * never loads it.
 */
export async function startKinesalite(options: KinesaliteStartOptions = {}): Promise<RunningKinesalite> {
  const { default: kinesalite } = await import('kinesalite');
  const transitionMs = options.transitionMs ?? 0;
  const server = kinesalite({
    createStreamMs: transitionMs,
    deleteStreamMs: transitionMs,
    updateStreamMs: transitionMs,
    shardLimit: options.shardLimit ?? 10_000,
  });
  // Clients keep connections idle for a while; a short server timeout races their next request.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error?: Error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets would hold close() open until their clients let go.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
