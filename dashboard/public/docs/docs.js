// The API docs page (/api/v1/docs): Swagger UI over the Worker's own OpenAPI document. A file,
// not an inline script, so the page's CSP can forbid inline script.
// Deferred after the bundle, so SwaggerUIBundle is defined when this runs.
(() => {
  window.SwaggerUIBundle({ url: "/api/v1/openapi.json", dom_id: "#docs", deepLinking: true });
})();
