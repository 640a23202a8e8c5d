/**
 * The load generator, run by bench/run.ts as a child process so that it never
 * shares the app server's process (or event loop). Drives autocannon
 * programmatically and takes every response time itself: autocannon's own
 * histogram rounds to whole milliseconds, too coarse for queries of a few ms.
 * Phases: warm-up at full load (not recorded); `serialRequests` requests (at
 * most `serialMaxS` seconds) one at a time on one connection: the latency without
 * queueing; then `durationS` seconds at full load.
 *
 *   node --import tsx bench/load.ts '{"url":"…","headers":{…},"connections":16,"durationS":5,"warmupS":1,"serialRequests":200,"serialMaxS":2}'
 *
 * Prints one line of JSON (LoadResult) on stdout.
 */
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
}

export interface Latency {
  p50: number;
  p99: number;
}

export interface LoadResult {
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

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]) as LoadOptions;
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
  const out: LoadResult = {
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
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
