// Amount paid by program, from the JSON the view embeds. ECharts is vendored; no network.
(function () {
  "use strict";
  var d = JSON.parse(document.getElementById("chart-data").textContent);
  var c = echarts.init(document.getElementById("chart-programs"));
  c.setOption({tooltip: {}, grid: {left: 80, right: 20, top: 10, bottom: 30},
    xAxis: {type: "value"}, yAxis: {type: "category", data: d.labels},
    series: [{type: "bar", data: d.amounts, itemStyle: {color: "#1f6f8b"}}]});
  window.addEventListener("resize", function () { c.resize(); });
})();
