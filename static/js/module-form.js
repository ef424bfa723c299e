/* laks: a module form saves itself. A draft is sent a few seconds after typing stops and
   when the page is left; the page says when it was last saved. Without JavaScript the form
   works the same with its buttons. Also: adding and deleting rows without a round trip. */
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

  /* Rows in the browser. Without JavaScript "Add a row" and "Delete row n" send the form and
     the page comes back with the change (nothing saved); here they change the table at once
     and the draft saves itself. After each change the rows are numbered 1, 2, 3 … again:
     field names and ids, the labels' row numbers and the delete buttons. */
  var ROW_INDEX = /-(\d+)-/;

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  function renumber(body) {
    each(body.children, function (row, index) {
      each(row.querySelectorAll("[name],[id],[for],[aria-describedby]"), function (el) {
        ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value && ROW_INDEX.test(value)) {
            el.setAttribute(attr, value.replace(ROW_INDEX, "-" + index + "-"));
          }
        });
      });
      each(row.querySelectorAll("[data-row-number]"), function (el) {
        el.textContent = el.textContent.replace(/\d+/, String(index + 1));
      });
      each(row.querySelectorAll("[data-delete-row]"), function (button) {
        button.value = button.value.replace(/:\d+$/, ":" + index);
        button.textContent = button.textContent.replace(/\d+/, String(index + 1));
      });
    });
    var table = body.closest("table");
    var max = table ? parseInt(table.getAttribute("data-max-rows"), 10) : NaN;
    var group = body.closest(".form-group");
    var add = group && group.querySelector("[data-add-row]");
    if (add && max) { add.hidden = body.children.length >= max; }
  }

  function clearRow(row) {
    each(row.querySelectorAll("input, textarea"), function (el) {
      el.value = "";
      if (el.tagName === "TEXTAREA") { el.textContent = ""; }
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    });
    each(row.querySelectorAll(".form-error-message"), function (el) { el.remove(); });
    each(row.querySelectorAll(".form-error"), function (el) { el.classList.remove("form-error"); });
  }

  function firstField(row) { return row && row.querySelector("input, textarea"); }

  function addRow(button) {
    var group = button.closest(".form-group");
    var body = group && group.querySelector("tbody");
    if (!body || !body.lastElementChild) { return false; }
    var row = body.lastElementChild.cloneNode(true);
    clearRow(row);
    body.appendChild(row);
    renumber(body);
    var first = firstField(row);
    if (first) { first.focus(); }
    return true;
  }

  function deleteRow(button) {
    var row = button.closest("tr");
    var body = row && row.parentElement;
    if (!body) { return false; }
    var next = row.nextElementSibling || row.previousElementSibling;
    if (body.children.length > 1) {
      row.remove();
    } else {
      clearRow(row);  // the last row is emptied, so that there is always one to write in
      next = row;
    }
    renumber(body);
    var focus = firstField(next);
    if (focus) { focus.focus(); }
    changed();
    return true;
  }

  form.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    var remove = event.target.closest("[data-delete-row]");
    if ((add && addRow(add)) || (remove && deleteRow(remove))) { event.preventDefault(); }
  });
})();
