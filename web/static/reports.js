// Reports, dashboards and share pages (no inline scripts: the pages send a strict CSP).
// dashboard.js draws every [data-figure]; this file points plotly.js at the world map served
// by the appliance (no CDN), lets htmx show the builder's 400 answers (a report that cannot
// run) and asks before a form marked data-confirm deletes something.
(function () {
  "use strict";

  if (window.Plotly && window.Plotly.setPlotConfig) {
    window.Plotly.setPlotConfig({ topojsonURL: "/static/" });
  }

  if (window.htmx && window.htmx.config) {
    window.htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "400", swap: true },
      { code: "[45]..", swap: false, error: true }
    ];
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);
})();
