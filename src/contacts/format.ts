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
