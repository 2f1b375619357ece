// Portico developer portal: small progressive enhancements. Every feature
// also works without this script (plain form posts).
(function () {
  "use strict";
  function postJSON(url, csrf, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
    }).then(function (r) {
      if (!r.ok || (r.headers.get("Content-Type") || "").indexOf("json") < 0) { throw new Error("HTTP " + r.status); }
      return r.json();
    });
  }
  function csrfOf(form) { var i = form.querySelector("input[name=csrf]"); return i ? i.value : ""; }

  // Show / hide subscription keys.
  document.querySelectorAll("form.reveal").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var id = form.getAttribute("data-sub"), btn = form.querySelector("button");
      var p = document.getElementById(id + "-primary"), s = document.getElementById(id + "-secondary");
      if (btn.getAttribute("data-shown") === "1") {
        p.textContent = s.textContent = "••••••••••••••••••••••••••••••••";
        btn.textContent = "Show keys"; btn.setAttribute("data-shown", "0");
        return;
      }
      postJSON(form.action, csrfOf(form), new FormData(form)).then(function (k) {
        p.textContent = k.primaryKey; s.textContent = k.secondaryKey;
        btn.textContent = "Hide keys"; btn.setAttribute("data-shown", "1");
      }).catch(function () { form.submit(); });
    });
  });

  // Ask before destructive actions.
  document.querySelectorAll("form.confirm").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });

  // Put the viewer's key into the curl sample.
  var use = document.getElementById("use-key");
  if (use) {
    use.addEventListener("click", function () {
      var sel = document.getElementById("subscription");
      var id = sel ? sel.value : use.getAttribute("data-sub");
      var fd = new FormData(); fd.append("csrf", use.getAttribute("data-csrf"));
      postJSON("/subscriptions/" + encodeURIComponent(id) + "/secrets", use.getAttribute("data-csrf"), fd).then(function (k) {
        document.getElementById("curl-key").textContent = k.primaryKey;
      });
    });
  }

  // Try-it console: send without leaving the page.
  var form = document.getElementById("try-form");
  if (form) {
    var result = document.getElementById("result");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var send = document.getElementById("send");
      send.disabled = true; send.textContent = "Sending…";
      postJSON(form.action.split("#")[0], csrfOf(form), new FormData(form)).then(function (r) {
        result.textContent = "";
        if (r.error) {
          var e = document.createElement("p"); e.className = "error"; e.setAttribute("role", "alert"); e.textContent = r.error;
          result.appendChild(e); return;
        }
        var h = document.createElement("h3"); h.textContent = "Response"; result.appendChild(h);
        var line = document.createElement("p");
        var st = document.createElement("span"); st.id = "result-status";
        st.className = "code " + (r.status >= 500 ? "s5" : r.status >= 400 ? "s4" : r.status >= 300 ? "s3" : "s2");
        st.textContent = r.status + " " + r.statusText; line.appendChild(st);
        var meta = document.createElement("span"); meta.className = "muted";
        meta.textContent = " in " + r.millis + " ms · " + r.method + " " + r.url; line.appendChild(meta);
        result.appendChild(line);
        var det = document.createElement("details"), sum = document.createElement("summary");
        sum.textContent = "Headers"; det.appendChild(sum);
        var hp = document.createElement("pre"), hc = document.createElement("code");
        hc.textContent = (r.headers || []).map(function (x) { return x.name + ": " + x.value; }).join("\n");
        hp.appendChild(hc); det.appendChild(hp); result.appendChild(det);
        var bp = document.createElement("pre"), bc = document.createElement("code");
        bc.id = "result-body"; bc.textContent = r.body; bp.appendChild(bc); result.appendChild(bp);
      }).catch(function () { form.submit(); }).finally(function () {
        send.disabled = false; send.textContent = "Send";
        result.focus && result.setAttribute("tabindex", "-1");
      });
    });
  }
})();
