// Search page: pagefind's own UI, bundle and result URLs relative to wherever the site lives.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("search");
    if (!box) return;
    if (typeof PagefindUI === "undefined") {
      box.textContent = "Search is unavailable here (open the site through a web server).";
      return;
    }
    var base = new URL(box.dataset.root || "./", location.href).pathname;
    var ui = new PagefindUI({ element: "#search", showImages: false, showSubResults: true, baseUrl: base,
      bundlePath: base + "pagefind/" });
    var q = new URLSearchParams(location.search).get("q");
    if (q) ui.triggerSearch(q);
  });
})();
