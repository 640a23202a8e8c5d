/**
 * Markup built in TypeScript, for snippets printed once per row (an avatar, an
 * assignment label) where an EJS include would copy every local per call.
 * `html` escapes each value it interpolates exactly as `<%= %>` does; only Html
 * itself passes through, so views print the result with `<%- %>`.
 */
export class Html {
  constructor(private readonly markup: string) {}

  toString(): string {
    return this.markup;
  }
}

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };
const special = /[&<>"']/;

/**
 * What `<%= %>` prints (the entities of EJS's own escapeXML). Most values (names,
 * cities, ids) hold nothing to escape: a test finds that out at half the cost
 * of a replace, and a page of the list escapes some 600 values.
 */
export function escapeHtml(value: unknown): string {
  const text = String(value);
  return special.test(text) ? text.replace(/[&<>"']/g, (c) => entities[c]) : text;
}

/** EJS's escape function (the `escape` view option): null and undefined print nothing. */
export function escapeForView(value: unknown): string {
  return value === undefined || value === null ? '' : escapeHtml(value);
}

function print(value: unknown): string {
  if (value instanceof Html) return value.toString();
  if (Array.isArray(value)) return value.map(print).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(value);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let markup = strings[0];
  for (let i = 0; i < values.length; i++) markup += print(values[i]) + strings[i + 1];
  return new Html(markup);
}

/**
 * An e-mail address that may wrap where a reader expects it, after "@" and
 * dots (<wbr>), rather than in the middle of a word ("exam|ple") or not at all.
 */
export function breakableEmail(email: string): Html {
  return new Html(escapeHtml(email).replace(/([@.])/g, '$1<wbr>'));
}
