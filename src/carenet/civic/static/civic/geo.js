// New request form: fill latitude/longitude from the device when the person allows it (no inline script: CSP).
(function () {
  "use strict";
  if (!navigator.geolocation) return;
  navigator.geolocation.getCurrentPosition(function (p) {
    document.getElementById("id_lat").value = p.coords.latitude.toFixed(6);
    document.getElementById("id_lon").value = p.coords.longitude.toFixed(6);
    document.getElementById("geo-status").textContent = p.coords.latitude.toFixed(5) + ", " + p.coords.longitude.toFixed(5);
  }, function () {}, {timeout: 5000});
})();
