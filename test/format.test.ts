import { avatarColour, displayName, initials, type Nameable } from '../src/contacts/format';

/**
 * displayName, initials and avatarColour run for every row of the list and are
 * written for speed; these are the plain versions they replaced, which they
 * must match exactly: a contact keeps its name, initials and colour.
 */
const plain = {
  displayName: (c: Nameable) => [c.first_name, c.last_name].filter(Boolean).join(' ') || c.company || '–',
  initials(c: Nameable) {
    const source = c.last_name ? [c.first_name, c.last_name] : (c.company ?? '').split(/\s+/).slice(0, 2);
    const letters = source.filter(Boolean).map((part) => Array.from(part as string)[0]);
    return (letters.join('') || '?').toUpperCase().slice(0, 2);
  },
  avatarColour(c: Nameable) {
    let hash = 0;
    for (const ch of plain.displayName(c)) hash = (hash * 31 + ch.codePointAt(0)!) >>> 0;
    return hash % 8;
  },
};

const words = [null, '', 'Jörg', 'Übermann', 'ßtraße', '😀Smile', 'Łukasik', '𝔘nicode', '\ud800lone', 'Anna Maria', ' Lücke'];
const companies = [null, '', 'Apotheke Bauer e.K.', '  Zwei  Leer', '😀 GmbH', 'Ein', 'Drei Wort Firma', '\udc00x y'];

describe('list row names', () => {
  it('match the plain versions for every combination of tricky names', () => {
    let checked = 0;
    for (const first_name of words) {
      for (const last_name of words) {
        for (const company of companies) {
          const c = { first_name, last_name, company };
          expect([displayName(c), initials(c), avatarColour(c)]).toEqual([plain.displayName(c), plain.initials(c), plain.avatarColour(c)]);
          checked += 1;
        }
      }
    }
    expect(checked).toBe(words.length ** 2 * companies.length);
  });
});
