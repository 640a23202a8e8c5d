/**
 * The floor under a scenario's figures: a bare node:http server, run by
 * bench/run.ts as a child process, that answers every request with nothing but
 * the SQL the route runs (prepared, on as many connections with the same
 * planner settings as the app's list reads) and the rows as JSON. No session,
 * no middleware, no rendering. Loaded like the app, it shows what this machine
 * gives at 16 connections for the scenario's SQL alone: the app's p99 cannot
 * go below it, and the gap between the two is what the app's own work costs.
 *
 *   node --import tsx bench/floor.ts '{"databaseUrl":"…","statements":[{"sql":"…","bindings":[…]}]}'
 *
 * Prints `FLOOR <url>` once it listens; stops on SIGTERM.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { LIST_READ_CONNECTIONS, listReadOptions, statementName, type ListPlanning } from '../src/db/knex';

export interface FloorOptions {
  databaseUrl: string;
  /** The route's statements (page, and a count or the full page's frame if it runs them beside it), run side by side as the route does. */
  statements: { sql: string; bindings: unknown[]; planning: ListPlanning }[];
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]) as FloorOptions;
  // Each statement planned as the app plans it: a pool per way of planning, as many connections as the app's list reads.
  const pools = new Map<ListPlanning, Pool>();
  for (const { planning } of options.statements) {
    if (!pools.has(planning)) pools.set(planning, new Pool({ connectionString: options.databaseUrl, max: LIST_READ_CONNECTIONS, options: listReadOptions[planning] }));
  }
  const statements = options.statements.map((s) => ({
    pool: pools.get(s.planning)!,
    query: { name: statementName(s.sql), text: s.sql, values: s.bindings },
  }));
  const server = http.createServer((_req, res) => {
    Promise.all(statements.map((s) => s.pool.query(s.query))).then(
      (results) => {
        const body = JSON.stringify(results.map((r) => r.rows));
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      },
      (error: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(error instanceof Error ? error.message : String(error));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`FLOOR http://127.0.0.1:${(server.address() as AddressInfo).port}/\n`);
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => void Promise.all([...pools.values()].map((pool) => pool.end())).then(() => process.exit(0)));
  });
}

main().catch((error) => {
  console.error('floor server:', error instanceof Error ? error.message : error);
  process.exit(1);
});
