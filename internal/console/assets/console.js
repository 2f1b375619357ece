// Portico admin console: small enhancements (the pages work without it).
(function () {
  "use strict";
  document.querySelectorAll("form.confirm").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });
  // Policy editor: keep the line numbers in step with the text.
  var ta = document.getElementById("value"), gutter = document.getElementById("gutter");
  if (ta && gutter) {
    var bad = {};
    gutter.querySelectorAll(".bad").forEach(function (s) { bad[s.textContent] = true; });
    var render = function () {
      var n = ta.value.split("\n").length, out = [];
      for (var i = 1; i <= n; i++) { out.push(bad[i] ? '<span class="bad">' + i + "</span>" : "<span>" + i + "</span>"); }
      gutter.innerHTML = out.join("\n");
      gutter.scrollTop = ta.scrollTop;
    };
    ta.addEventListener("input", render);
    ta.addEventListener("scroll", function () { gutter.scrollTop = ta.scrollTop; });
    document.querySelectorAll("a.goto").forEach(function (a) {
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        var line = parseInt(a.getAttribute("data-line"), 10), lines = ta.value.split("\n"), pos = 0;
        for (var i = 0; i < line - 1 && i < lines.length; i++) { pos += lines[i].length + 1; }
        ta.focus(); ta.setSelectionRange(pos, pos + (lines[line - 1] || "").length);
        ta.scrollTop = Math.max(0, (line - 5) * parseFloat(getComputedStyle(ta).lineHeight));
      });
    });
  }
})();
