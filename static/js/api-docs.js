// Renders the API description at /api/v1/docs with the vendored Swagger UI
// (static/vendor/swagger-ui). Kept out of the page so that it runs under a CSP without
// inline scripts; the description's address comes from the page's data-spec attribute.
(function () {
  "use strict";
  var target = document.getElementById("swagger-ui");
  if (!target || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: target.getAttribute("data-spec"),
    domNode: target,
    deepLinking: true,
    tryItOutEnabled: false,
  });
})();
