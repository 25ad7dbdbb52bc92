// KPI charts from the JSON the view embeds. ECharts is vendored; no network.
(function () {
  "use strict";
  var d = JSON.parse(document.getElementById("kpi-data").textContent);
  var charts = [];
  function bar(id, rows, horizontal, color) {
    var c = echarts.init(document.getElementById(id));
    var names = rows.map(function (r) { return r[0]; }), values = rows.map(function (r) { return r[1]; });
    var cat = { type: "category", data: names, axisLabel: { fontSize: 11 } }, val = { type: "value", minInterval: 1 };
    c.setOption({
      animation: false, tooltip: {}, grid: { left: horizontal ? 120 : 40, right: 16, top: 16, bottom: 40 },
      xAxis: horizontal ? val : cat, yAxis: horizontal ? cat : val,
      series: [{ type: "bar", data: values, itemStyle: { color: color } }]
    });
    charts.push(c);
  }
  bar("kpi-type", d.by_type.slice().reverse(), true, "#d9822b");
  bar("kpi-day", d.by_day, false, "#0b5c8a");
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
