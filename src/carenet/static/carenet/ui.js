// Page behaviour that used to be inline (the Content-Security-Policy forbids inline script and handlers).
// Markup asks for behaviour with data attributes; listeners are delegated so htmx-loaded fragments work too.
(function () {
  "use strict";
  // <form data-autostyle>: Bootstrap classes on Django's plain widgets.
  function autostyle(root) {
    root.querySelectorAll("form[data-autostyle]").forEach(function (form) {
      form.querySelectorAll("input:not([type=checkbox]):not([type=radio]):not([type=hidden]), select, textarea").forEach(function (el) {
        el.classList.add(el.tagName === "SELECT" ? "form-select" : "form-control", "form-control-sm");
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { autostyle(document); });
  // <select data-autosubmit>: submit its form on change (language switch, filters).
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.submit();
  });
  document.addEventListener("click", function (ev) {
    var t = ev.target.closest ? ev.target : null;
    if (!t) return;
    // <button data-print>: print the page.
    if (t.closest("[data-print]")) { window.print(); return; }
    // <button data-pick-id data-label>: choose a person from search results into #id_applicant.
    var pick = t.closest("[data-pick-id]");
    if (pick) {
      document.getElementById("id_applicant").value = pick.dataset.pickId;
      document.getElementById("chosen").textContent = pick.dataset.label;
      document.getElementById("chosen-box").classList.remove("d-none");
      document.getElementById("resident-results").textContent = "";
    }
  });
})();
