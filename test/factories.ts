import type { Db } from '../src/db/knex';

let counter = 0;

/** A contact straight in the database, with its "created" event, for tests that need one to exist. */
export async function createContact(
  db: Db,
  fields: Partial<{
    first_name: string | null;
    last_name: string | null;
    company: string | null;
    email: string | null;
    customer_number: string | null;
    status: 'inbox' | 'prospect' | 'customer' | 'archived';
    previous_status: 'prospect' | 'customer' | null;
    city: string | null;
    postal_code: string | null;
    country: string;
    created_at: string;
    created_by: string;
  }> = {},
): Promise<string> {
  counter += 1;
  const [row] = await db('contacts')
    .insert({ first_name: 'Testperson', last_name: `Nummer${counter}`, status: 'prospect', ...fields, updated_by: fields.created_by })
    .returning('id');
  await db('contact_events').insert({ contact_id: row.id, actor_id: fields.created_by ?? null, kind: 'created', payload: JSON.stringify({}) });
  return String(row.id);
}
