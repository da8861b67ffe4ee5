// The "test on a message" box: sends the message (and the new-rule form as a draft)
// and shows the decision in place, again whenever the message or the draft changes.
(function () {
  "use strict";
  var form = document.getElementById("rule-test");
  var out = document.getElementById("test-result");
  var draft = document.getElementById("rule-create");
  if (!form || !out) return;
  var timer = null;

  function hasMessage() {
    var file = form.elements.file;
    return form.elements.message.value.trim() !== "" || (file && file.files.length > 0);
  }

  function run() {
    if (!hasMessage()) return;
    var body = new FormData(form);
    if (draft) {
      new FormData(draft).forEach(function (value, key) {
        if (key !== "csrf_token") body.append("draft_" + key, value);
      });
    }
    out.setAttribute("aria-busy", "true");
    fetch(form.action, { method: "POST", body: body, headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) { out.innerHTML = html; })
      .catch(function (error) { out.textContent = "The test failed: " + error; })
      .finally(function () { out.removeAttribute("aria-busy"); });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(run, 500);
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); run(); });
  form.elements.message.addEventListener("input", later);
  form.elements.file.addEventListener("change", run);
  if (draft) draft.addEventListener("input", later);
  if (draft) draft.addEventListener("change", later);
})();
