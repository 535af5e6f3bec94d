// Every page: the header's search box suggests things as one types (WAI-ARIA combobox with a
// listbox). Suggestions come from /search?format=json on this host. Without JavaScript the box
// is a plain form that opens /search.
(function () {
  "use strict";
  var input = document.getElementById("site-search");
  var list = document.getElementById("site-search-list");
  if (!input || !list || !window.fetch) { return; }
  var form = input.form;
  var items = [];
  var active = -1;
  var timer = null;
  var asked = "";
  var controller = null;

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function show(hits) {
    list.textContent = "";
    items = hits;
    hits.forEach(function (hit, i) {
      var li = document.createElement("li");
      li.id = "site-search-option-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      var name = document.createElement("span");
      name.textContent = hit.label;
      var kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = hit.type || "";
      li.appendChild(name);
      li.appendChild(kind);
      li.addEventListener("mousedown", function (event) {
        event.preventDefault();  // keep focus in the box until we navigate
        window.location.href = hit.href;
      });
      list.appendChild(li);
    });
    if (hits.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    } else {
      close();
    }
  }

  function highlight(i) {
    var options = list.querySelectorAll("[role=option]");
    if (!options.length) { return; }
    active = (i + options.length) % options.length;
    Array.prototype.forEach.call(options, function (li, j) {
      li.setAttribute("aria-selected", j === active ? "true" : "false");
    });
    input.setAttribute("aria-activedescendant", options[active].id);
    options[active].scrollIntoView({ block: "nearest" });
  }

  function suggest() {
    var q = input.value.trim();
    if (q === asked) { return; }
    asked = q;
    if (q.length < 2) { show([]); return; }
    if (controller) { controller.abort(); }
    controller = window.AbortController ? new AbortController() : null;
    var url = "/search?format=json&limit=8&q=" + encodeURIComponent(q);
    fetch(url, { headers: { Accept: "application/json" }, signal: controller ? controller.signal : undefined })
      .then(function (resp) { return resp.ok ? resp.json() : { hits: [] }; })
      .then(function (data) { if (input.value.trim() === q) { show(data.hits || []); } })
      .catch(function () { /* an aborted or failed suggestion: the form still works */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(suggest, 120);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") { event.preventDefault(); if (list.hidden) { suggest(); } else { highlight(active + 1); } }
    else if (event.key === "ArrowUp") { event.preventDefault(); highlight(active - 1); }
    else if (event.key === "Escape") { close(); }
    else if (event.key === "Enter" && active >= 0 && items[active]) {
      event.preventDefault();
      window.location.href = items[active].href;
    }
  });
  input.addEventListener("blur", function () { setTimeout(close, 100); });
  if (form) { form.addEventListener("submit", close); }
})();
