/**
 * Tags and metadata on executions (docs/api.md "Tags and metadata"): given at the start, stored
 * with the row, and filtered on by the executions list, each filter answered by a GIN index.
 */
import { arrayContains, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { executions } from "../db/schema";

export const MAX_TAGS = 20;
export const MAX_TAG_LENGTH = 64;
export const MAX_METADATA_KEYS = 20;
export const MAX_METADATA_KEY_LENGTH = 64;
export const MAX_METADATA_VALUE_LENGTH = 256;
/** Metadata keys: what `meta.<key>=<value>` can name in a query string. */
export const METADATA_KEY_PATTERN = /^[A-Za-z0-9_-]+$/;

/** A start's labels and priority as every way of starting takes them (the API's body, an MCP call's `_meta`). */
export const TagSchema = z.string().min(1).max(MAX_TAG_LENGTH);
export const TagsSchema = z.array(TagSchema).max(MAX_TAGS);
export const MetadataKeySchema = z
  .string()
  .min(1)
  .max(MAX_METADATA_KEY_LENGTH)
  .regex(METADATA_KEY_PATTERN, "metadata keys are letters, digits, _ and -");
export const MetadataSchema = z
  .record(MetadataKeySchema, z.string().max(MAX_METADATA_VALUE_LENGTH))
  .refine((value) => Object.keys(value).length <= MAX_METADATA_KEYS, `at most ${MAX_METADATA_KEYS} keys`);
export const MIN_PRIORITY = -100;
export const MAX_PRIORITY = 100;
export const PrioritySchema = z.number().int().min(MIN_PRIORITY).max(MAX_PRIORITY);

export interface ExecutionLabels {
  tags: string[];
  metadata: Record<string, string>;
}

export const NO_LABELS: ExecutionLabels = { tags: [], metadata: {} };

/** The columns a start writes: tags without repeats, metadata, and the terms `q` finds them by. */
export function labelColumns(labels: ExecutionLabels) {
  const tags = [...new Set(labels.tags)];
  return { tags, metadata: labels.metadata, searchTerms: [...new Set([...tags, ...Object.values(labels.metadata)])] };
}

export interface LabelFilters {
  /** Every one must be among the execution's tags. */
  tags?: string[];
  /** Every key must have exactly that value. */
  metadata?: Record<string, string>;
  /** An id prefix, a tag or a metadata value. */
  q?: string;
}

/** The conditions of `filters` (undefined: no condition). */
export function labelConditions(filters: LabelFilters): SQL | undefined {
  const conditions: SQL[] = [];
  if (filters.tags?.length) conditions.push(arrayContains(executions.tags, filters.tags));
  if (filters.metadata && Object.keys(filters.metadata).length > 0)
    conditions.push(sql`${executions.metadata} @> ${JSON.stringify(filters.metadata)}::jsonb`);
  if (filters.q) conditions.push(queryCondition(filters.q));
  return conditions.length > 0 ? sql.join(conditions, sql` and `) : undefined;
}

/** `q`: a tag or metadata value (GIN on search_terms), or, when it can be one, an id prefix (a range of the primary key). */
function queryCondition(q: string): SQL {
  const term = arrayContains(executions.searchTerms, [q]);
  const range = idRangeOf(q);
  if (!range) return term;
  return sql`(${term} or ${executions.id} between ${range[0]}::uuid and ${range[1]}::uuid)`;
}

/** The smallest and largest UUIDs starting with `prefix` (hex digits, dashes where a UUID has them). */
export function idRangeOf(prefix: string): [string, string] | null {
  const hex = prefix.toLowerCase().replaceAll("-", "");
  if (!/^[0-9a-f]{1,32}$/.test(hex) || !/^[0-9a-f-]+$/i.test(prefix)) return null;
  const format = (digits: string) =>
    `${digits.slice(0, 8)}-${digits.slice(8, 12)}-${digits.slice(12, 16)}-${digits.slice(16, 20)}-${digits.slice(20)}`;
  return [format(hex.padEnd(32, "0")), format(hex.padEnd(32, "f"))];
}
