// Tollgate console: progressive enhancement only. Every page works
// without this script; with it, copy buttons copy and destructive forms
// ask in a dialog instead of a confirmation page. No inline script: the
// console's CSP allows only this file.
(function () {
  "use strict";

  function copy(button) {
    var el = document.getElementById(button.getAttribute("data-copy"));
    if (!el) return;
    var text = el.textContent.trim();
    var label = button.textContent;
    function done(ok) {
      button.textContent = ok ? "Copied" : "Select and copy";
      setTimeout(function () { button.textContent = label; }, 2000);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { select(el); done(false); });
    } else {
      select(el);
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      done(ok);
    }
  }

  function select(el) {
    var r = document.createRange();
    r.selectNodeContents(el);
    var s = window.getSelection();
    s.removeAllRanges();
    s.addRange(r);
  }

  var dialog = null;

  function buildDialog() {
    dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", "confirm-dialog-text");
    var p = document.createElement("p");
    p.id = "confirm-dialog-text";
    var actions = document.createElement("div");
    actions.className = "actions";
    var ok = document.createElement("button");
    ok.type = "button";
    ok.className = "btn btn-danger";
    ok.id = "confirm-dialog-ok";
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn btn-ghost";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", function () { dialog.close(); });
    actions.appendChild(ok);
    actions.appendChild(cancel);
    dialog.appendChild(p);
    dialog.appendChild(actions);
    document.body.appendChild(dialog);
  }

  function ask(form) {
    if (!dialog) buildDialog();
    dialog.querySelector("p").textContent = form.getAttribute("data-confirm");
    var old = document.getElementById("confirm-dialog-ok");
    var ok = old.cloneNode(false);
    ok.textContent = form.getAttribute("data-confirm-button") || "Confirm";
    old.parentNode.replaceChild(ok, old);
    ok.addEventListener("click", function () {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "confirmed";
      input.value = "yes";
      form.appendChild(input);
      dialog.close();
      form.submit();
    });
    dialog.showModal();
    ok.focus();
  }

  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-copy]");
    if (b) { e.preventDefault(); copy(b); }
  });

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.hasAttribute("data-confirm") && typeof HTMLDialogElement === "function") {
      e.preventDefault();
      ask(form);
    }
  });
})();
