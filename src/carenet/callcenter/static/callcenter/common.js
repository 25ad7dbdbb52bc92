// Shared by the call-center pages: a short two-tone beep made with the Web Audio API (no audio file).
(function () {
  "use strict";
  var audio = null;
  function context() {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    return audio;
  }
  window.ccBeep = function () {
    try {
      var ctx = context();
      if (ctx.state === "suspended") ctx.resume();
      [0, 0.22].forEach(function (offset, i) {
        var osc = ctx.createOscillator(), gain = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = i ? 660 : 880;
        var t0 = ctx.currentTime + offset;
        gain.gain.setValueAtTime(0.0001, t0);
        gain.gain.exponentialRampToValueAtTime(0.3, t0 + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.18);
        osc.connect(gain).connect(ctx.destination);
        osc.start(t0);
        osc.stop(t0 + 0.2);
      });
    } catch (e) { /* no audio device: the visual cue still works */ }
  };
  // Browsers allow sound only after a user gesture: unlock on the first click anywhere.
  document.addEventListener("click", function unlock() {
    try { context().resume(); } catch (e) {}
    document.removeEventListener("click", unlock);
  });
  window.ccSocket = function (path, onMessage, onState) {
    var retry = 500;
    function connect() {
      var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path);
      ws.onopen = function () { retry = 500; if (onState) onState(true); };
      ws.onmessage = function (ev) { onMessage(JSON.parse(ev.data)); };
      ws.onclose = function () {
        if (onState) onState(false);
        setTimeout(connect, retry);
        retry = Math.min(retry * 2, 5000);
      };
    }
    connect();
  };
})();
