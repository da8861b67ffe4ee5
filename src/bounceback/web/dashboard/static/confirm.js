// Ask before a destructive form is sent: <form data-confirm="question"> or
// <button data-confirm="question">. A static file, not an inline handler, so a
// Content-Security-Policy without 'unsafe-inline' allows it.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
  // <input type="checkbox" data-select-all="name">: tick or untick every box of that name.
  document.addEventListener("change", function (event) {
    var box = event.target;
    var name = box.getAttribute && box.getAttribute("data-select-all");
    if (!name) return;
    document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (other) {
      other.checked = box.checked;
    });
  });
  // <select data-autosubmit>: send its form when it changes.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.hasAttribute && select.hasAttribute("data-autosubmit") && select.form) select.form.submit();
  });
})();
