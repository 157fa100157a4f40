/**
 * The layering of src (docs/architecture.md), checked by dependency-cruiser in `npm run lint`:
 * no import circle anywhere in src, dashboard and cli, and no import from a layer to one above it,
 * `import type` included. Layers are listed ground first; a file belongs to the first layer whose
 * pattern matches it.
 */
const LAYERS = [
  ["settings", "^src/(config|env)\\.ts$"],
  ["observability", "^src/observability/"],
  ["errors", "^src/errors\\.ts$"],
  ["language", "^src/(engine|crypto|net)/"],
  ["db", "^src/db/"],
  ["identity", "^src/(auth|audit|secrets|logs)/"],
  ["libraries", "^src/(agents|backup|middleware|notifications)/"],
  ["steps", "^src/steps/"],
  ["queue-protocol", "^src/queues/"],
  ["object-core", "^src/durable-objects/execution/"],
  ["services", "^src/services/"],
  ["roots", "^src/(durable-objects/[^/]+\\.ts|consumers/|cron/|mcp/)"],
  ["routes", "^src/routes/"],
  ["app", "^src/app\\.ts$"],
  ["entry", "^src/(index|client|api-types)\\.ts$"],
];

const union = (layers) => layers.map(([, path]) => `(${path})`).join("|");

/** Layer i may not import a file of any later layer; a file is in the first layer that matches it. */
const upward = LAYERS.slice(0, -1).map(([name, path], index) => ({
  name: `${name}-imports-upward`,
  comment: `the ${name} layer may import only itself and the layers below it (docs/architecture.md)`,
  severity: "error",
  from: { path, ...(index > 0 ? { pathNot: union(LAYERS.slice(0, index)) } : {}) },
  to: { path: union(LAYERS.slice(index + 1)), pathNot: union(LAYERS.slice(0, index + 1)) },
}));

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "files that import each other in a loop cannot be read, loaded or changed one at a time",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "not-in-a-layer",
      comment: "every file of src belongs to a layer of docs/architecture.md",
      severity: "error",
      from: { path: "^src/", pathNot: union(LAYERS) },
      to: {},
    },
    ...upward,
  ],
  options: {
    // TypeScript 7 has no compiler API for the cruiser; SWC reads the imports, type-only ones too.
    parser: "swc",
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)dist/|\\.d\\.ts$" },
    enhancedResolveOptions: { extensions: [".ts", ".tsx", ".js", ".json"] },
  },
};
