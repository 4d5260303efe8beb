// lakeml studio: live status by polling the studio's JSON routes. Pages work without it (reload).
(function () {
  "use strict";
  var PERIOD_MS = 1000;

  function cell(row, text, cls) {
    var td = document.createElement("td");
    if (cls) {
      var span = document.createElement("span");
      span.className = cls;
      span.textContent = text;
      td.appendChild(span);
    } else {
      td.textContent = text == null ? "" : text;
    }
    row.appendChild(td);
    return td;
  }

  function poll(url, period, onData) {
    var stopped = false;
    function tick() {
      if (stopped) return;
      fetch(url, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (doc) { if (onData(doc) === false) stopped = true; })
        .catch(function () {})
        .then(function () { if (!stopped) setTimeout(tick, period); });
    }
    setTimeout(tick, period);
  }

  // Pipelines: the executions list.
  var executions = document.getElementById("executions");
  if (executions) {
    poll(executions.dataset.poll, PERIOD_MS, function (doc) {
      var body = executions.tBodies[0];
      if (!doc.executions.length) return;
      body.textContent = "";
      doc.executions.forEach(function (e) {
        var tr = document.createElement("tr");
        tr.dataset.execution = e.execution_id;
        var link = document.createElement("a");
        link.href = "/pipelines/executions/" + e.execution_id;
        link.textContent = e.execution_id;
        cell(tr, "").appendChild(link);
        cell(tr, e.pipeline);
        cell(tr, e.status, "status status-" + e.status);
        cell(tr, e.steps_done + "/" + e.steps_total);
        cell(tr, (e.started_at || "").slice(0, 19).replace("T", " "));
        cell(tr, e.registered ? e.registered.group + " v" + e.registered.version : (e.failure_reason || ""));
        body.appendChild(tr);
      });
    });
  }

  // An execution: step status, and the graph redrawn when it changes.
  var steps = document.getElementById("steps");
  if (steps && steps.dataset.terminal !== "true") {
    var graph = document.getElementById("graph");
    var last = "";
    poll(steps.dataset.poll, PERIOD_MS, function (doc) {
      var status = document.getElementById("execution-status");
      status.textContent = doc.status;
      status.className = "status status-" + doc.status;
      var signature = doc.status + "|" + doc.steps.map(function (s) { return s.name + ":" + s.status; }).join(",");
      if (signature === last) return !doc.terminal;
      last = signature;
      var body = steps.tBodies[0];
      body.textContent = "";
      doc.steps.forEach(function (s) {
        var tr = document.createElement("tr");
        tr.dataset.step = s.name;
        var link = document.createElement("a");
        link.href = location.pathname.replace(/\/$/, "") + "/steps/" + encodeURIComponent(s.name);
        link.textContent = s.name;
        cell(tr, "").appendChild(link);
        cell(tr, s.type);
        cell(tr, s.status, "status status-" + s.status);
        cell(tr, s.seconds == null ? "" : s.seconds.toFixed(1));
        cell(tr, s.cache_hit ? "hit" : "");
        cell(tr, s.failure_reason || "");
        body.appendChild(tr);
      });
      if (graph) graph.src = graph.src.split("?")[0] + "?at=" + Date.now();
      if (doc.terminal) {
        // Reload once at the end: the page then shows the outcome, registration and failure in full.
        setTimeout(function () { location.reload(); }, 300);
        return false;
      }
      return true;
    });
  }

  // The endpoint: request counts and latency from the running endpoint's /stats.
  var stats = document.getElementById("traffic");
  if (stats) {
    poll(document.getElementById("stats").dataset.poll, 2 * PERIOD_MS, function (doc) {
      if (!doc.stats || doc.stats.error) return;
      var body = stats.tBodies[0];
      body.textContent = "";
      doc.stats.variants.forEach(function (v) {
        var tr = document.createElement("tr");
        tr.dataset.variant = v.variant;
        var ms = v.recent.latency_ms;
        cell(tr, v.variant);
        cell(tr, v.model_version || "");
        cell(tr, v.recent.requests).className = "requests";
        cell(tr, v.recent.errors);
        cell(tr, ms.p50 == null ? "–" : ms.p50.toFixed(3));
        cell(tr, ms.p99 == null ? "–" : ms.p99.toFixed(3));
        cell(tr, v.requests);
        body.appendChild(tr);
      });
    });
  }
})();
