// Live alarm queue. Plain JavaScript, no framework, no network beyond this server.
// Rows come from the WebSocket /ws/alarms/ ({"type": "snapshot"|"changes", "alarms": [...]}).
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("cc-config").textContent);
  var T = cfg.t;
  var RANK = { critical: 0, high: 1, medium: 2, low: 3 };
  var skew = cfg.serverNow - Date.now();          // server clock minus browser clock, for the waiting times
  var rows = {};                                   // id -> alarm row
  var els = {};                                    // id -> <tr>
  var firstSeen = {};                              // id -> Date.now() when this page first got the row
  var tbody = document.getElementById("cc-rows");
  var conn = document.getElementById("cc-conn");
  var soundOn = true;
  var everConnected = false;
  window.cnSeen = window.cnSeen || {};             // id -> Date.now() when the row first appeared (bench)

  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function beep() { if (soundOn) window.ccBeep(); }
  document.getElementById("cc-sound").addEventListener("click", function () {
    soundOn = !soundOn;
    this.querySelector("span").textContent = soundOn ? T.soundOn : T.soundOff;
    this.querySelector("i").className = soundOn ? "bi bi-volume-up" : "bi bi-volume-mute";
    if (soundOn) beep();
  });
  // ---- rendering ----
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }
  function order(a, b) {
    var ra = RANK[a.severity] === undefined ? 9 : RANK[a.severity];
    var rb = RANK[b.severity] === undefined ? 9 : RANK[b.severity];
    if (ra !== rb) return ra - rb;
    return a.raised_ts - b.raised_ts;               // older first
  }
  function url(template, id) { return template.replace("/0/", "/" + id + "/"); }

  function build(a) {
    var tr = el("tr", "cc-row");
    tr.dataset.alarmId = a.id;
    tr.setAttribute("data-testid", "alarm-row");
    tr.appendChild(el("td", "cc-clock font-monospace fw-bold"));
    var sev = el("td");
    sev.appendChild(el("span", "badge cc-sev-" + a.severity, cfg.severity[a.severity] || a.severity));
    tr.appendChild(sev);
    var kind = el("td");
    kind.appendChild(el("div", "fw-semibold", cfg.types[a.type] || a.type));
    if (a.count > 1) kind.appendChild(el("span", "badge text-bg-light border", T.x + a.count));
    tr.appendChild(kind);
    var who = el("td");
    var link = el("a", "fw-semibold", a.name);
    link.href = url(cfg.popUrl, a.id);
    who.appendChild(link);
    who.appendChild(el("span", "text-muted small ms-1", (cfg.sex[a.sex] || "") + " " + a.age + T.years));
    tr.appendChild(who);
    tr.appendChild(el("td", "small", a.area));
    tr.appendChild(el("td", "small text-truncate cc-address", a.address));
    tr.appendChild(el("td", "cc-status small"));
    var act = el("td", "text-end");
    tr.appendChild(act);
    fill(tr, a);
    return tr;
  }

  function fill(tr, a) {
    var status = tr.querySelector(".cc-status");
    status.textContent = "";
    if (a.status === "raised") {
      status.appendChild(el("span", "badge text-bg-danger", cfg.status.raised || a.status));
      if (a.escalation_level > 0) status.appendChild(el("span", "badge text-bg-dark ms-1", T.escalated + " " + a.escalation_level));
    } else {
      status.appendChild(el("span", "badge text-bg-secondary", cfg.status[a.status] || a.status));
      if (a.acknowledged_by) status.appendChild(el("div", "text-muted", T.claimedBy + " " + a.acknowledged_by));
    }
    var act = tr.lastChild;
    act.textContent = "";
    if (a.status === "raised") {
      var b = el("button", "btn btn-danger btn-sm cc-claim", T.claim);
      b.type = "button";
      b.setAttribute("data-testid", "claim");
      b.addEventListener("click", function () { claim(a.id, b); });
      act.appendChild(b);
    } else {
      var o = el("a", "btn btn-outline-primary btn-sm", T.open);
      o.href = url(cfg.popUrl, a.id);
      o.setAttribute("data-testid", "open");
      act.appendChild(o);
    }
    tr.classList.toggle("cc-claimed", a.status !== "raised");
    tr.classList.toggle("cc-mine", a.acknowledged_by === cfg.me);
  }

  function tick() {
    var now = (Date.now() + skew) / 1000;
    var waiting = 0;
    Object.keys(rows).forEach(function (id) {
      var a = rows[id], tr = els[id];
      var age = now - a.raised_ts;
      var c = tr.querySelector(".cc-clock");
      c.textContent = clock(age);
      var cls = "cc-clock font-monospace fw-bold ";
      if (a.status !== "raised") cls += "text-muted";
      else if (age < cfg.targets[0]) cls += "text-success";
      else if (age < cfg.targets[1]) cls += "text-warning cc-over60";
      else cls += "text-danger cc-over180";
      c.className = cls;
      if (a.status === "raised") waiting++;
    });
    document.getElementById("cc-waiting").textContent = waiting;
    document.title = (waiting ? "(" + waiting + ") " : "") + document.title.replace(/^\(\d+\) /, "");
  }

  function layout() {
    var list = Object.keys(rows).map(function (id) { return rows[id]; }).sort(order);
    list.forEach(function (a, i) {
      var tr = els[a.id];
      if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null);
    });
    document.getElementById("cc-empty").classList.toggle("d-none", list.length > 0);
  }

  function apply(alarms, isSnapshot) {
    var fresh = false;
    if (isSnapshot) {
      var keep = {};
      alarms.forEach(function (a) { if (a.active) keep[a.id] = true; });
      Object.keys(rows).forEach(function (id) {
        if (!keep[id]) { els[id].remove(); delete rows[id]; delete els[id]; }
      });
    }
    alarms.forEach(function (a) {
      if (!a.active) {
        if (els[a.id]) { els[a.id].remove(); delete els[a.id]; delete rows[a.id]; }
        return;
      }
      if (els[a.id]) {
        rows[a.id] = a;
        fill(els[a.id], a);
      } else {
        rows[a.id] = a;
        els[a.id] = build(a);
        firstSeen[a.id] = Date.now();
        if (!isSnapshot || everConnected) {
          els[a.id].classList.add("cc-new");
          if (a.status === "raised") fresh = true;
        }
        if (!window.cnSeen[a.id]) window.cnSeen[a.id] = Date.now();
      }
    });
    layout();
    tick();
    if (fresh) {
      beep();
      flashTitle();
    }
  }

  var flashing = null;
  function flashTitle() {
    if (flashing || document.hasFocus()) return;
    var base = document.title, n = 0;
    flashing = setInterval(function () {
      document.title = (n++ % 2) ? base : "🔔 " + T["new"];
      if (document.hasFocus() || n > 20) { clearInterval(flashing); flashing = null; document.title = base; }
    }, 700);
  }

  function claim(id, button) {
    button.disabled = true;
    fetch(url(cfg.claimUrl, id), {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "Accept": "application/json" }
    }).then(function (r) { return r.json(); }).then(function (res) {
      if (res.ok) { window.location.href = res.url; return; }
      showError(res.error);
      button.disabled = false;
    }).catch(function () { showError(T.offline); button.disabled = false; });
  }

  function showError(text) {
    var box = document.getElementById("cc-error");
    box.textContent = text;
    box.classList.remove("d-none");
    setTimeout(function () { box.classList.add("d-none"); }, 6000);
  }

  // ---- safety net: reconcile with the server's list of open alarms every few seconds ----
  function reconcile() {
    var started = Date.now();
    fetch(cfg.queueUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (res) {
        if (!res) return;
        var open = {};
        res.alarms.forEach(function (a) { open[a.id] = true; });
        var missing = res.alarms.filter(function (a) { return !els[a.id]; });
        // a row the server no longer lists was closed; leave rows the page got after this request started
        var gone = Object.keys(rows).filter(function (id) { return !open[id] && firstSeen[id] < started - 2000; })
          .map(function (id) { var a = {}; for (var k in rows[id]) a[k] = rows[id][k]; a.active = false; return a; });
        if (missing.length || gone.length) apply(missing.concat(gone), false);
      }).catch(function () {});
  }
  setInterval(reconcile, cfg.reconcileMs);

  // ---- WebSocket (reconnects by itself) ----
  window.ccSocket(cfg.ws, function (msg) {
    if (msg.type === "snapshot") { apply(msg.alarms, true); everConnected = true; }
    else if (msg.type === "changes") apply(msg.alarms, false);
  }, function (up) {
    conn.textContent = up ? T.live : T.offline;
    conn.className = "badge " + (up ? "text-bg-success" : "text-bg-danger");
    conn.dataset.state = up ? "live" : "offline";
  });
  setInterval(tick, 1000);
})();
