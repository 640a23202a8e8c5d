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

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => entities[c]);
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
