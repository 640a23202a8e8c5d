import { html, Html } from '../web/html';

/** How a contact is named and pictured in lists, headers and messages. */
export interface Nameable {
  first_name: string | null;
  last_name: string | null;
  company: string | null;
}

export function displayName(c: Nameable): string {
  const person = [c.first_name, c.last_name].filter(Boolean).join(' ');
  return person || c.company || '–';
}

export function initials(c: Nameable): string {
  const source = c.last_name ? [c.first_name, c.last_name] : (c.company ?? '').split(/\s+/).slice(0, 2);
  const letters = source.filter(Boolean).map((part) => Array.from(part as string)[0]);
  return (letters.join('') || '?').toUpperCase().slice(0, 2);
}

/**
 * A colour class derived from the name, so a contact keeps its colour
 * everywhere. Eight classes in app.css, each with enough contrast for white text.
 */
export function avatarColour(c: Nameable): number {
  let hash = 0;
  for (const ch of displayName(c)) hash = (hash * 31 + ch.codePointAt(0)!) >>> 0;
  return hash % 8;
}

export interface Pictured extends Nameable {
  id: string | number;
  picture_updated_at: Date | string | null;
}

/**
 * The contact's picture, or its initials on the name's colour: 32 px in lists,
 * 96 px (`large`, with `alt`) in the master data header. The `?v=` changes with
 * every upload, so the picture can be cached for good.
 */
export function avatar(basePath: string, contact: Pictured, { large = false, alt = '' }: { large?: boolean; alt?: string } = {}): Html {
  const size = large ? ' avatar-large' : '';
  if (contact.picture_updated_at) {
    const src = `${basePath}/contacts/${contact.id}/picture?v=${new Date(contact.picture_updated_at).getTime()}`;
    const px = large ? 96 : 32;
    return html`<img class="avatar${size}" src="${src}" alt="${alt}" width="${px}" height="${px}"${large ? '' : new Html(' loading="lazy"')}>`;
  }
  return html`<span class="avatar avatar-c${avatarColour(contact)}${size}" aria-hidden="true">${initials(contact)}</span>`;
}
