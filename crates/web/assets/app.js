// Progressive enhancement only: every page works without this script.
(function () {
  "use strict";

  // Copy buttons: data-copy-target names the read-only field holding the text.
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copy-target"));
      if (!field) return;
      var done = function () {
        var label = button.getAttribute("data-copied-label") || "Copied";
        var original = button.getAttribute("data-label") || button.textContent;
        button.setAttribute("data-label", original);
        button.textContent = label;
        var status = document.getElementById(button.getAttribute("data-status") || "");
        if (status) status.textContent = label;
        setTimeout(function () { button.textContent = original; }, 2000);
      };
      var fallback = function () {
        field.focus();
        field.select();
        try { document.execCommand("copy"); done(); } catch (e) { /* the field stays selected */ }
      };
      if (navigator.clipboard && window.isSecureContext !== false) {
        navigator.clipboard.writeText(field.value).then(done, fallback);
      } else {
        fallback();
      }
    });
  });

  // Download buttons: save the text of a field as a file.
  document.querySelectorAll("[data-download-target]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-download-target"));
      if (!field) return;
      var blob = new Blob([field.value], { type: "application/x-pem-file" });
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = button.getAttribute("data-filename") || "key.pem";
      document.body.appendChild(a);
      a.click();
      a.remove();
    });
  });

  // Select the whole secret on focus, so keyboard users can copy it at once.
  document.querySelectorAll("textarea[readonly], input[readonly]").forEach(function (f) {
    f.addEventListener("focus", function () { f.select(); });
  });

  // The Admin menu collapses behind its Menu button on a phone. The CSS shows
  // the button only at narrow widths; wider, the menu is always shown.
  document.querySelectorAll("[data-menu-toggle]").forEach(function (button) {
    var menu = document.getElementById(button.getAttribute("aria-controls") || "");
    var nav = button.parentNode;
    if (!menu || !nav) return;
    var set = function (open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      nav.setAttribute("data-menu", open ? "open" : "closed");
    };
    set(false);
    button.hidden = false;
    button.addEventListener("click", function () {
      set(button.getAttribute("aria-expanded") !== "true");
    });
    // Escape closes the open menu and puts the focus back on its button.
    nav.addEventListener("keydown", function (e) {
      if (e.key !== "Escape" || button.getAttribute("aria-expanded") !== "true") return;
      if (getComputedStyle(button).display === "none") return;
      set(false);
      button.focus();
    });
  });

  // Tables read as cards on a phone, each value with its column's label: a
  // cell the page sent without a data-label gets its column header's text.
  document.querySelectorAll("table.cards").forEach(function (table) {
    var heads = table.querySelectorAll("thead th");
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.cells, function (cell, i) {
        var th = heads[i];
        if (cell.hasAttribute("data-label") || !th || th.querySelector(".visually-hidden")) return;
        cell.setAttribute("data-label", th.textContent.trim());
      });
    });
  });

  // Language switchers submit on change.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
    var btn = s.form.querySelector("[data-autosubmit-button]");
    if (btn) btn.hidden = true;
  });

  // Fields shown only for one choice of a radio group (e.g. "Use my own public key").
  document.querySelectorAll("[data-show-for-radio]").forEach(function (el) {
    var form = el.closest("form");
    if (!form) return;
    var radios = form.querySelectorAll('input[type=radio][name="' + el.getAttribute("data-show-for-radio") + '"]');
    var sync = function () {
      var chosen = form.querySelector('input[type=radio][name="' + el.getAttribute("data-show-for-radio") + '"]:checked');
      el.hidden = !chosen || chosen.value !== el.getAttribute("data-show-value");
    };
    radios.forEach(function (r) { r.addEventListener("change", sync); });
    sync();
  });

  // Expiry choice: show the custom date only when "custom" is chosen.
  document.querySelectorAll("[data-toggle-custom]").forEach(function (sel) {
    var target = document.getElementById(sel.getAttribute("data-toggle-custom"));
    var warn = document.getElementById(sel.getAttribute("data-toggle-warning") || "");
    var sync = function () {
      if (target) target.hidden = sel.value !== "custom";
      if (warn) warn.hidden = sel.value !== "never";
    };
    sel.addEventListener("change", sync);
    sync();
  });

  // Connect store / Re-authorize open Seller Central in a new tab. When the
  // merchant comes back to this tab, it reloads once, so it shows the
  // store's new status (the page asks the account service on every open).
  var connectFlag = "amazon-connect-opened";
  document.querySelectorAll("[data-connect]").forEach(function (button) {
    button.addEventListener("click", function () {
      try { sessionStorage.setItem(connectFlag, "1"); } catch (e) { /* no storage: reload by hand */ }
    });
  });
  var reloadAfterConnect = function () {
    if (document.visibilityState === "hidden") return;
    try {
      if (!sessionStorage.getItem(connectFlag)) return;
      sessionStorage.removeItem(connectFlag);
    } catch (e) { return; }
    // Without the query: a "saved" or "done" message belongs to the earlier action.
    location.replace(location.pathname);
  };
  window.addEventListener("focus", reloadAfterConnect);
  document.addEventListener("visibilitychange", reloadAfterConnect);

  // Passkeys (WebAuthn). A button with data-passkey="register" or
  // "authenticate" asks its data-passkey-options URL for the ceremony's
  // options, lets the browser talk to the authenticator, and sends the
  // answer to data-passkey-finish, which says where to go next. Shown only
  // where the browser reads and writes WebAuthn's JSON forms.
  var passkeysWork = !!(window.PublicKeyCredential &&
    PublicKeyCredential.parseCreationOptionsFromJSON &&
    PublicKeyCredential.parseRequestOptionsFromJSON);
  var postJson = function (url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) throw new Error(data.message || String(res.status));
        return data;
      });
    });
  };
  document.querySelectorAll("[data-passkey]").forEach(function (button) {
    if (!passkeysWork) return;
    button.hidden = false;
    var block = button.closest("[data-passkey-block]");
    if (block) block.hidden = false;
    var form = button.getAttribute("data-passkey") === "register" && button.closest("form");
    if (form) {
      // The form's own submit (a name, say) starts the ceremony instead.
      form.addEventListener("submit", function (e) { e.preventDefault(); button.click(); });
    }
    button.addEventListener("click", function () {
      var status = document.getElementById(button.getAttribute("data-passkey-status") || "");
      var nameField = document.getElementById(button.getAttribute("data-passkey-name") || "");
      var name = nameField ? nameField.value : "";
      var say = function (text) { if (status) status.textContent = text; };
      var register = button.getAttribute("data-passkey") === "register";
      if (register && nameField && !nameField.value.trim()) {
        nameField.focus();
        say(button.getAttribute("data-passkey-name-missing") || "");
        return;
      }
      button.disabled = true;
      say(button.getAttribute("data-passkey-waiting") || "");
      postJson(button.getAttribute("data-passkey-options"), {}).then(function (opts) {
        var json = opts.publicKey || opts;
        if (register) {
          return navigator.credentials.create({
            publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(json)
          });
        }
        return navigator.credentials.get({
          publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(json)
        });
      }).then(function (credential) {
        if (!credential) throw new Error("");
        return postJson(button.getAttribute("data-passkey-finish"), {
          credential: credential.toJSON(),
          name: name
        });
      }).then(function (done) {
        var next = done.redirect || button.getAttribute("data-passkey-next") || location.pathname;
        var codes = document.getElementById(button.getAttribute("data-passkey-codes") || "");
        if (codes && Array.isArray(done.recovery_codes)) {
          // Two-step sign-in just turned on: its recovery codes, shown once.
          var list = codes.querySelector("ol, ul");
          done.recovery_codes.forEach(function (code) {
            var li = document.createElement("li");
            li.textContent = code;
            list.appendChild(li);
          });
          var go = codes.querySelector("a[data-passkey-continue]");
          if (go) go.href = next;
          codes.hidden = false;
          var heading = codes.querySelector("h2, h1");
          if (heading) { heading.tabIndex = -1; heading.focus(); }
          say("");
          return;
        }
        location.assign(next);
      }).catch(function () {
        button.disabled = false;
        say(button.getAttribute("data-passkey-failed") || "");
      });
    });
  });
})();
