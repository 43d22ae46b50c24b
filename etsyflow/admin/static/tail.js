// Live tail of recent events: asks the console for newer events every few seconds
// and adds them on top of the table. No framework; the page works without it.
(function () {
  "use strict";
  var table = document.getElementById("events");
  if (!table || !window.fetch) { return; }
  var body = table.tBodies[0];
  var status = document.getElementById("tail-status");
  var filter = new URLSearchParams(window.location.search);
  var EVERY_MS = 3000, KEEP = 200;

  function newest() {
    var row = body.rows[0];
    return row ? row.getAttribute("data-id") : "";
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "-" : String(text);
    row.appendChild(td);
  }

  function poll() {
    var params = new URLSearchParams();
    if (filter.get("type")) { params.set("type", filter.get("type")); }
    if (filter.get("shop")) { params.set("shop", filter.get("shop")); }
    if (newest()) { params.set("after", newest()); }
    fetch(table.getAttribute("data-source") + "?" + params.toString(), {credentials: "same-origin"})
      .then(function (response) {
        if (response.status === 401) { status.textContent = "Signed out: reload the page to sign in."; return null; }
        return response.json();
      })
      .then(function (data) {
        if (!data) { return; }
        var events = data.events.slice().reverse();  // oldest first, each goes on top
        events.forEach(function (e) {
          var row = document.createElement("tr");
          row.setAttribute("data-id", e.id);
          [e.time, e.type, e.shop_id, e.direction, e.source, e.reason || ""].forEach(function (v) { cell(row, v); });
          body.insertBefore(row, body.firstChild);
        });
        while (body.rows.length > KEEP) { body.deleteRow(body.rows.length - 1); }
        status.textContent = "Live: last checked " + new Date().toLocaleTimeString() +
          (events.length ? " (" + events.length + " new)" : "");
        window.setTimeout(poll, EVERY_MS);
      })
      .catch(function () {
        status.textContent = "Live tail paused (console unreachable); retrying.";
        window.setTimeout(poll, EVERY_MS * 3);
      });
  }
  window.setTimeout(poll, EVERY_MS);
}());
