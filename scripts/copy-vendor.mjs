// Copies browser assets from node_modules into public/ so the app serves them
// itself (intranet: no CDN). Runs on every install.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = [['node_modules/htmx.org/dist/htmx.min.js', 'public/vendor/htmx.min.js']];

for (const [from, to] of files) {
  mkdirSync(dirname(join(root, to)), { recursive: true });
  copyFileSync(join(root, from), join(root, to));
}
