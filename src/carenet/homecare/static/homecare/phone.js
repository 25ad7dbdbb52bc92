/* The helper's phone page. Every step goes through a queue kept in localStorage: it is sent at once when the
   phone is online and kept (with the step's original time) when it is not, then sent when the connection
   returns. A step the server refuses is dropped from the queue and its reason shown. */
(function () {
  "use strict";
  var KEY = "carenet-homecare-queue";
  var cfgEl = document.getElementById("hc-cfg");
  var cfg = cfgEl ? JSON.parse(cfgEl.textContent) : null;
  var tEl = document.getElementById("hc-t");
  var T = tEl ? JSON.parse(tEl.textContent) : {online: "", offline: "", queued: "", saved: ""};
  var csrf = (JSON.parse(document.body.getAttribute("hx-headers") || "{}"))["X-CSRFToken"];
  var NEXT = {accept: "accepted", depart: "on_the_way", check_in: "checked_in", check_out: "checked_out"};
  var sending = false;
  var serverState = cfg ? cfg.state : null;

  function load() { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } }
  function save(q) { localStorage.setItem(KEY, JSON.stringify(q)); render(); }
  function uuid() {
    if (window.crypto && crypto.getRandomValues) {
      var b = new Uint8Array(16); crypto.getRandomValues(b);
      return Array.from(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
    }
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }
  function localState() { return cfg ? (localStorage.getItem("carenet-homecare-state-" + cfg.orderId) || cfg.state) : null; }
  function setLocalState(s) { if (cfg) { localStorage.setItem("carenet-homecare-state-" + cfg.orderId, s); showState(s); } }

  function msg(text, kind) {
    var el = document.getElementById("hc-msg");
    if (!el) { if (kind === "danger") alert(text); return; }
    el.className = "alert py-2 small alert-" + kind; el.textContent = text;
  }
  function render() {
    var net = document.getElementById("hc-net"), q = load(), b = document.getElementById("hc-queue");
    if (net) { net.textContent = navigator.onLine ? T.online : T.offline; net.className = navigator.onLine ? "text-success" : "text-danger fw-semibold"; }
    if (b) { b.classList.toggle("d-none", q.length === 0); b.textContent = q.length + " " + T.queued; }
  }
  function showState(s) {
    document.querySelectorAll("[data-show]").forEach(function (el) {
      el.classList.toggle("d-none", el.getAttribute("data-show").split(" ").indexOf(s) < 0);
    });
  }

  function flush() {
    if (sending) return Promise.resolve();
    var q = load();
    if (!q.length) { render(); return Promise.resolve(); }
    sending = true;
    var item = q[0];
    return fetch(item.url, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf}, body: JSON.stringify(item.body)})
      .then(function (resp) {
        return resp.json().catch(function () { return {ok: false, error: "HTTP " + resp.status}; }).then(function (data) {
          var rest = load().filter(function (x) { return x.id !== item.id; });
          save(rest);
          if (data.ok) {
            if (cfg && item.orderId === cfg.orderId) {
              serverState = data.state;
              localStorage.setItem("carenet-homecare-state-" + cfg.orderId, data.state);
              showState(data.state);
              var st = document.getElementById("hc-state"); if (st) st.textContent = data.state_label;
              msg(T.sent + (data.anomalies && data.anomalies.length ? " · " + data.anomalies.join("、") : ""), data.anomalies && data.anomalies.length ? "warning" : "success");
            }
          } else {
            if (cfg && item.orderId === cfg.orderId) { localStorage.setItem("carenet-homecare-state-" + cfg.orderId, serverState); showState(serverState); }
            msg(data.error || ("HTTP " + resp.status), "danger");
          }
        });
      })
      .catch(function () { /* no connection: keep the step */ render(); return "offline"; })
      .then(function (r) { sending = false; if (r !== "offline" && load().length) return flush(); });
  }

  function photoData(input) {
    var f = input && input.files && input.files[0];
    if (!f) return Promise.resolve(null);
    return new Promise(function (resolve, reject) {
      var rd = new FileReader();
      rd.onerror = reject;
      rd.onload = function () {
        var img = new Image();
        img.onerror = function () { resolve(rd.result); };
        img.onload = function () {
          var k = Math.min(1, 1280 / Math.max(img.width, img.height));
          var c = document.createElement("canvas"); c.width = Math.max(1, Math.round(img.width * k)); c.height = Math.max(1, Math.round(img.height * k));
          c.getContext("2d").drawImage(img, 0, 0, c.width, c.height);
          resolve(c.toDataURL("image/jpeg", 0.8));
        };
        img.src = rd.result;
      };
      rd.readAsDataURL(f);
    });
  }
  function position() {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) return resolve(null);
      navigator.geolocation.getCurrentPosition(function (p) { resolve(p.coords); }, function () { resolve(null); },
        {enableHighAccuracy: true, timeout: 10000, maximumAge: 30000});
    });
  }

  function act(action, btn) {
    var body = {action: action, client_ts: new Date().toISOString(), client_uuid: uuid()};
    btn.disabled = true;
    var ready = Promise.resolve();
    if (action === "check_in" || action === "check_out") {
      ready = Promise.all([position(), photoData(document.getElementById(action === "check_in" ? "hc-in-photo" : "hc-out-photo"))])
        .then(function (r) {
          if (r[0]) { body.lat = r[0].latitude; body.lon = r[0].longitude; body.accuracy = r[0].accuracy; }
          else if (action === "check_in") throw new Error(T.noGps);
          body.photo = r[1];
          if (action === "check_in" && !body.photo) throw new Error(T.needPhoto);
          if (action === "check_out") {
            body.record = document.getElementById("hc-record").value;
            if (!body.record.trim()) throw new Error(T.needRecord);
            body.confirmed_by = document.getElementById("hc-confirmer").value;
            body.rating = document.getElementById("hc-rating").value;
          }
        });
    }
    ready.then(function () {
      var q = load();
      q.push({id: body.client_uuid, orderId: cfg.orderId, url: cfg.act, body: body});
      save(q);
      setLocalState(NEXT[action] || localState());
      if (!navigator.onLine) msg(T.saved, "warning");
      return flush().then(function () { if (load().length) msg(T.saved, "warning"); });
    }).catch(function (e) { msg(e.message, "danger"); })
      .then(function () { btn.disabled = false; });
  }

  document.querySelectorAll("[data-act]").forEach(function (b) {
    b.addEventListener("click", function () { act(b.getAttribute("data-act"), b); });
  });
  window.addEventListener("online", function () { render(); flush(); });
  window.addEventListener("offline", render);
  if (cfg) {
    var pending = load().some(function (x) { return x.orderId === cfg.orderId; });
    if (!pending) localStorage.removeItem("carenet-homecare-state-" + cfg.orderId);
    showState(localState());
  }
  render();
  flush();
  setInterval(flush, 15000);
})();
