// kgraph site behaviour: theme toggle and hover previews. Everything degrades without JS.
(function () {
  "use strict";
  var root = document.documentElement;

  function currentTheme() {
    if (root.dataset.theme) return root.dataset.theme;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function setupTheme() {
    var button = document.querySelector(".theme-toggle");
    if (!button) return;
    button.addEventListener("click", function () {
      var next = currentTheme() === "dark" ? "light" : "dark";
      root.dataset.theme = next;
      try { localStorage.setItem("kgraph-theme", next); } catch (e) { /* storage may be off */ }
    });
  }

  var cache = {};
  var popover = null;
  var timer = null;

  function fetchPreview(url) {
    if (!cache[url]) {
      cache[url] = fetch(url).then(function (r) {
        if (!r.ok) throw new Error("status " + r.status);
        return r.text();
      }).then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        var article = doc.querySelector("article");
        if (!article) return null;
        var box = document.createElement("div");
        var title = article.querySelector("h1");
        if (title) box.appendChild(document.importNode(title, true));
        var body = article.querySelector(".note-body, .stub-notice");
        if (body) {
          var kids = body.children;
          for (var i = 0; i < kids.length && i < 4; i++) box.appendChild(document.importNode(kids[i], true));
        }
        // A preview must not repeat ids of this page (SVG ids stay: its glyphs refer to them).
        box.querySelectorAll("[id]").forEach(function (el) {
          if (!(el instanceof SVGElement)) el.removeAttribute("id");
        });
        return box;
      }).catch(function () { return null; });
    }
    return cache[url];
  }

  function hide() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (popover) { popover.remove(); popover = null; }
  }

  function show(link) {
    var url = link.href.split("#")[0];
    if (location.protocol === "file:") return;  // browsers refuse fetch on file://
    fetchPreview(url).then(function (box) {
      if (!box || !link.matches(":hover, :focus")) return;
      hide();
      popover = document.createElement("div");
      popover.className = "preview-popover";
      popover.setAttribute("role", "tooltip");
      popover.appendChild(box.cloneNode(true));
      document.body.appendChild(popover);
      var rect = link.getBoundingClientRect();
      var left = Math.min(window.scrollX + rect.left, window.scrollX + document.documentElement.clientWidth - popover.offsetWidth - 8);
      popover.style.left = Math.max(8, left) + "px";
      popover.style.top = (window.scrollY + rect.bottom + 6) + "px";
    });
  }

  function setupPreviews() {
    var links = document.querySelectorAll("main a.internal:not(.self), .relations a.internal");
    links.forEach(function (link) {
      link.addEventListener("mouseenter", function () { timer = setTimeout(function () { show(link); }, 250); });
      link.addEventListener("focus", function () { show(link); });
      link.addEventListener("mouseleave", hide);
      link.addEventListener("blur", hide);
    });
    document.addEventListener("keydown", function (e) { if (e.key === "Escape") hide(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupTheme();
    setupPreviews();
  });
})();
