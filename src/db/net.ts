import path from 'node:path';
import net from 'node:net';

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The app talks to its embedded PostgreSQL through a Unix socket in the data
 * folder (private to its owner): a query's round trip there costs half of one
 * over TCP on 127.0.0.1, in time and in CPU on both sides, and a list request
 * makes two to five. It listens on TCP as well (for psql and other tools); a
 * socket path longer than the system allows (108 bytes on Linux) or no sockets
 * at all (Windows) leaves TCP only.
 */
export function socketDirFor(dataDir: string, port: number): string | undefined {
  if (process.platform === 'win32') return undefined;
  const dir = path.resolve(dataDir);
  return Buffer.byteLength(`${dir}/.s.PGSQL.${port}`) < 108 && !/[\s,'"\\]/.test(dir) ? dir : undefined;
}
