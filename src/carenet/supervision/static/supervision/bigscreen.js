// The district big screen: figures, charts and the live alarm list. No inline script (CSP); names are escaped.
(function(){
  const S = document.getElementById('screen');
  function fit(){ const k = Math.min(innerWidth/1920, innerHeight/1080); S.style.transform = 'scale(' + k + ')'; }
  addEventListener('resize', fit); fit();
  const C = JSON.parse(document.getElementById('bigscreen-config').textContent);
  const L = C.labels;
  const esc = (v) => String(v === null || v === undefined ? '' : v).replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
  const charts = {}; const txt = {color:'#d8ecff', fontSize:18};
  function chart(id){ return charts[id] || (charts[id] = echarts.init(document.getElementById(id), null, {renderer:'canvas'})); }
  const fmt = n => (n === null || n === undefined) ? '—' : Number(n).toLocaleString('zh-CN');
  let mapReady = fetch(C.geojson).then(r => r.json()).then(g => echarts.registerMap('district', g));
  function draw(d){
    document.getElementById('area').textContent = d.area;
    document.getElementById('k-elders').textContent = fmt(d.elders.total);
    document.getElementById('k-fac').textContent = fmt(d.facilities.total);
    document.getElementById('k-alarms').textContent = fmt(d.alarms.active_count);
    document.getElementById('k-today').textContent = fmt(d.alarms.today) + '/' + fmt(d.alarms.today_closed);
    document.getElementById('handling').textContent = d.alarms.ack_median !== null ? (L.ack + ' ' + d.alarms.ack_median + L.min + (d.alarms.close_median !== null ? ' · ' + L.close + ' ' + d.alarms.close_median + L.min : '')) : '';
    document.getElementById('s-online').textContent = fmt(d.services.online_today);
    document.getElementById('s-online-m').textContent = fmt(d.services.online_month);
    document.getElementById('s-door').textContent = fmt(d.services.door_today);
    document.getElementById('s-door-m').textContent = fmt(d.services.door_month);
    document.getElementById('a-hh').textContent = fmt(d.assistance.households) + '/' + fmt(d.assistance.persons);
    document.getElementById('a-paid').textContent = fmt(Math.round(Number(d.assistance.paid_month)));
    document.getElementById('v-week').textContent = fmt(d.visits.weekly_due);
    document.getElementById('v-month').textContent = fmt(d.visits.monthly_due);
    document.getElementById('v-overdue').textContent = fmt(d.visits.overdue);
    document.getElementById('v-escalated').textContent = fmt(d.visits.escalated);
    const rows = d.alarms.active.map(a => `<tr class="sev-${esc(a.severity)}"><td>${esc(a.at)}</td><td>${esc(a.type)}</td><td>${esc(a.area)}</td><td>${esc(a.name)}</td></tr>`);
    document.getElementById('alarms').innerHTML = rows.join('') || `<tr><td>${esc(L.none)}</td></tr>`;
    const area = d.elders.by_area.slice().reverse();
    chart('c-area').setOption({grid:{left:110,right:60,top:5,bottom:30}, xAxis:{type:'value',axisLabel:txt,splitLine:{lineStyle:{color:'#123c6a'}}},
      yAxis:{type:'category',data:area.map(x=>x[0]),axisLabel:txt}, series:[{type:'bar',data:area.map(x=>x[1]),itemStyle:{color:'#27a3ff'},label:{show:true,position:'right',...txt}}], animation:false});
    chart('c-age').setOption({series:[{type:'pie',radius:['35%','70%'],data:d.elders.by_age.map(x=>({name:x[0],value:x[1]})),label:{...txt,formatter:'{b}\n{c}'}}], animation:false});
    chart('c-care').setOption({series:[{type:'pie',radius:'70%',data:d.elders.by_care.map(x=>({name:x[0],value:x[1]})),label:{...txt,formatter:'{b} {c}'}}], animation:false});
    const ft = d.facilities.by_type;
    chart('c-fac').setOption({legend:{textStyle:txt,top:0}, grid:{left:190,right:30,top:40,bottom:20},
      xAxis:{type:'value',axisLabel:txt,splitLine:{lineStyle:{color:'#123c6a'}}}, yAxis:{type:'category',data:ft.map(x=>x[0]+' '+x[1]),axisLabel:{...txt,fontSize:17}},
      series:[{name:L.beds,type:'bar',data:ft.map(x=>x[2]),itemStyle:{color:'#1e5a9a'}},{name:L.occupied,type:'bar',data:ft.map(x=>x[3]),itemStyle:{color:'#5cf2c2'}}], animation:false});
    mapReady.then(() => chart('c-map').setOption({
      geo:{map:'district',roam:false,layoutCenter:['50%','50%'],layoutSize:'98%',label:{show:true,color:'#fff',fontSize:18},itemStyle:{areaColor:'#0e3a66',borderColor:'#3fa9ff'},emphasis:{disabled:true}},
      series:[{type:'map',map:'district',geoIndex:0,data:d.elders.by_area.map(x=>({name:x[0],value:x[1]}))},
              {type:'scatter',coordinateSystem:'geo',symbolSize:9,itemStyle:{color:'#ffd34e'},data:d.facilities.points.map(p=>({name:p[2],value:[p[0],p[1]]}))}],
      visualMap:{min:0,max:Math.max(1,...d.elders.by_area.map(x=>x[1])),show:false,seriesIndex:0,inRange:{color:['#0e3a66','#1f6fb8','#3fa9ff']}}, animation:false}));
  }
  const clock = () => document.getElementById('clock').textContent = new Date().toLocaleString('zh-CN', {hour12:false});
  setInterval(clock, 1000); clock();
  async function load(){ try { const r = await fetch(C.data, {credentials:'same-origin'}); if (r.ok) { draw(await r.json()); document.body.dataset.loaded = '1'; } } catch (e) {} }
  load(); setInterval(load, 10000);
})();
