// 知识库 on the call-taker's screen: while the request text is typed, the knowledge-base entries
// that may answer it (GET /console/knowledge/suggest). Each has a submit button of the new-case
// form (name "knowledge"): the case is created and answered from that entry in one click
// (当场答复). Plain ES2017, no build step; without it the form works as before.
(function () {
  "use strict";
  function start() {
    var box = document.getElementById("knowledge-box");
    var text = document.getElementById("content");
    if (!box || !text) return;
    var timer = null, last = "";
    function el(tag, cls, content) {
      var e = document.createElement(tag);
      if (cls) e.className = cls;
      if (content) e.textContent = content;
      return e;
    }
    function ask() {
      var q = text.value.trim();
      if (q === last) return;
      last = q;
      if (q.length < 2) { box.textContent = ""; box.hidden = true; return; }
      fetch(box.getAttribute("data-suggest") + "?text=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (res) {
          // A later keystroke already asked again: this answer is stale.
          if (text.value.trim() !== q) return;
          box.textContent = "";
          if (!res || !res.items.length) { box.hidden = true; return; }
          box.appendChild(el("p", "muted", box.getAttribute("data-label")));
          var list = el("ul", "kb-list");
          res.items.forEach(function (k) {
            var li = el("li", "kb-item");
            li.id = "kb-" + k.id;
            li.appendChild(el("strong", "", k.question));
            li.appendChild(el("p", "kb-answer", k.answer));
            var meta = [];
            if (k.category) meta.push(k.category);
            if (k.source) meta.push(box.getAttribute("data-source") + ": " + k.source);
            if (k.valid_until) meta.push(box.getAttribute("data-until") + ": " + k.valid_until);
            if (meta.length) li.appendChild(el("p", "muted", meta.join(" · ")));
            var b = el("button", "kb-use", box.getAttribute("data-use"));
            b.type = "submit";
            b.name = "knowledge";
            b.value = String(k.id);
            b.id = "kb-use-" + k.id;
            li.appendChild(b);
            list.appendChild(li);
          });
          box.appendChild(list);
          box.hidden = false;
        })
        .catch(function () {});
    }
    text.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 300); });
    ask();
  }
  document.addEventListener("DOMContentLoaded", start);
})();
