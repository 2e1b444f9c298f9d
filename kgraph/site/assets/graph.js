// Global graph: precomputed positions drawn on a canvas with pan, zoom and clickable nodes.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var canvas = document.getElementById("global-graph");
    var data = window.KGRAPH_GRAPH;
    if (!canvas || !data) return;
    var ctx = canvas.getContext("2d");
    var nodes = data.nodes, edges = data.edges;
    var view = { x: 0, y: 0, k: 1 };
    var hover = -1;
    var dpr = window.devicePixelRatio || 1;

    function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
    function resize() {
      var rect = canvas.getBoundingClientRect();
      canvas.width = Math.max(1, rect.width * dpr);
      canvas.height = Math.max(1, rect.height * dpr);
      reset();
    }
    function reset() {
      var w = canvas.width / dpr, h = canvas.height / dpr;
      view.k = Math.min(w, h) / 1100;
      view.x = (w - 1000 * view.k) / 2;
      view.y = (h - 1000 * view.k) / 2;
      draw();
    }
    function toScreen(n) { return [n[0] * view.k + view.x, n[1] * view.k + view.y]; }
    function draw() {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.strokeStyle = css("--line") || "#ccc";
      ctx.lineWidth = 0.6;
      ctx.beginPath();
      for (var i = 0; i < edges.length; i++) {
        var a = toScreen(nodes[edges[i][0]]), b = toScreen(nodes[edges[i][1]]);
        ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]);
      }
      ctx.stroke();
      var link = css("--link") || "#36c", stub = css("--stub") || "#c63", fg = css("--fg") || "#000";
      var r = Math.max(1.5, Math.min(6, 3 * Math.sqrt(view.k * 2)));
      for (var j = 0; j < nodes.length; j++) {
        var p = toScreen(nodes[j]);
        ctx.fillStyle = nodes[j][4] === "stub" ? stub : link;
        ctx.beginPath(); ctx.arc(p[0], p[1], j === hover ? r * 1.8 : r, 0, 6.2832); ctx.fill();
      }
      // Every label once the view is sparse enough to read them, else only the hovered one.
      var all = view.k * view.k * 150 > nodes.length;
      if (all || hover >= 0) {
        ctx.fillStyle = fg; ctx.font = "12px system-ui, sans-serif"; ctx.textAlign = "center";
        for (var m = 0; m < nodes.length; m++) {
          if (!all && m !== hover) continue;
          var q = toScreen(nodes[m]);
          ctx.fillText(nodes[m][2], q[0], q[1] - r - 4);
        }
      }
    }
    function nodeAt(px, py) {
      var best = -1, bestD = 100;
      for (var i = 0; i < nodes.length; i++) {
        var p = toScreen(nodes[i]);
        var d = (p[0] - px) * (p[0] - px) + (p[1] - py) * (p[1] - py);
        if (d < bestD) { bestD = d; best = i; }
      }
      return best;
    }
    function zoom(f, cx, cy) {
      view.x = cx - (cx - view.x) * f; view.y = cy - (cy - view.y) * f; view.k *= f; draw();
    }
    var drag = null, moved = false;
    canvas.addEventListener("pointerdown", function (e) { drag = [e.offsetX, e.offsetY]; moved = false; canvas.setPointerCapture(e.pointerId); });
    canvas.addEventListener("pointermove", function (e) {
      if (drag) {
        var dx = e.offsetX - drag[0], dy = e.offsetY - drag[1];
        if (Math.abs(dx) + Math.abs(dy) > 2) moved = true;
        view.x += dx; view.y += dy; drag = [e.offsetX, e.offsetY]; draw();
      } else {
        var h = nodeAt(e.offsetX, e.offsetY);
        if (h !== hover) { hover = h; canvas.title = h >= 0 ? nodes[h][2] : ""; canvas.style.cursor = h >= 0 ? "pointer" : "grab"; draw(); }
      }
    });
    canvas.addEventListener("pointerup", function (e) {
      drag = null;
      if (!moved) { var n = nodeAt(e.offsetX, e.offsetY); if (n >= 0 && nodes[n][3]) location.href = nodes[n][3]; }
    });
    canvas.addEventListener("wheel", function (e) { e.preventDefault(); zoom(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.offsetX, e.offsetY); }, { passive: false });
    canvas.addEventListener("keydown", function (e) {
      var w = canvas.width / dpr / 2, h = canvas.height / dpr / 2;
      if (e.key === "+" || e.key === "=") zoom(1.25, w, h);
      else if (e.key === "-") zoom(0.8, w, h);
      else if (e.key.indexOf("Arrow") === 0) {
        view.x += e.key === "ArrowLeft" ? 40 : e.key === "ArrowRight" ? -40 : 0;
        view.y += e.key === "ArrowUp" ? 40 : e.key === "ArrowDown" ? -40 : 0; draw();
      } else return;
      e.preventDefault();
    });
    document.querySelectorAll("[data-zoom]").forEach(function (b) {
      b.addEventListener("click", function () {
        var f = parseFloat(b.dataset.zoom);
        if (!f) reset(); else zoom(f, canvas.width / dpr / 2, canvas.height / dpr / 2);
      });
    });
    window.addEventListener("resize", resize);
    resize();
  });
})();
