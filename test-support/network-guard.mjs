// Loaded into every Node test process (vitest's node workers through setupFiles, and every child process they
// spawn through NODE_OPTIONS): a TCP connection to anything but loopback throws before a packet leaves, so no
// test can reach the real ECS link-local address, AWS, or any other host by accident.
import net from 'node:net';

/** True for destinations tests may use: loopback names and addresses, and Unix sockets. */
export function isLoopbackDestination(host) {
  if (host === undefined || host === null || host === '') return true; // Node's default is localhost
  const h = String(host)
    .replace(/^\[|\]$/g, '')
    .toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

function destination(args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0]; // net.connect passes normalised [options, cb]
  if (first !== null && typeof first === 'object') return first.path ? undefined : first.host;
  if (typeof first === 'number' || /^\d+$/.test(String(first)))
    return typeof args[1] === 'string' ? args[1] : undefined;
  return undefined; // a Unix socket path
}

const original = net.Socket.prototype.connect;
if (!original.__ecsIdentityGuard) {
  const guarded = function connect(...args) {
    const host = destination(args);
    if (!isLoopbackDestination(host)) {
      throw new Error(`test network guard: tests may only connect to loopback, not to ${host}`);
    }
    return original.apply(this, args);
  };
  guarded.__ecsIdentityGuard = true;
  net.Socket.prototype.connect = guarded;
}
