// The live alarm badge on every staff page for roles that handle alarms: polls the count of unacknowledged
// alarms in the user's area every 3 s, turns red, and beeps when a new one arrives (common.js's ccBeep).
(function () {
  "use strict";
  var badge = document.getElementById("alarm-badge");
  if (!badge || !window.fetch) return;
  var last = null;
  function render(data) {
    var n = data.waiting || 0;
    badge.querySelector(".count").textContent = n;
    badge.querySelector(".label").textContent = badge.dataset.label;
    badge.classList.toggle("d-none", n === 0);
    badge.classList.toggle("btn-danger", n > 0);
    badge.classList.toggle("btn-outline-light", n === 0);
    badge.classList.toggle("blink", (data.critical || 0) > 0);
    if (last !== null && n > last && window.ccBeep) window.ccBeep();
    last = n;
  }
  function poll() {
    fetch(badge.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) render(data); })
      .catch(function () {})
      .then(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
