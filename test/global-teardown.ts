import { Client } from 'pg';

export default async function globalTeardown(): Promise<void> {
  const adminUrl = process.env.KONTAKTE_TEST_ADMIN_URL;
  const template = process.env.KONTAKTE_TEST_TEMPLATE;
  if (adminUrl && template) {
    const client = new Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(`drop database if exists ${template}`);
    await client.end();
  }
  await globalThis.__kontakteEmbedded?.stop();
}
