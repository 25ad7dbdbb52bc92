// Phone report page: jump to the first error; fill latitude/longitude when the person taps "Use my location".
// The messages come translated in data attributes on #geo-status (no inline script: CSP).
(function () {
  "use strict";
  var s = document.getElementById("geo-status"), b = document.getElementById("geo-button");
  var err = document.querySelector('[data-testid="new-person"] .invalid-feedback');
  if (err) { err.scrollIntoView({block: "center"}); }
  if (!s || !b) return;
  b.addEventListener("click", function () {
    if (!navigator.geolocation) { s.textContent = s.dataset.unavailable; return; }
    s.textContent = s.dataset.locating;
    navigator.geolocation.getCurrentPosition(function (p) {
      document.getElementById("id_lat").value = p.coords.latitude.toFixed(6);
      document.getElementById("id_lon").value = p.coords.longitude.toFixed(6);
      s.textContent = s.dataset.located;
    }, function () { s.textContent = s.dataset.denied; },
    {enableHighAccuracy: true, timeout: 10000, maximumAge: 60000});
  });
})();
