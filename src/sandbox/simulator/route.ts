import type { z } from 'zod';
import { errors } from './api-error';
import { formatPageToken, isUuid, parsePageToken } from './clock';

/** What a route handler sees, and what it returns: plain data, so handlers stay free of express. */

export interface RouteContext {
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body; throws 400 INVALID_JSON_BODY when it is missing or malformed. */
  json(): unknown;
}

export interface Reply {
  status: number;
  body: unknown;
}

export interface RouteDef {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  handler: (ctx: RouteContext) => Reply;
}

export const ok = (body: unknown): Reply => ({ status: 200, body });

/** The `{id}` path parameter, lower-cased; 400 INVALID_ID when it is not a uuid. */
export function idParam(ctx: RouteContext): string {
  const id = ctx.params['id'];
  if (!isUuid(id)) throw errors.invalidId();
  return id.toLowerCase();
}

/**
 * The body, checked against a schema. Like Go's BindJSON, a body that is not a JSON object, or
 * whose fields have the wrong JSON types, is 400 INVALID_JSON_BODY.
 */
export function parseBody<T extends z.ZodType>(ctx: RouteContext, schema: T): z.infer<T> {
  const raw = ctx.json();
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw errors.invalidJson();
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw errors.invalidJson();
  return parsed.data;
}

/**
 * A list page (API-NOTES §9): newest first, `tm_create < page_token`, page_size 1..100 (0 or more
 * than 100 means 100), next_page_token the last item's tm_create, '' for an empty page.
 */
export function listPage<T>(
  ctx: RouteContext,
  items: T[],
  createdMicros: (item: T) => number,
  toJson: (item: T) => unknown,
): Reply {
  const sizeText = ctx.query.get('page_size');
  let size = 100;
  if (sizeText !== null && sizeText !== '') {
    const n = Number(sizeText);
    if (!Number.isInteger(n) || n < 0) throw errors.invalidParameter('The page_size parameter is invalid.');
    if (n > 0 && n <= 100) size = n;
  }
  const token = ctx.query.get('page_token') ?? '';
  let before = Number.POSITIVE_INFINITY;
  if (token !== '') {
    const micros = parsePageToken(token);
    if (micros === undefined) throw errors.invalidParameter('The page_token parameter is invalid.');
    before = micros;
  }
  const page = items
    .filter((item) => createdMicros(item) < before)
    .sort((a, b) => createdMicros(b) - createdMicros(a))
    .slice(0, size);
  const last = page[page.length - 1];
  return ok({
    result: page.map(toJson),
    next_page_token: last === undefined ? '' : formatPageToken(createdMicros(last)),
  });
}
