// Small form behaviours, declared in the markup (the Content-Security-Policy runs no
// inline script): <select data-autosubmit> submits its form when changed; a form or a
// button with data-confirm="question" asks first; <input type="checkbox"
// data-select-all="NAME"> ticks or clears every checkbox named NAME.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-autosubmit]") && target.form) target.form.submit();
    var name = target.getAttribute("data-select-all");
    if (name) {
      document.querySelectorAll("input[type=checkbox]").forEach(function (box) {
        if (box.name === name) box.checked = target.checked;
      });
    }
  });
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
  });
})();
