import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const publicDir = path.resolve(__dirname, '..', '..', 'public');
export const viewsDir = path.resolve(__dirname, '..', '..', 'views');

/**
 * Asset URLs carry a content hash, so browsers keep them for a year and still
 * fetch a new version the moment it changes.
 */
export function assetUrls(basePath: string): (file: string) => string {
  const cache = new Map<string, string>();
  return (file) => {
    let url = cache.get(file);
    if (!url) {
      const hash = createHash('sha256').update(readFileSync(path.join(publicDir, file))).digest('hex').slice(0, 10);
      url = `${basePath}/static/${file}?v=${hash}`;
      cache.set(file, url);
    }
    return url;
  };
}
