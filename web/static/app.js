// Entente console: progressive enhancement only. Every page works without
// this file; with it, times also show in the operator's own zone, and
// buttons marked data-confirm ask before they act.
"use strict";
(function () {
  // Times: the server writes UTC; add the browser's zone beside it.
  function localTimes() {
    var fmt;
    try {
      fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short", timeZoneName: "short" });
    } catch (e) {
      return;
    }
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      if (el.querySelector(".zone")) return;
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      var span = document.createElement("span");
      span.className = "zone";
      span.textContent = "(" + fmt.format(d) + ")";
      el.appendChild(span);
    });
  }
  // Confirmation for actions that change state.
  function confirms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (ev) {
        if (!window.confirm(f.getAttribute("data-confirm"))) ev.preventDefault();
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    localTimes();
    confirms();
  });
})();
