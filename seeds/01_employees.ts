import type { Knex } from 'knex';
import { hashPassword } from '../src/users/passwords';
import { DEMO_LOGIN } from '../src/db/start';

/** Demo employees; all share the demo password. Runs only on an empty database. */
export async function seed(knex: Knex): Promise<void> {
  const passwordHash = await hashPassword(DEMO_LOGIN.password);
  await knex('users').insert([
    { name: 'Anna Admin', email: DEMO_LOGIN.email, role: 'admin', password_hash: passwordHash },
    { name: 'Max Müller', email: 'max.mueller@kontakte.example', role: 'member', password_hash: passwordHash },
    { name: 'Sabine Schröder', email: 'sabine.schroeder@kontakte.example', role: 'member', password_hash: passwordHash },
    { name: 'Jürgen Weiß', email: 'juergen.weiss@kontakte.example', role: 'member', password_hash: passwordHash },
    { name: 'Emily Clarke', email: 'emily.clarke@kontakte.example', role: 'member', language: 'en', password_hash: passwordHash },
  ]);
}
