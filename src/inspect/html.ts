// HTML built from templates whose every interpolated value is escaped, unless it is markup built
// the same way: a transcript can hold anything a caller said ("<script>" included). (The tag is not
// called `html`, so that Prettier leaves the templates' whitespace alone: a transcript keeps its own.)

/** Markup that is safe as it is: only `markup` makes it. */
export class Markup {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text as HTML, in an element or in a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

type Value = Markup | string | number | boolean | null | undefined | readonly Value[];

function render(value: Value): string {
  if (value instanceof Markup) return value.html;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false || value === true) return '';
  return escapeHtml(String(value));
}

/** A template of HTML: strings and numbers are escaped, arrays joined, booleans and nothing left out. */
export function markup(strings: TemplateStringsArray, ...values: Value[]): Markup {
  let html = strings[0]!;
  values.forEach((value, i) => {
    html += render(value) + strings[i + 1]!;
  });
  return new Markup(html);
}
