// Screen pop: waiting clock, offline location chart and 24-hour sensor timeline. ECharts is vendored.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("cc-charts").textContent);
  var T = data.t;

  // ---- age of the alarm ----
  var age = document.getElementById("cc-age");
  var skew = Number(age.dataset.serverNow) - Date.now();
  function clock() {
    var end = age.dataset.closed ? Number(age.dataset.closed) * 1000 : Date.now() + skew;
    var s = Math.max(0, Math.floor((end - Number(age.dataset.raised)) / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    age.textContent = (h ? h + ":" : "") + (m < 10 ? "0" : "") + m + ":" + (sec < 10 ? "0" : "") + sec;
    age.className = "cc-big-clock font-monospace " + (age.dataset.closed ? "text-muted" : s < 60 ? "text-success" : s < 180 ? "text-warning" : "text-danger");
  }
  clock();
  setInterval(clock, 1000);

  // Tooltips are HTML: everything people typed (names, rooms) is escaped before it reaches them.
  var esc = echarts.format.encodeHTML;
  var charts = [];
  // ---- location: communities of the street (centre of their residents) around the elder, no map tiles ----
  var mapEl = document.getElementById("cc-map");
  var m = data.map;
  if (!m.elder && !m.communities.length) {
    mapEl.textContent = T.noCoords;
    mapEl.className = "text-muted small";
  } else {
    var pts = m.communities.map(function (c) { return c.value; });
    if (m.elder) pts.push(m.elder);
    var lons = pts.map(function (p) { return p[0]; }), lats = pts.map(function (p) { return p[1]; });
    var pad = 0.004;
    var map = echarts.init(mapEl);
    map.setOption({
      animation: false,
      grid: { left: 52, right: 12, top: 12, bottom: 24 },
      tooltip: { formatter: function (p) { return esc(p.name); } },
      xAxis: { type: "value", min: Math.min.apply(null, lons) - pad, max: Math.max.apply(null, lons) + pad, axisLabel: { fontSize: 9, color: "#999", formatter: function (v) { return v.toFixed(3); } }, splitLine: { lineStyle: { type: "dashed", color: "#eee" } }, scale: true },
      yAxis: { type: "value", min: Math.min.apply(null, lats) - pad, max: Math.max.apply(null, lats) + pad, axisLabel: { fontSize: 9, color: "#999", formatter: function (v) { return v.toFixed(3); } }, splitLine: { lineStyle: { type: "dashed", color: "#eee" } }, scale: true },
      series: [
        { name: T.community, type: "scatter", symbolSize: function (v) { return 10 + Math.min(30, Math.sqrt(v[2] || 1) * 2); },
          itemStyle: { color: "rgba(11,92,138,.25)", borderColor: "#0b5c8a" },
          label: { show: true, position: "bottom", formatter: "{b}", fontSize: 11, color: "#444" },
          data: m.communities.map(function (c) { return { name: c.name, value: c.value, itemStyle: c.own ? { color: "rgba(11,92,138,.5)" } : undefined }; }) },
        { name: T.elder, type: "effectScatter", symbolSize: 16, rippleEffect: { scale: 4 }, itemStyle: { color: "#d62728" },
          label: { show: true, position: "top", formatter: "{b}", fontWeight: "bold" },
          data: m.elder ? [{ name: T.elder, value: m.elder }] : [] }
      ]
    });
    charts.push(map);
  }

  // ---- sensor timeline: one row per room and kind, a dot per event (dark = active, light = inactive) ----
  var tl = data.timeline;
  var chart = echarts.init(document.getElementById("cc-timeline"));
  chart.setOption({
    animation: false,
    grid: { left: 150, right: 20, top: 26, bottom: 50 },
    tooltip: { trigger: "item", formatter: function (p) {
      return esc(tl.categories[p.value[1]]) + "<br>" + esc(echarts.format.formatTime("MM-dd hh:mm:ss", p.value[0]) + " · " + (p.value[2] ? T.on : T.off));
    } },
    dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 8 }],
    xAxis: { type: "time", min: tl.start, max: tl.end },
    yAxis: { type: "category", data: tl.categories, axisLabel: { fontSize: 11 } },
    series: [{
      type: "scatter", symbol: "rect", symbolSize: [3, 14], data: tl.points,
      itemStyle: { color: function (p) { return p.value[2] ? "#0b5c8a" : "#9ec5dd"; } },
      markLine: { symbol: "none", label: { formatter: T.alarm }, lineStyle: { color: "#d62728", width: 2 },
                  data: [{ xAxis: data.alarmAt }] }
    }]
  });
  charts.push(chart);
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });

  // ---- while handling this alarm: other alarms waiting (with the tone) and changes to this one ----
  var others = {};
  var othersEl = document.getElementById("cc-others");
  window.ccSocket(data.ws, function (msg) {
    if (msg.type === "snapshot") others = {};
    var fresh = false;
    msg.alarms.forEach(function (a) {
      if (a.id === data.alarmId) {
        if (a.updated !== data.updated) document.getElementById("cc-changed").classList.remove("d-none");
        return;
      }
      if (a.active && a.status === "raised") {
        if (!others[a.id] && msg.type === "changes") fresh = true;
        others[a.id] = true;
      } else {
        delete others[a.id];
      }
    });
    var n = Object.keys(others).length;
    othersEl.textContent = T.othersWaiting.replace("%(n)s", n);
    othersEl.classList.toggle("d-none", n === 0);
    if (fresh) window.ccBeep();
  });
})();
