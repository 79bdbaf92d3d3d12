import type http from 'node:http';
import type { Socket } from 'node:net';
import { listen } from './server-support.js';

/**
 * Outages of a server: starting one closes the listening socket, so that new connections are
 * refused, and drops every open connection with any request in it; ending one listens again on the
 * same port. Changes apply one after another, in the order asked.
 */
export class OutageSwitch {
  readonly #server: http.Server;
  readonly #port: number;
  readonly #host: string;
  readonly #sockets = new Set<Socket>();
  readonly #started: () => void;
  #down = false;
  #change: Promise<void> = Promise.resolve();
  #closed = false;

  /** `started` is called as each outage starts. */
  constructor(server: http.Server, port: number, host: string, started: () => void) {
    this.#server = server;
    this.#port = port;
    this.#host = host;
    this.#started = started;
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /** True while an outage refuses connections. */
  get down(): boolean {
    return this.#down;
  }

  /** Starts (`true`) or ends (`false`) an outage; resolves once it has happened. Rejects once the server is closed. */
  set(down: boolean): Promise<void> {
    const change = this.#change.then(() => this.#apply(down));
    this.#change = change.catch(() => undefined);
    return change;
  }

  /**
   * Refuses changes from now on, waits for the one under way, then stops listening (unless down) and
   * drops every connection. Resolves once the server has stopped listening.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#change;
    const stopped = this.#down ? Promise.resolve() : new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#dropConnections();
    await stopped;
  }

  async #apply(down: boolean): Promise<void> {
    if (this.#closed) throw new Error('LocalKinesis is closed');
    if (down === this.#down) return;
    if (down) {
      this.#down = true;
      this.#started();
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.#dropConnections();
      await closed;
    } else {
      await listen(this.#server, this.#port, this.#host);
      this.#down = false;
    }
  }

  #dropConnections(): void {
    for (const socket of this.#sockets) socket.destroy();
  }
}
