// Kagiya customer site: small help on top of pages that work without it. Nothing here decides:
// the password rules are asked of the server as they are typed, and every form is checked again
// when it is sent.
"use strict";
(function () {
  // The error summary (or the first message) gets the focus, so that a screen reader reads it.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  var csrf = document.querySelector('input[name="csrf"]');
  var tokenInput = document.querySelector("input[name=token][data-link]");

  var ja = document.documentElement.lang === "ja";

  // The rules of a new password, ticked as it is typed (asked of the server, a quarter second
  // after the last key). Each rule says in words whether it is met (not by colour alone); one
  // short status line is announced rather than the whole list.
  document.querySelectorAll("input[data-rules]").forEach(function (input) {
    var list = document.getElementById(input.id + "-rules");
    var summary = document.getElementById(input.id + "-summary");
    if (!list || !csrf) { return; }
    var timer = null;
    var seq = 0;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var mine = ++seq;
        var body = new URLSearchParams();
        body.set("csrf", csrf.value);
        body.set("kind", input.getAttribute("data-rules"));
        body.set("password", input.value);
        if (tokenInput) {
          body.set("token", tokenInput.value);
          body.set("link", tokenInput.getAttribute("data-link"));
        }
        fetch("/password/rules", { method: "POST", body: body, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (rules) {
            if (!rules || mine !== seq) { return; }
            var typed = input.value !== "";
            var met = 0;
            list.textContent = "";
            rules.forEach(function (rule) {
              var li = document.createElement("li");
              li.setAttribute("data-code", rule.code);
              li.textContent = rule.label;
              if (typed) {
                li.className = rule.ok ? "ok" : "ng";
                var state = document.createElement("span");
                state.className = "visually-hidden";
                state.textContent = rule.ok
                  ? (ja ? "（満たしています）" : " (met)")
                  : (ja ? "（満たしていません）" : " (not met)");
                li.appendChild(state);
                if (rule.ok) { met++; }
              }
              list.appendChild(li);
            });
            if (summary) {
              summary.textContent = typed
                ? (ja ? rules.length + "件中" + met + "件の条件を満たしています"
                      : met + " of " + rules.length + " rules met")
                : "";
            }
          })
          .catch(function () { /* the save checks anyway */ });
      }, 250);
    });
  });

  // "Again, to confirm": says at once, in words tied to the field, when the two differ.
  document.querySelectorAll("input[data-same-as]").forEach(function (again) {
    var first = document.getElementById(again.getAttribute("data-same-as"));
    if (!first) { return; }
    var note = document.getElementById(again.id + "-live");
    if (!note) {
      note = document.createElement("p");
      note.className = "error";
      note.id = again.id + "-live";
      note.setAttribute("aria-live", "polite");
      note.hidden = true;
      again.parentNode.appendChild(note);
    }
    var described = (again.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (described.indexOf(note.id) < 0) { described.push(note.id); }
    again.setAttribute("aria-describedby", described.join(" "));
    var check = function () {
      var differ = again.value !== "" && again.value !== first.value;
      note.textContent = differ ? (ja ? "新しいパスワードが一致しません。" : "The new passwords differ.") : "";
      note.hidden = !differ;
      if (differ) { again.setAttribute("aria-invalid", "true"); } else { again.removeAttribute("aria-invalid"); }
    };
    again.addEventListener("input", check);
    first.addEventListener("input", check);
  });

  // The unlock list's select-all: every user but oneself (seed 004: 「ご自身を除くすべてのユーザが
  // 選択されます」). The box is hidden until this script runs.
  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    var name = all.getAttribute("data-select-all");
    all.hidden = false;
    var label = all.parentNode.querySelector("span[aria-hidden]");
    if (label) { label.hidden = true; }
    all.addEventListener("change", function () {
      document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });
})();
