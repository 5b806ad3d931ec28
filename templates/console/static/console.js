// Minsheng 110 console helpers: live updates over server-sent events, deadline countdowns and
// triage (emergency line, category suggestions, place). Plain ES2017, no build step; every page works without it.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "zh-CN";
  var zh = lang.indexOf("zh") === 0;

  // Deadlines: cells with data-due (epoch ms) show time left and turn red when it runs out.
  function span(ms) {
    var mins = Math.ceil(Math.abs(ms) / 60000);
    var d = Math.floor(mins / 1440), h = Math.floor((mins % 1440) / 60), m = mins % 60;
    var parts = [];
    if (d) parts.push(zh ? d + "天" : d + " d");
    if (h) parts.push(zh ? h + "小时" : h + " h");
    if (!d && (m || !parts.length)) parts.push(zh ? m + "分" : m + " min");
    return parts.join(zh ? "" : " ");
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var left = Number(el.getAttribute("data-due")) - now;
      var over = left < 0;
      el.textContent = over ? (zh ? "超时 " + span(left) : span(left) + " overdue")
                            : (zh ? "剩余 " + span(left) : span(left) + " left");
      el.classList.toggle("overdue", over);
      var row = el.closest("tr");
      if (row) row.classList.toggle("overdue", over);
    });
  }

  // Live queue: on a case event, fetch the same page and swap the table body, so new rows
  // appear and changed rows update, rendered (and escaped) by the server.
  var refreshing = false;
  function refreshQueue() {
    var table = document.getElementById("queue");
    if (!table || refreshing) return;
    refreshing = true;
    var before = {};
    table.querySelectorAll("tbody tr[id]").forEach(function (r) { before[r.id] = true; });
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("#queue tbody");
        if (!fresh) return;
        fresh.querySelectorAll("tr[id]").forEach(function (r) { if (!before[r.id]) r.classList.add("fresh"); });
        table.querySelector("tbody").replaceWith(fresh);
        var tabs = doc.querySelector(".tabs"), oldTabs = document.querySelector(".tabs");
        if (tabs && oldTabs) oldTabs.replaceWith(tabs);
        tick();
      })
      .catch(function () {})
      .then(function () { refreshing = false; });
  }
  function live() {
    if (!document.body.hasAttribute("data-live") || !window.EventSource) return;
    var es = new EventSource("/console/events");
    var dot = document.getElementById("live-status");
    // On (re)connect, refresh once: anything that changed between rendering the page and
    // connecting (or while disconnected) shows up.
    es.onopen = function () { if (dot) dot.hidden = false; refreshQueue(); };
    es.onerror = function () { if (dot) dot.hidden = true; };
    // Release the connection when leaving the page: browsers allow few connections per host.
    window.addEventListener("pagehide", function () { es.close(); });
    es.addEventListener("case", refreshQueue);
    es.addEventListener("overdue", refreshQueue);
  }

  // Triage while the call-taker types: the emergency stage first (a red box with the line, its
  // evidence and the two decisions), then the top three categories with their evidence, or
  // "choose the category" when the classifier is not sure, and where the place was recognised.
  function suggestions() {
    var box = document.getElementById("suggestions");
    var text = document.querySelector("[data-classify]");
    var select = document.getElementById("category");
    if (!box || !text || !select) return;
    var address = document.getElementById(text.getAttribute("data-address") || "");
    var timer = null, last = "";
    function emergency(e) {
      var eb = document.getElementById("emergency-box");
      if (!eb) return;
      if (!e) { eb.hidden = true; return; }
      var phoneLines = (eb.getAttribute("data-phone-lines") || "").split(",");
      document.getElementById("emergency-label").textContent = e.label;
      document.getElementById("emergency-confirm-line").textContent = e.label;
      document.getElementById("emergency-evidence").textContent = e.evidence.join("、");
      document.getElementById("emergency-confidence").textContent = Math.round(e.confidence * 100) + "%";
      document.getElementById("emergency-confirm").value = e.line;
      document.getElementById("emergency-phone").hidden = phoneLines.indexOf(e.line) < 0;
      eb.hidden = false;
    }
    function ask() {
      var q = text.value.trim();
      var where = address ? address.value.trim() : "";
      var key = q + "\u0000" + where;
      if (key === last) return;
      last = key;
      if (q.length < 2) { box.textContent = ""; return; }
      var url = text.getAttribute("data-classify") + "?text=" + encodeURIComponent(q) +
        "&address=" + encodeURIComponent(where);
      fetch(url, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (res) {
          box.textContent = "";
          if (!res) return;
          emergency(res.emergency);
          var label = document.createElement("span");
          label.className = "muted";
          label.textContent = box.getAttribute("data-label") + ":";
          box.appendChild(label);
          if (res.manual) {
            var m = document.createElement("span");
            m.className = "tag warn";
            m.id = "manual-choice";
            m.textContent = box.getAttribute("data-manual");
            box.appendChild(m);
          }
          res.suggestions.forEach(function (s, i) {
            var b = document.createElement("button");
            b.type = "button";
            b.className = "suggestion";
            b.setAttribute("data-code", s.code);
            b.textContent = s.name + " " + Math.round(s.score * 100) + "%";
            if (s.evidence.length) b.title = box.getAttribute("data-evidence") + ": " + s.evidence.join("、");
            b.addEventListener("click", function () { select.value = s.code; select.focus(); });
            box.appendChild(b);
            // A police category is the emergency stage's to decide, never pre-selected.
            if (i === 0 && !res.manual && !s.police && !select.value) select.value = s.code;
          });
          if (res.location) {
            var l = document.createElement("span");
            l.className = res.location.name ? "muted" : "tag warn";
            l.id = "location-hint";
            l.textContent = res.location.name || box.getAttribute("data-unlocated");
            box.appendChild(l);
          }
        })
        .catch(function () {});
    }
    function later() { clearTimeout(timer); timer = setTimeout(ask, 300); }
    text.addEventListener("input", later);
    if (address) address.addEventListener("input", later);
    ask();
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 5000);
    live();
    suggestions();
  });
})();
