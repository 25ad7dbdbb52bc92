// Civic figures charts from the JSON the view embeds. ECharts is vendored; no inline script (CSP).
(function () {
  "use strict";
  var d = JSON.parse(document.getElementById("chart-data").textContent);
  var a = echarts.init(document.getElementById("chart-steps"));
  a.setOption({tooltip: {}, grid: {left: 40, right: 10, top: 10, bottom: 30}, xAxis: {type: "category", data: d.steps},
    yAxis: {type: "value"}, series: [{type: "bar", data: d.step_counts, itemStyle: {color: "#1f6f8b"}}]});
  var b = echarts.init(document.getElementById("chart-items"));
  b.setOption({tooltip: {}, grid: {left: 150, right: 20, top: 10, bottom: 30}, xAxis: {type: "value"},
    yAxis: {type: "category", data: d.items}, series: [{type: "bar", data: d.item_counts, itemStyle: {color: "#e07a5f"}}]});
  window.addEventListener("resize", function () { a.resize(); b.resize(); });
})();
