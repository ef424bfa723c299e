/* laks: start Det Fælles Designsystem's components (menus, language switcher, tabs, ...).
   DKFDS' error summary module moves focus to a form's error summary
   ([data-module="error-summary"]) so that a screen reader reads the problems at once.
   Loaded with "defer" from a file: the Content-Security-Policy allows no inline script. */
(function () {
  "use strict";
  if (window.DKFDS && typeof window.DKFDS.init === "function") {
    window.DKFDS.init();
    // DKFDS names the menu's overflow button in Danish; give it the page's language.
    var more = document.querySelector(".navigation-menu .more-button span");
    var label = document.body.getAttribute("data-more-label");
    if (more && label) {
      more.textContent = label;
    }
    return;
  }
  // Without DKFDS (its files not built), still take the reader to the error summary.
  var summary = document.querySelector('[data-module="error-summary"]');
  if (summary) {
    summary.focus();
  }
})();
