// Print views: the print button (no inline handlers: the Content-Security-Policy forbids them).
document.addEventListener("DOMContentLoaded", function () {
  var b = document.getElementById("print-now");
  if (b) b.addEventListener("click", function () { window.print(); });
});
