// Dashboard charts from the JSON the view embeds. ECharts is vendored; no network.
(function () {
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  function bar(el, rows, color) {
    var chart = echarts.init(document.getElementById(el));
    chart.setOption({
      grid: { left: 40, right: 10, top: 20, bottom: 60 },
      tooltip: {},
      xAxis: { type: "category", data: rows.map(function (r) { return r.name; }), axisLabel: { rotate: 30, interval: 0 } },
      yAxis: { type: "value" },
      series: [{ type: "bar", data: rows.map(function (r) { return r.count; }), itemStyle: { color: color } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  bar("chart-area", data.by_child, "#0b5c8a");
  bar("chart-cat", data.by_category, "#d9822b");
  var care = echarts.init(document.getElementById("chart-care"));
  care.setOption({ tooltip: {}, series: [{ type: "pie", radius: ["40%", "70%"], data: data.by_care }] });
})();
