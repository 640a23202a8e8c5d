import type { Knex } from 'knex';

/**
 * Demo number circles. Both start at 1: demo contacts seeded later with K- numbers
 * are skipped by the allocation, so "Nummer erzeugen" still gives a free number.
 */
export async function seed(knex: Knex): Promise<void> {
  await knex('number_circles').insert([
    { name: 'Kundennummern', prefix: 'K-', digits: 5, next_value: 1, target: 'contacts', is_default: true },
    { name: 'Gruppennummern', prefix: 'G-', digits: 3, next_value: 1, target: 'groups', is_default: true },
  ]);
}
