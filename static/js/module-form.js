/* laks: a module form saves itself. A draft is sent a few seconds after typing stops and
   when the page is left; the page says when it was last saved. Without JavaScript the form
   works the same with its buttons. Also: "Add a row" without a round trip to the server. */
(function () {
  "use strict";
  var form = document.getElementById("module-form");
  if (!form || !form.dataset.autosaveUrl) { return; }
  var url = form.dataset.autosaveUrl;
  var status = document.getElementById("autosave-status");
  var versionField = form.querySelector('input[name="version"]');
  var DELAY = 3000;
  var timer = null, dirty = false, inFlight = false, leaving = false;

  function say(text, isError) {
    if (!status) { return; }
    status.textContent = text;
    status.classList.toggle("autosave-error", !!isError);
  }

  function formData() {
    var data = new FormData(form);
    data.delete("intent");
    return data;
  }

  function save() {
    timer = null;
    if (!dirty || leaving) { return; }
    if (inFlight) { schedule(); return; }
    inFlight = true;
    dirty = false;
    say(status ? status.dataset.savingText || "" : "");
    fetch(url, { method: "POST", body: formData(), credentials: "same-origin",
                 headers: { "Accept": "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return [response.ok, body]; });
      })
      .then(function (result) {
        var ok = result[0], body = result[1];
        if (ok && body.status === "saved") {
          if (versionField) { versionField.value = body.version; }
          say(body.message, false);
        } else {
          say(body.message || "", true);
          if (body.status === "invalid") { dirty = true; }
        }
      })
      .catch(function () {
        dirty = true;
        say(status ? status.dataset.offlineText || "" : "", true);
      })
      .then(function () { inFlight = false; });
  }

  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, DELAY);
  }

  function changed() { dirty = true; schedule(); }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function () {
    leaving = true;  // the buttons save with a normal request
    if (timer) { clearTimeout(timer); }
  });

  function flush() {
    if (!dirty || leaving || !navigator.sendBeacon) { return; }
    dirty = false;
    navigator.sendBeacon(url, formData());
  }
  window.addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flush(); }
  });

  /* Add a row in the browser: copy the last row with empty fields and the next index. */
  Array.prototype.forEach.call(form.querySelectorAll("[data-add-row]"), function (button) {
    button.addEventListener("click", function (event) {
      var group = button.closest(".form-group");
      var body = group && group.querySelector("tbody");
      if (!body || !body.lastElementChild) { return; }
      event.preventDefault();
      var last = body.lastElementChild;
      var index = body.children.length;
      var row = last.cloneNode(true);
      var pattern = /-(\d+)-/;
      Array.prototype.forEach.call(row.querySelectorAll("[name],[id],[for],[aria-describedby]"),
        function (el) {
          ["name", "id", "for"].forEach(function (attr) {
            var value = el.getAttribute(attr);
            if (value) { el.setAttribute(attr, value.replace(pattern, "-" + index + "-")); }
          });
          if (el.tagName === "INPUT" || el.tagName === "TEXTAREA") {
            el.value = "";
            el.removeAttribute("aria-invalid");
            el.removeAttribute("aria-describedby");
          }
          if (el.tagName === "LABEL") {
            el.textContent = el.textContent.replace(/\d+\s*$/, String(index + 1));
          }
        });
      Array.prototype.forEach.call(row.querySelectorAll(".form-error-message"),
        function (el) { el.remove(); });
      Array.prototype.forEach.call(row.querySelectorAll(".form-error"),
        function (el) { el.classList.remove("form-error"); });
      body.appendChild(row);
      var first = row.querySelector("input, textarea");
      if (first) { first.focus(); }
    });
  });
})();
