// The dashboard's own script (no inline scripts: the pages send a strict CSP). It draws the
// Plotly figures the server built (world maps read their shapes from this server, not a CDN),
// preselects the browser's timezone, copies snippets, and runs the Realtime page's live event
// stream (EventSource): every message is rendered with textContent, never as HTML.
(function () {
  "use strict";

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  // Elements matching `selector` in `root`, the root included (htmx loads each swapped element).
  function within(root, selector) {
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) found.unshift(root);
    return found;
  }

  function drawCharts(root) {
    if (!window.Plotly) return;
    within(root, "[data-figure]:not([data-drawn])").forEach(function (el) {
      var figure = JSON.parse(el.getAttribute("data-figure"));
      var layout = figure.layout || {};
      var grid = cssVar("--border");
      layout.font = Object.assign({}, layout.font, { color: cssVar("--muted") });
      layout.xaxis = Object.assign({}, layout.xaxis, { gridcolor: grid, linecolor: grid });
      layout.yaxis = Object.assign({}, layout.yaxis, { gridcolor: grid, linecolor: grid });
      if (layout.geo) {
        layout.geo = Object.assign({}, layout.geo, {
          landcolor: cssVar("--surface-2"),
          countrycolor: grid,
          coastlinecolor: grid,
          showocean: false,
        });
      }
      el.setAttribute("data-drawn", "");
      window.Plotly.newPlot(el, figure.data, layout, {
        displayModeBar: false,
        responsive: true,
        topojsonURL: "/static/",
      });
    });
  }

  function browserTimezone(root) {
    var tz = "";
    try {
      tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (err) {
      return;
    }
    root.querySelectorAll("select[data-browser-timezone]").forEach(function (select) {
      var found = Array.prototype.some.call(select.options, function (option) {
        return option.value === tz;
      });
      if (found) select.value = tz;
    });
  }

  function copyText(button, text) {
    var done = function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    }
  }

  function copyButtons(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var target = document.getElementById(button.getAttribute("data-copy"));
        if (target) copyText(button, target.textContent);
      });
    });
  }

  function closeMenus(event) {
    document.querySelectorAll("details.dropdown[open], details.switcher[open]").forEach(function (d) {
      if (!d.contains(event.target)) d.removeAttribute("open");
    });
  }

  // -- the live event stream / SDK debugger (Realtime) -------------------------------------------
  var MAX_STREAM_ITEMS = 300;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clock(iso) {
    var when = new Date(iso);
    return isNaN(when.getTime()) ? "" : when.toLocaleTimeString();
  }

  function pretty(raw) {
    if (typeof raw !== "string") return JSON.stringify(raw, null, 2);
    try {
      return JSON.stringify(JSON.parse(raw), null, 2);
    } catch (err) {
      return raw;
    }
  }

  function streamItem(msg) {
    var accepted = msg.type === "event";
    var item = el("li", "stream-item " + (accepted ? "accepted" : "rejected"));
    item.setAttribute("data-name", msg.name || "");
    var details = el("details");
    var summary = el("summary");
    var time = el("time", "muted small", msg.clock || clock(msg.time));
    time.setAttribute("datetime", msg.time || "");
    summary.appendChild(time);
    var label = accepted ? "accepted" : "refused " + (msg.status || "");
    summary.appendChild(el("span", "badge " + (accepted ? "ok" : "bad"), label));
    summary.appendChild(el("strong", "stream-name", msg.name || "(no event name)"));
    summary.appendChild(el("span", accepted ? "stream-path" : "stream-reason", accepted ? msg.path : msg.reason));
    if (accepted) summary.appendChild(el("span", "muted small", [msg.place, msg.client].filter(Boolean).join(" · ")));
    details.appendChild(summary);
    details.appendChild(el("pre", "stream-raw", pretty(msg.raw)));
    item.appendChild(details);
    return item;
  }

  function liveStream(root) {
    within(root, "[data-stream]:not([data-connected])").forEach(function (panel) {
      panel.setAttribute("data-connected", "");
      var list = panel.querySelector("[data-stream-list]");
      var empty = panel.querySelector("[data-stream-empty]");
      var status = panel.querySelector("[data-stream-status]");
      var filter = panel.querySelector("[data-stream-filter]");
      var pause = panel.querySelector("[data-stream-pause]");
      var heldNote = panel.querySelector("[data-stream-held]");
      var counts = { event: 0, rejected: 0 };
      var held = [];
      var paused = false;

      function setStatus(state, text) {
        status.setAttribute("data-state", state);
        status.textContent = text;
      }
      function matches(item) {
        var wanted = filter.value.trim().toLowerCase();
        return !wanted || (item.getAttribute("data-name") || "").toLowerCase().indexOf(wanted) !== -1;
      }
      function show(msg) {
        var item = streamItem(msg);
        item.hidden = !matches(item);
        list.insertBefore(item, list.firstChild);
        while (list.children.length > MAX_STREAM_ITEMS) list.removeChild(list.lastChild);
        empty.hidden = list.children.length > 0;
      }
      function count(type) {
        counts[type] += 1;
        var node = panel.querySelector('[data-stream-count="' + type + '"]');
        if (node) node.textContent = String(counts[type]);
      }
      function showHeld() {
        heldNote.hidden = held.length === 0;
        panel.querySelector("[data-stream-held-count]").textContent = String(held.length);
      }

      var source = new EventSource(panel.getAttribute("data-stream"));
      source.onopen = function () { setStatus("live", "Live"); };
      source.onerror = function () { setStatus("error", "Reconnecting…"); };
      source.onmessage = function (event) {
        var msg;
        try {
          msg = JSON.parse(event.data);
        } catch (err) {
          return;
        }
        if (msg.type === "hello") {
          setStatus("live", "Live");
          return;
        }
        if (msg.type !== "event" && msg.type !== "rejected") return;
        count(msg.type);
        if (msg.type === "event") document.body.dispatchEvent(new Event("oplive"));
        if (paused) {
          held.push(msg);
          showHeld();
          return;
        }
        show(msg);
      };
      window.addEventListener("pagehide", function () { source.close(); });

      pause.addEventListener("click", function () {
        paused = !paused;
        pause.setAttribute("aria-pressed", paused ? "true" : "false");
        pause.textContent = paused ? "Resume" : "Pause";
        if (!paused) {
          held.forEach(show);
          held = [];
          showHeld();
        }
      });
      panel.querySelector("[data-stream-clear]").addEventListener("click", function () {
        list.textContent = "";
        held = [];
        showHeld();
        empty.hidden = false;
      });
      filter.addEventListener("input", function () {
        Array.prototype.forEach.call(list.children, function (item) {
          item.hidden = !matches(item);
        });
      });
    });
  }

  function init(root) {
    drawCharts(root);
    browserTimezone(root);
    copyButtons(root);
    liveStream(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    document.addEventListener("click", closeMenus);
  });
  document.addEventListener("htmx:load", function (event) {
    if (event.target !== document.body) init(event.target);
  });
})();
