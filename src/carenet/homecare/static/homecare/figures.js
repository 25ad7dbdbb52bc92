// Home-care figures chart from the JSON the view embeds (no inline script: CSP).
(function () {
  "use strict";
  var d = JSON.parse(document.getElementById("fig-data").textContent);
  var c = echarts.init(document.getElementById("fig-type"));
  c.setOption({tooltip: {}, xAxis: {type: "category", data: d.by_type.map(function (x) { return x[0]; })},
    yAxis: {type: "value", minInterval: 1}, series: [{type: "bar", data: d.by_type.map(function (x) { return x[1]; })}]});
})();
