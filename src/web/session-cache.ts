import { createHash } from 'node:crypto';
import { Client } from 'pg';
import type { Logger } from 'pino';
import type { CurrentUser } from '../users/queries';

/** Where a changed session (md5 of its id) or a change to the employees (`*`) is announced: see the session_change_notifications migration. */
export const SESSION_CHANNEL = 'kontakte_sessions';

/** Whatever else happens, an entry is read from the database again after this long. */
const MAX_AGE_MS = 60_000;
const MAX_ENTRIES = 10_000;
const RECONNECT_MS = { first: 500, max: 30_000 };

/** A session as the store read it, with its employee (null: none active). */
export interface CachedSession {
  /** The stored JSON: every request gets a fresh object of its own to change. */
  json: string;
  employee: CurrentUser | null;
  /** When the session expires (ms): the store's own read asks for unexpired sessions only. */
  expires: number;
}

type Entry = CachedSession & { readAt: number };

const keyOf = (sid: string) => createHash('md5').update(sid).digest('hex');

/**
 * Every request read its session and employee from PostgreSQL: a round trip
 * that cost as much as the rest of the request's database work on a small
 * machine. This keeps what the store read, per instance, and forgets it as
 * soon as any instance changes that session or any employee: PostgreSQL
 * announces each change (LISTEN/NOTIFY, the session_change_notifications
 * migration) on a connection of its own.
 *
 * Nothing is served from memory unless that connection is listening: when it
 * drops, everything is forgotten and reads go to the database until it
 * listens again. A read that raced an announcement is not kept (`ticket`).
 * Another instance's change reaches this one within the time PostgreSQL
 * takes to deliver a notification (well under a millisecond on one machine);
 * SESSION_CACHE=false turns the cache off for those who want none at all.
 */
export class SessionCache {
  private readonly entries = new Map<string, Entry>();
  /** Counts announcements (and outages): a read keeps its result only if none came while it ran. */
  private generation = 0;
  private listening = false;
  private client: Client | undefined;
  private stopped = false;
  private retryMs = RECONNECT_MS.first;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly waiters = new Map<string, () => void>();

  constructor(
    private readonly connectionString: string,
    private readonly logger?: Logger,
  ) {}

  /** Starts listening; resolves once it listens (or has failed once and keeps trying in the background). */
  async start(): Promise<void> {
    await this.listen();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.drop();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  /** The session, if this instance read it and nothing announced a change since. */
  read(sid: string): CachedSession | undefined {
    if (!this.listening) return undefined;
    const key = keyOf(sid);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const now = Date.now();
    if (entry.expires < now || now - entry.readAt > MAX_AGE_MS) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Taken before reading from the database; undefined while not listening (then nothing is kept). */
  ticket(): number | undefined {
    return this.listening ? this.generation : undefined;
  }

  /** Keeps what a read found, unless a change was announced (or the connection dropped) while it ran. */
  keep(sid: string, ticket: number | undefined, session: CachedSession): void {
    if (ticket === undefined || ticket !== this.generation || !this.listening) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(keyOf(sid), { ...session, readAt: Date.now() });
  }

  /** This instance is changing or ending the session: its next read goes to the database. */
  forget(sid: string): void {
    this.entries.delete(keyOf(sid));
  }

  /**
   * Resolves once every change committed before the call has been heard:
   * announcements arrive in commit order, so hearing one of our own sent now
   * means all earlier ones were handled. For tests that change sessions in SQL.
   */
  async settled(): Promise<void> {
    if (!this.listening || !this.client) return;
    const token = `sync:${process.pid}:${Math.random().toString(36).slice(2)}`;
    const heard = new Promise<void>((resolve) => this.waiters.set(token, resolve));
    await this.client.query('select pg_notify($1, $2)', [SESSION_CHANNEL, token]);
    await heard;
  }

  get isListening(): boolean {
    return this.listening;
  }

  private drop(): void {
    this.listening = false;
    this.generation += 1;
    this.entries.clear();
    for (const resolve of this.waiters.values()) resolve();
    this.waiters.clear();
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.connectionString, application_name: 'kontakte-session-cache' });
    this.client = client;
    client.on('notification', (message) => {
      if (message.channel !== SESSION_CHANNEL) return;
      const payload = message.payload ?? '*';
      const waiter = this.waiters.get(payload);
      if (waiter) {
        this.waiters.delete(payload);
        return waiter();
      }
      this.generation += 1;
      if (payload === '*') this.entries.clear();
      else this.entries.delete(payload);
    });
    const lost = (error?: Error) => {
      if (this.client !== client) return;
      this.client = undefined;
      this.drop();
      if (this.stopped) return;
      this.logger?.warn({ err: error }, 'session cache: lost its connection, reading sessions from the database until it is back');
      client.end().catch(() => undefined);
      this.retry();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      await client.query(`listen ${SESSION_CHANNEL}`);
      if (this.client !== client) return;
      // Whatever was announced before listening is unknown: start empty.
      this.drop();
      this.listening = true;
      this.retryMs = RECONNECT_MS.first;
    } catch (error) {
      lost(error as Error);
    }
  }

  private retry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.listen(), this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MS.max);
  }
}
