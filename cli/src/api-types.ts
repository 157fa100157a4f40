/**
 * The API's wire types, inferred from the route schemas that openapi.json is generated from
 * (src/api-types.ts, emitted to dist/types by `npm run build:client-types`): the CLI compiles
 * against them, so a route's schema change reaches its typecheck.
 */
export type * from "../../dist/types/src/api-types.d.ts";
