// Undo from the history pages. The curator's token is asked for once per browser session, kept in
// sessionStorage (this tab only, gone when it closes) and sent as the Authorization header of the
// undo request: the site sets no cookie, so a form on another site cannot undo anything.
(function () {
  "use strict";
  var KEY = "kg-curator-token";
  var form = document.getElementById("token-form");
  var status = document.getElementById("undo-status");
  var forget = document.getElementById("forget-token");
  var pending = null;
  if (!form || !status) { return; }

  function token() { return window.sessionStorage.getItem(KEY); }
  function showForget() { if (forget) { forget.hidden = !token(); } }

  function ask(id) {
    pending = id;
    form.hidden = false;
    status.textContent = "Enter your curator token to undo " + id + ".";
    form.elements.token.focus();
  }

  function undo(id, button) {
    var t = token();
    if (!t) { ask(id); return; }
    status.textContent = "Undoing " + id + "…";
    if (button) { button.disabled = true; }
    fetch("/history/" + encodeURIComponent(id) + "/undo", {
      method: "POST",
      credentials: "omit",
      headers: { "Authorization": "Bearer " + t, "Accept": "application/json" }
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (body) {
        if (resp.ok) {
          var by = resp.headers.get("KG-Change") || "";
          var cell = button ? button.closest(".state") : null;
          if (cell) { cell.textContent = "undone by " + by.split("/").pop(); }
          status.textContent = "Undone: " + (body.message || id);
          return;
        }
        if (resp.status === 401 || resp.status === 403) { window.sessionStorage.removeItem(KEY); showForget(); }
        if (button) { button.disabled = false; }
        status.textContent = "Not undone (" + resp.status + "): " + (body.message || resp.statusText);
      });
    }).catch(function (err) {
      if (button) { button.disabled = false; }
      status.textContent = "Not undone: " + err;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.undo") : null;
    if (button) { undo(button.getAttribute("data-id"), button); }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var value = form.elements.token.value.trim();
    if (!value) { return; }
    window.sessionStorage.setItem(KEY, value);
    form.reset();
    form.hidden = true;
    showForget();
    if (pending) {
      var id = pending;
      pending = null;
      undo(id, document.querySelector('button.undo[data-id="' + id + '"]'));
    }
  });
  if (forget) {
    forget.addEventListener("click", function () {
      window.sessionStorage.removeItem(KEY);
      showForget();
      status.textContent = "Token forgotten.";
    });
  }
  showForget();
}());
