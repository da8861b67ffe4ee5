"""The open front of the API: an index at /api/v1/ and interactive docs at /api/v1/docs.

Neither holds data, so neither needs a key: the index lists the resources and where
to read about them; the docs page is Swagger UI, served from the ``swagger-ui-bundle``
package (no CDN). The schema itself stays behind a key like every other route: the
page asks for one, keeps it in the browser tab (sessionStorage) and sends it as
``Authorization: Bearer`` with the schema request and with every "Try it out".
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from bounceback.web.security_headers import CONTENT_SECURITY_POLICY

PREFIX = "/api/v1"
_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>bounceback API docs</title>
<link rel="stylesheet" href="{prefix}/docs/assets/swagger-ui.css">
<link rel="stylesheet" href="{prefix}/docs/page.css">
<link rel="icon" type="image/png" href="{prefix}/docs/assets/favicon-32x32.png">
</head>
<body>
<form id="bb-key" class="bb-key">
  <label for="bb-key-input">API key</label>
  <input id="bb-key-input" type="password" autocomplete="off" size="50"
         placeholder="bounceback apikeys create NAME">
  <button type="submit">Load the API</button>
  <span id="bb-key-status" role="status"></span>
  <p>The schema and every operation need a key (<code>Authorization: Bearer &lt;key&gt;</code>);
  it stays in this browser tab. Writes need an admin key.</p>
</form>
<div id="swagger-ui"></div>
<script src="{prefix}/docs/assets/swagger-ui-bundle.js"></script>
<script src="{prefix}/docs/page.js"></script>
</body>
</html>
"""
_CSS = """.bb-key { font: 14px sans-serif; margin: 16px auto; max-width: 1420px; padding: 0 20px; }
.bb-key input { font: inherit; padding: 4px; }
.bb-key p { color: #555; }
#bb-key-status { margin-left: 8px; }
"""
# An external script, not inline: the page works under a Content-Security-Policy of 'self'.
_JS = """(function () {
  var prefix = "%(prefix)s";
  var form = document.getElementById("bb-key");
  var input = document.getElementById("bb-key-input");
  var status = document.getElementById("bb-key-status");
  function load(key) {
    status.textContent = "loading...";
    fetch(prefix + "/openapi.json", {headers: {Authorization: "Bearer " + key}})
      .then(function (r) {
        return r.json().then(function (body) { return {ok: r.ok, body: body}; });
      })
      .then(function (answer) {
        if (!answer.ok) {
          status.textContent = answer.body.error || "the key was refused";
          sessionStorage.removeItem("bounceback-api-key");
          return;
        }
        sessionStorage.setItem("bounceback-api-key", key);
        status.textContent = "loaded";
        var spec = answer.body;
        spec.servers = [{url: prefix}];  // the paths are relative to the API's mount
        SwaggerUIBundle({
          spec: spec,
          dom_id: "#swagger-ui",
          deepLinking: true,
          requestInterceptor: function (req) {
            if (!req.headers.Authorization) { req.headers.Authorization = "Bearer " + key; }
            return req;
          }
        });
      })
      .catch(function (e) { status.textContent = "could not load the schema: " + e; });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (input.value.trim()) { load(input.value.trim()); }
  });
  var kept = sessionStorage.getItem("bounceback-api-key");
  if (kept) { load(kept); }
})();
"""


DOCS_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


def install(app: FastAPI, api: FastAPI) -> None:
    """Add the index and the docs to ``app``; call before ``api`` is mounted at PREFIX."""
    from swagger_ui_bundle import swagger_ui_path

    index: dict[str, Any] = {}

    def api_index() -> JSONResponse:
        if not index:
            index.update(describe(api.openapi()))
        return JSONResponse(index)

    for path in (PREFIX, PREFIX + "/"):
        app.add_api_route(path, api_index, methods=["GET"], include_in_schema=False)

    def docs_page() -> HTMLResponse:
        # Swagger UI sets style attributes as it renders: this page alone allows them
        # (its scripts still come from this server only).
        return HTMLResponse(
            _HTML.format(prefix=PREFIX), headers={"Content-Security-Policy": DOCS_POLICY}
        )

    def docs_js() -> Response:
        return Response(_JS % {"prefix": PREFIX}, media_type="text/javascript")

    def docs_css() -> Response:
        return Response(_CSS, media_type="text/css")

    app.add_api_route(PREFIX + "/docs", docs_page, methods=["GET"], include_in_schema=False)
    app.add_api_route(PREFIX + "/docs/page.js", docs_js, methods=["GET"], include_in_schema=False)
    app.add_api_route(PREFIX + "/docs/page.css", docs_css, methods=["GET"], include_in_schema=False)
    app.mount(PREFIX + "/docs/assets", StaticFiles(directory=swagger_ui_path), name="api-docs")


def describe(schema: dict[str, Any]) -> dict[str, Any]:
    """The index: each resource (first path segment) with its operations and links."""
    operations: dict[str, list[dict[str, str]]] = defaultdict(list)
    for path, methods in schema.get("paths", {}).items():
        resource = path.strip("/").split("/", 1)[0].removesuffix(".csv")
        for method, operation in methods.items():
            operations[resource].append(
                {
                    "method": method.upper(),
                    "path": PREFIX + path,
                    "summary": str(operation.get("summary", "")),
                }
            )
    return {
        "name": schema.get("info", {}).get("title", "bounceback API"),
        "version": schema.get("info", {}).get("version", "1"),
        "authentication": (
            "every resource needs Authorization: Bearer <key> "
            "(bounceback apikeys create NAME [--scope admin]); writes need an admin key"
        ),
        "docs": PREFIX + "/docs",
        "openapi": PREFIX + "/openapi.json",
        "errors": '{"error": "<message>", "status": <code>}',
        "resources": [
            {"name": name, "href": f"{PREFIX}/{name}", "operations": found}
            for name, found in operations.items()
        ],
    }
