/**
 * Keyset pagination of docs/api.md: `?limit=` (default 50, max 200) and an opaque `?cursor=` naming
 * the last row seen by its sort key, so pages stay stable while rows are added.
 */
import { z } from "zod";
import { fromBase64, toBase64Url, utf8 } from "../crypto/encoding";
import { BadRequestError } from "../errors";

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The position after a row, ordered by (created_at desc, id desc) or any similar pair. */
export interface Position {
  at: string;
  id: string;
}

const PositionSchema = z.object({ at: z.string(), id: z.string() });

export function encodeCursor(position: Position): string {
  return toBase64Url(utf8(JSON.stringify(position)));
}

export function decodeCursor(cursor: string | undefined): Position | null {
  if (!cursor) return null;
  try {
    return PositionSchema.parse(JSON.parse(new TextDecoder().decode(fromBase64(cursor))));
  } catch {
    throw new BadRequestError("Invalid cursor", [{ path: "query.cursor", message: "not a cursor this API issued" }]);
  }
}

/** Fetch `limit + 1` rows, then cut: the extra row tells whether another page exists. */
export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  position: (row: Row) => Position,
  view: (row: Row) => Item,
): Page<Item> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items: items.map(view),
    nextCursor: rows.length > limit && last ? encodeCursor(position(last)) : null,
  };
}
