import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OutageSwitch } from '../../src/testing/outage-switch.js';
import { listen } from '../../src/testing/server-support.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((_request, response) => response.end('ok'));
  servers.push(server);
  await listen(server, 0, '127.0.0.1');
  return { server, port: (server.address() as AddressInfo).port };
}

function get(port: number): Promise<string> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(String(response.statusCode)));
    });
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

describe('OutageSwitch', () => {
  it('refuses connections while down and listens on the same port again after, counting each outage', async () => {
    const { server, port } = await serve();
    let outages = 0;
    const outage = new OutageSwitch(server, port, '127.0.0.1', () => outages++);
    expect(await get(port)).toBe('200');
    await outage.set(true);
    await outage.set(true);
    expect(outage.down).toBe(true);
    expect(await get(port)).toBe('ECONNREFUSED');
    await outage.set(false);
    expect(outage.down).toBe(false);
    expect(await get(port)).toBe('200');
    expect(outages).toBe(1);
    await outage.close();
  });

  it('drops open connections when an outage starts', async () => {
    const hanging = http.createServer(() => undefined);
    servers.push(hanging);
    await listen(hanging, 0, '127.0.0.1');
    const port = (hanging.address() as AddressInfo).port;
    const outage = new OutageSwitch(hanging, port, '127.0.0.1', () => undefined);
    const answer = get(port);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await outage.set(true);
    expect(await answer).toBe('ECONNRESET');
    await outage.close();
  });

  it('refuses changes once closed', async () => {
    const { server, port } = await serve();
    const outage = new OutageSwitch(server, port, '127.0.0.1', () => undefined);
    await outage.close();
    expect(server.listening).toBe(false);
    await expect(outage.set(true)).rejects.toThrow('LocalKinesis is closed');
  });
});
