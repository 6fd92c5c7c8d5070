// The Events, Profiles and Sessions pages' script (no inline scripts: the pages send a strict
// CSP). Buttons marked data-expand unfold the row they control (an event's properties) and say
// so through aria-expanded. Delegated from the document, so rows htmx swaps in work too.
(function () {
  "use strict";

  function toggle(button) {
    var row = document.getElementById(button.getAttribute("aria-controls") || "");
    if (!row) return;
    var open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", open ? "false" : "true");
    row.hidden = open;
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    var button = target && target.closest ? target.closest("[data-expand]") : null;
    if (button) toggle(button);
  });
})();
