// Dashboard charts from the JSON the view embeds. ECharts is vendored; no network.
(function () {
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  function bar(el, rows, color) {
    var node = document.getElementById(el), chart = echarts.init(node);
    var steep = node.clientWidth / Math.max(rows.length, 1) < 45;  // a phone: names at 60 degrees so they do not touch
    chart.setOption({
      grid: { left: 40, right: 10, top: 20, bottom: steep ? 80 : 60 },
      tooltip: {},
      xAxis: { type: "category", data: rows.map(function (r) { return r.name; }), axisLabel: { rotate: steep ? 60 : 30, interval: 0 } },
      yAxis: { type: "value" },
      series: [{ type: "bar", data: rows.map(function (r) { return r.count; }), itemStyle: { color: color } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  bar("chart-area", data.by_child, "#0b5c8a");
  bar("chart-cat", data.by_category, "#d9822b");
  var care = echarts.init(document.getElementById("chart-care"));
  // Labels outside the ring are cut on a phone ("能..."): there the names go in a legend under the ring.
  var narrow = document.getElementById("chart-care").clientWidth < 420;
  care.setOption({
    tooltip: { formatter: "{b}: {c} ({d}%)" },
    legend: narrow ? { bottom: 0, itemWidth: 12, itemHeight: 12 } : { show: false },
    series: [{ type: "pie", radius: narrow ? ["30%", "55%"] : ["40%", "70%"], center: ["50%", narrow ? "42%" : "50%"],
               label: { show: !narrow }, data: data.by_care }]
  });
  window.addEventListener("resize", function () { care.resize(); });
})();
