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
    var first = base + "pagefind/" + names[0];
    var rest = names.slice(1).map(function (name) { return base + "pagefind/" + name; });
    var options = { element: "#search", showImages: false, showSubResults: true, baseUrl: base,
      bundlePath: first };
    // The UI merges the other bundles one after another on the first search, two requests
    // each. Merged here all at once as the page opens (the UI imports the same module),
    // the first results of a 10,000-page site come about a third sooner.
    var merged = !rest.length ? Promise.resolve() : import(first + "pagefind.js").then(
      function (pagefind) {
        return pagefind.options({ baseUrl: base })
          .then(function () { return pagefind.init(); })
          .then(function () {
            return Promise.all(rest.map(function (path) {
              return pagefind.mergeIndex(path, { baseUrl: base });
            }));
          })
          .catch(function (err) { console.error("search: a bundle did not load", err); });
      },
      function (err) {
        // Not loadable as a module here: the UI merges them its own way.
        console.error("search: merging in the UI instead", err);
        options.mergeIndex = rest.map(function (path) { return { bundlePath: path, baseUrl: base }; });
      });
    merged.then(function () {
      var ui = new PagefindUI(options);
      var q = new URLSearchParams(location.search).get("q");
      if (q) ui.triggerSearch(q);
    });
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
