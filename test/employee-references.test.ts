import { useTestDatabase } from './db';
import { createUser } from './helpers';
import { createContact } from './factories';

const t = useTestDatabase();

/** The error PostgreSQL raised, or undefined. */
async function failure(work: () => Promise<unknown>): Promise<{ code?: string; message: string } | undefined> {
  try {
    await work();
    return undefined;
  } catch (error) {
    return error as { code?: string; message: string };
  }
}

describe('the employees named by contacts and their history', () => {
  it('must exist: a statement naming one who does not is refused as a whole', async () => {
    const max = await createUser(t.db);
    const a = await createContact(t.db, { last_name: 'A' });
    const b = await createContact(t.db, { last_name: 'B' });
    const nobody = String(Number(max.id) + 1000);

    const history = await failure(() =>
      t.db('contact_events').insert([
        { contact_id: a, actor_id: max.id, kind: 'note', payload: '{}' },
        { contact_id: b, actor_id: nobody, kind: 'note', payload: '{}' },
      ]),
    );
    expect(history?.code).toBe('23503');
    expect(history?.message).toContain(`contact_events.actor_id: there is no employee ${nobody}`);
    expect(await t.db('contact_events').where({ kind: 'note' })).toHaveLength(0);

    const edit = await failure(() => t.db('contacts').whereIn('id', [a, b]).update({ updated_by: t.db.raw('case when id = ? then ?::bigint else ?::bigint end', [a, max.id, nobody]) }));
    expect(edit?.code).toBe('23503');
    expect(edit?.message).toContain(`contacts.updated_by: there is no employee ${nobody}`);
    expect(await t.db('contacts').whereNotNull('updated_by')).toHaveLength(0);

    const created = await failure(() => t.db('contacts').insert({ last_name: 'C', created_by: nobody }));
    expect(created?.code).toBe('23503');
    expect(created?.message).toContain(`contacts.created_by: there is no employee ${nobody}`);

    await t.db('contact_events').insert({ contact_id: a, actor_id: max.id, kind: 'note', payload: '{}' });
    await t.db('contacts').where({ id: b }).update({ updated_by: max.id });
  });

  it('are deactivated, never deleted', async () => {
    const max = await createUser(t.db);
    const unused = await createUser(t.db);
    const contact = await createContact(t.db, { created_by: max.id });
    const refused = await failure(() => t.db('users').whereIn('id', [max.id, unused.id]).delete());
    expect(refused).toMatchObject({ code: '23001' });
    expect(await t.db('users').whereIn('id', [max.id, unused.id])).toHaveLength(2);
    expect(await t.db('contacts').where({ id: contact, created_by: max.id })).toHaveLength(1);
  });
});
