import { connect } from 'node:net';
import { expect, it } from 'vitest';
import { startAws, startConsul, startEcsAgent, startTaskEmulators, startZts } from '../src/index.js';

/** Whether something listens on the emulator's port (a refused connection means it was stopped). */
function listening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

it('every emulator stops at the end of an `await using` block', async () => {
  const urls: string[] = [];
  {
    await using aws = await startAws();
    await using consul = await startConsul();
    await using agent = await startEcsAgent();
    await using zts = await startZts({ providers: [], domains: [] });
    urls.push(aws.url, consul.url, agent.url, zts.url);
    for (const url of urls) expect(await listening(url), url).toBe(true);
  }
  for (const url of urls) expect(await listening(url), url).toBe(false);
});

it('a whole task deployment stops at the end of an `await using` block', async () => {
  let urls: string[];
  {
    await using world = await startTaskEmulators();
    urls = [world.aws.url, world.agent.url, world.consul.url, world.zts.url];
    for (const url of urls) expect(await listening(url), url).toBe(true);
  }
  for (const url of urls) expect(await listening(url), url).toBe(false);
});
