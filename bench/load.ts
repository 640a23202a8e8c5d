/**
 * The load generator, run by bench/run.ts as a child process so that it never
 * shares the app server's process (or event loop). Uses wrk when it is installed
 * (Debian package `wrk`): written in C, it takes a fraction of the CPU autocannon
 * needs, and on a 2-core machine every millisecond the load generator spends is
 * taken from the app and PostgreSQL, which the clerks' own PCs never do.
 * Otherwise (or with BENCH_LOAD=autocannon) it drives autocannon programmatically
 * and takes every response time itself: autocannon's own histogram rounds to
 * whole milliseconds, too coarse for queries of a few ms.
 * Phases: warm-up at full load (not recorded); `serialRequests` requests (at
 * most `serialMaxS` seconds) one at a time on one connection: the latency without
 * queueing; then `durationS` seconds at full load; then, if `rate` is set,
 * `durationS` seconds of an open loop at that many requests per second (atRate).
 *
 *   node --import tsx bench/load.ts '{"url":"…","headers":{…},"connections":16,"durationS":5,"warmupS":1,"serialRequests":200,"serialMaxS":2,"rate":100}'
 *
 * Prints one line of JSON (LoadResult) on stdout.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  headers: Record<string, string>;
  connections: number;
  durationS: number;
  warmupS: number;
  /** Before the load: this many requests one after another on one connection (the latency without queueing)… */
  serialRequests: number;
  /** …or as many as fit in this many seconds, whichever comes first. */
  serialMaxS: number;
  /** After the closed loop: `durationS` seconds of an open loop at this many requests per second (0: none). */
  rate: number;
}

export interface Latency {
  p50: number;
  p99: number;
}

export interface LoadResult {
  /** Which load generator measured: wrk or autocannon. */
  generator: string;
  /** Responses in all phases (warm-up included): what the server's CPU time is divided by. */
  allRequests: number;
  /** The serial requests: one connection, one request at a time. */
  serial: Latency & { requests: number };
  requests: number;
  reqPerSec: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** The first few distinct socket errors, if any. */
  errorSamples: string[];
  /** The open loop: requests sent at a fixed rate, each timed from when it was due (see atRate). */
  atRate?: RateResult;
}

export interface RateResult extends Latency {
  /** Requests per second offered, and answered (lower when the server falls behind). */
  offered: number;
  answered: number;
  requests: number;
  max: number;
  /** Answers that were not 2xx, and errors. */
  failed: number;
}

const errorSamples = new Set<string>();

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function fire(
  options: LoadOptions,
  run: { connections: number; durationS: number; maxRequests?: number },
  record?: (status: number, ms: number) => void,
): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        headers: options.headers,
        connections: run.connections,
        duration: run.durationS,
        ...(run.maxRequests ? { maxOverallRequests: run.maxRequests } : {}),
        timeout: 10,
      },
      (error: unknown, result: autocannon.Result) => (error ? reject(error) : resolve(result)),
    );
    // autocannon emits (client, status, bytes, ms); its type declarations leave out the client.
    const onResponse = (_client: unknown, status: number, _bytes: number, ms: number) => record?.(status, ms);
    if (record) instance.on('response', onResponse as never);
    instance.on('reqError', (error: NodeJS.ErrnoException) => {
      if (errorSamples.size < 5) errorSamples.add(`${error.code ?? ''} ${error.message}`.trim());
    });
  });
}

async function withAutocannon(options: LoadOptions): Promise<LoadResult> {
  const statusCodes: Record<string, number> = {};
  const count = (status: number) => (statusCodes[status] = (statusCodes[status] ?? 0) + 1);
  let allRequests = 0;
  if (options.warmupS > 0) await fire(options, { connections: options.connections, durationS: options.warmupS }, () => allRequests++);
  const serial: number[] = [];
  const serialResult = await fire(options, { connections: 1, durationS: options.serialMaxS, maxRequests: options.serialRequests }, (status, ms) => {
    count(status);
    if (status >= 200 && status < 300) serial.push(ms);
  });
  serial.sort((a, b) => a - b);
  const times: number[] = [];
  const started = performance.now();
  const result = await fire(options, { connections: options.connections, durationS: options.durationS }, (status, ms) => {
    count(status);
    if (status >= 200 && status < 300) times.push(ms);
  });
  const elapsedS = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  allRequests += serial.length + times.length;
  return {
    generator: 'autocannon',
    allRequests,
    serial: { requests: serial.length, p50: percentile(serial, 50), p99: percentile(serial, 99) },
    requests: times.length,
    reqPerSec: Math.round((times.length / elapsedS) * 10) / 10,
    p50: percentile(times, 50),
    p90: percentile(times, 90),
    p99: percentile(times, 99),
    max: times[times.length - 1] ?? NaN,
    mean: times.reduce((a, b) => a + b, 0) / (times.length || 1),
    non2xx: result.non2xx + serialResult.non2xx,
    errors: result.errors + serialResult.errors,
    timeouts: result.timeouts + serialResult.timeouts,
    statusCodes,
    errorSamples: [...errorSamples],
  };
}

// ---------------------------------------------------------------- wrk

function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk --version prints its version and exits 1; only a missing binary is ENOENT.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** Counts answers that are not 2xx (wrk itself counts only 4xx/5xx) and prints one JSON line when done. */
const wrkScript = `
local threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function() non2xx = 0 end
response = function(status) if status < 200 or status > 299 then non2xx = non2xx + 1 end end
done = function(summary, latency)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("non2xx") end
  local e = summary.errors
  io.write(string.format('WRK {"requests":%d,"durationUs":%d,"non2xx":%d,"errors":%d,"timeouts":%d,"p50":%.3f,"p90":%.3f,"p99":%.3f,"max":%.3f,"mean":%.3f}\\n',
    summary.requests, summary.duration, bad, e.connect + e.read + e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000))
end
`;

interface WrkRun {
  requests: number;
  durationUs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

function wrk(options: LoadOptions, script: string, connections: number, durationS: number): Promise<WrkRun> {
  const args = ['-t1', `-c${connections}`, `-d${durationS}s`, '--timeout', '10s', '-s', script];
  for (const [name, value] of Object.entries(options.headers)) args.push('-H', `${name}: ${value}`);
  args.push(options.url);
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = output.split('\n').find((l) => l.startsWith('WRK '));
      if (code !== 0 || !line) return reject(new Error(`wrk exited with ${code}:\n${output}`));
      resolve(JSON.parse(line.slice(4)) as WrkRun);
    });
  });
}

async function withWrk(options: LoadOptions): Promise<LoadResult> {
  const script = path.join(mkdtempSync(path.join(os.tmpdir(), 'kontakte-wrk-')), 'count.lua');
  writeFileSync(script, wrkScript);
  const warmup = options.warmupS > 0 ? await wrk(options, script, options.connections, options.warmupS) : undefined;
  const serial = await wrk(options, script, 1, options.serialMaxS);
  const load = await wrk(options, script, options.connections, options.durationS);
  const runs = [warmup, serial, load].filter((r): r is WrkRun => Boolean(r));
  return {
    generator: 'wrk',
    allRequests: runs.reduce((sum, r) => sum + r.requests, 0),
    serial: { requests: serial.requests, p50: serial.p50, p99: serial.p99 },
    requests: load.requests,
    reqPerSec: Math.round((load.requests / (load.durationUs / 1e6)) * 10) / 10,
    p50: load.p50,
    p90: load.p90,
    p99: load.p99,
    max: load.max,
    mean: load.mean,
    non2xx: serial.non2xx + load.non2xx,
    errors: serial.errors + load.errors,
    timeouts: serial.timeouts + load.timeouts,
    statusCodes: {},
    errorSamples: [],
  };
}

// ---------------------------------------------------------------- open loop

/**
 * An office does not send its next request the moment the last answer came, as wrk's 16
 * connections do; clerks send them when they type, whether or not the server is busy. This
 * sends `rate` requests per second, each at its due time, on at most `connections` kept-alive
 * sockets (a request due while all are busy waits for one), and times each answer from when
 * the request was due, not from when a socket was free: a server that falls behind shows it
 * in every later answer's time (no "coordinated omission").
 */
async function atRate(options: LoadOptions): Promise<RateResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const total = Math.round(options.rate * options.durationS);
  const times: number[] = [];
  let failed = 0;
  const started = performance.now();
  const sendOne = (due: number) =>
    new Promise<void>((resolve) => {
      // Counted once: as answered (its time), or as failed (an error status, an error, an answer cut off).
      let counted = false;
      const count = (ok: boolean) => {
        if (counted) return;
        counted = true;
        if (ok) times.push(performance.now() - due);
        else failed++;
        resolve();
      };
      const request = http.get(options.url, { agent, headers: options.headers }, (response) => {
        response.resume();
        response.on('end', () => count(response.statusCode! >= 200 && response.statusCode! < 300));
        response.on('close', () => count(false));
      });
      // As wrk and autocannon do: an answer that does not come within 10 s is a failure, not a hang.
      request.setTimeout(10_000, () => request.destroy(Object.assign(new Error('no answer within 10 s'), { code: 'ETIMEDOUT' })));
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (errorSamples.size < 5) errorSamples.add(`${error.code ?? ''} ${error.message}`.trim());
        count(false);
      });
    });
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / options.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(sendOne(due));
  }
  await Promise.all(pending);
  const elapsedS = (performance.now() - started) / 1000;
  agent.destroy();
  times.sort((a, b) => a - b);
  return {
    offered: options.rate,
    answered: Math.round((times.length / elapsedS) * 10) / 10,
    requests: times.length,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    max: times[times.length - 1] ?? NaN,
    failed,
  };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]) as LoadOptions;
  const result = process.env.BENCH_LOAD !== 'autocannon' && hasWrk() ? await withWrk(options) : await withAutocannon(options);
  if (options.rate > 0) {
    result.atRate = await atRate(options);
    result.allRequests += result.atRate.requests + result.atRate.failed;
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
