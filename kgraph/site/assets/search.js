// Search page: pagefind's own UI over every shard bundle listed in pagefind/kgraph-shards.json.
(function () {
  "use strict";

  function bundles(base) {
    // Without a readable list (an older index), the single bundle in pagefind/ is all there is.
    return fetch(base + "pagefind/kgraph-shards.json")
      .then(function (r) { return r.ok ? r.json() : { bundles: [""] }; })
      .then(function (m) { return Array.isArray(m.bundles) ? m.bundles : [""]; })
      .catch(function () { return [""]; });
  }

  function start(box, base, names) {
    if (!names.length) {
      box.textContent = "The search index is empty.";
      return;
    }
    var options = { element: "#search", showImages: false, showSubResults: true, baseUrl: base,
      bundlePath: base + "pagefind/" + names[0] };
    if (names.length > 1) {
      options.mergeIndex = names.slice(1).map(function (name) {
        return { bundlePath: base + "pagefind/" + name, baseUrl: base };
      });
    }
    var ui = new PagefindUI(options);
    var q = new URLSearchParams(location.search).get("q");
    if (q) ui.triggerSearch(q);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("search");
    if (!box) return;
    if (typeof PagefindUI === "undefined") {
      box.textContent = "Search is unavailable here (open the site through a web server).";
      return;
    }
    var base = new URL(box.dataset.root || "./", location.href).pathname;
    bundles(base).then(function (names) { start(box, base, names); });
  });
})();
