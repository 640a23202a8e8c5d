import type { Knex } from 'knex';
import { migrationConfig, seedConfig } from './src/db/knex';

/** For the knex CLI (`npm run migrate`): needs DATABASE_URL; the app itself migrates at start-up. */
const config: Knex.Config = {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  migrations: migrationConfig,
  seeds: seedConfig,
};

export default config;
