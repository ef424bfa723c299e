/* laks: the admin's edition page while its PDF is being made. Every two seconds the page asks
   the server how far the build is (a JSON status) and shows it in the status region; when
   the build is done (ready or failed) the page reloads, to show the download link or the
   error. Without JavaScript the page says the same when reloaded. Loaded from a file: the
   Content-Security-Policy allows no inline script. */
(function () {
  "use strict";
  var box = document.querySelector("[data-pdf-poll-url]");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-pdf-poll-url");
  var label = box.querySelector(".catalogue-pdf-label");
  var bar = box.querySelector("progress");

  function poll() {
    window.fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (state) {
        if (state.done) {
          window.location.reload();
          return;
        }
        if (label && label.textContent !== state.label) {
          label.textContent = state.label;
        }
        if (bar) {
          bar.value = state.progress;
          bar.textContent = state.progress + " %";
        }
        window.setTimeout(poll, 2000);
      })
      .catch(function () {
        window.setTimeout(poll, 10000);  // the server is away: ask again, less often
      });
  }

  window.setTimeout(poll, 2000);
})();
