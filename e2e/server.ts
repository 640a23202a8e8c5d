import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../src/db/net';

export interface AppServer {
  url: string;
  pid: number;
  /** How it ended (exit code or signal), null while it runs. */
  exitCode: () => number | string | null;
  stop: () => Promise<void>;
}

/**
 * Starts `src/server.ts` as `npm start` would, as a child process on a free
 * port, with `env` on top of this process's environment; resolves with the URL
 * it prints. Used by the browser test and the benchmark.
 */
export async function startServer(env: NodeJS.ProcessEnv, { echo = false }: { echo?: boolean } = {}): Promise<AppServer> {
  const port = await freePort();
  // With the Node flags of `npm start` (package.json): the benchmark measures the app as it runs.
  const child = spawn(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', 'src/server.ts'], {
    cwd: path.resolve(__dirname, '..'),
    env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the app server did not start within 90 s:\n${output}`)), 90_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/läuft auf (http\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1].replace(/\/$/, ''));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the app server exited with ${code}:\n${output}`));
    });
  });
  if (echo) child.stdout!.on('data', (chunk: Buffer) => process.stdout.write(`  [server] ${chunk}`));
  return {
    url,
    pid: child.pid!,
    exitCode: () => child.exitCode ?? child.signalCode,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 15_000)))]);
      // Left running, the timer alone kept every caller alive for another 15 s.
      clearTimeout(timer);
      if (code === 'timeout') child.kill('SIGKILL');
    },
  };
}
