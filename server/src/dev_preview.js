// Dev preview: a stand-in for Telegram's WebApp outside Telegram. Served only with DEV_PREVIEW on,
// after `window.__STARFRONT_DEV__` (the chosen demo user and their signed init data).
(function () {
  "use strict";
  var dev = window.__STARFRONT_DEV__;
  var inTelegram = window.Telegram && window.Telegram.WebApp && window.Telegram.WebApp.initData;
  if (inTelegram || !dev) return;

  var listeners = {};
  window.Telegram = {
    WebApp: {
      initData: dev.initData,
      initDataUnsafe: dev.user ? { user: dev.user, auth_date: dev.authDate } : {},
      version: "9.0",
      platform: "dev-preview",
      colorScheme: "light",
      themeParams: {},
      isVersionAtLeast: function () { return true; },
      ready: function () {},
      expand: function () {},
      onEvent: function (name, fn) { (listeners[name] = listeners[name] || []).push(fn); },
      offEvent: function (name, fn) {
        listeners[name] = (listeners[name] || []).filter(function (f) { return f !== fn; });
      },
      openInvoice: function (url, callback) { paymentSheet(url, callback); },
    },
  };

  // Outside <body>, so hydration never meets nodes it did not render.
  function overlay(html) {
    var host = document.createElement("div");
    host.className = "dev-preview-layer";
    host.innerHTML = html;
    document.documentElement.appendChild(host);
    return host;
  }

  function post(path, body) {
    return fetch("/emulator/control/" + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then(function (r) { return r.json(); });
  }

  function paymentSheet(url, callback) {
    var slug = url.split("$").pop();
    fetch("/emulator/control/invoices/" + encodeURIComponent(slug))
      .then(function (r) { return r.json(); })
      .then(function (invoice) {
        var sheet = overlay(
          '<div class="dev-sheet" role="dialog" aria-label="Payment (dev preview)">' +
            "<p class=\"dev-sheet-title\"></p>" +
            '<p class="dev-sheet-amount"></p>' +
            '<p class="dev-sheet-note" role="status"></p>' +
            '<button type="button" class="dev-pay">Pay</button>' +
            '<button type="button" class="dev-cancel">Cancel</button>' +
            "</div>"
        );
        sheet.querySelector(".dev-sheet-title").textContent = invoice.title || "Invoice";
        sheet.querySelector(".dev-sheet-amount").textContent = "⭐ " + invoice.amount + " Stars";
        var done = function (status) { sheet.remove(); callback(status); };
        sheet.querySelector(".dev-cancel").onclick = function () {
          post("invoices/cancel", { link: url, user_id: dev.user.id }).then(function () { done("cancelled"); });
        };
        sheet.querySelector(".dev-pay").onclick = function () {
          post("invoices/pay", { link: url, user_id: dev.user.id }).then(function (outcome) {
            if (outcome.status === "paid") return done("paid");
            if (outcome.status === "insufficient_stars") {
              sheet.querySelector(".dev-sheet-note").textContent =
                "Not enough Stars: balance " + outcome.balance + ", price " + outcome.amount + ".";
              return;
            }
            sheet.querySelector(".dev-sheet-note").textContent =
              outcome.error_message || "The payment did not go through (" + outcome.status + ").";
            setTimeout(function () { done("failed"); }, 1500);
          });
        };
      });
  }

  function banner() {
    // Room below the page so the banner never hides its end.
    document.body.style.paddingBottom = "40px";
    var bar = overlay(
      '<div class="dev-banner">Dev preview, not Telegram · ' +
        '<label>signed in as <select class="dev-user"></select></label></div>'
    );
    var select = bar.querySelector(".dev-user");
    dev.users.concat([{ id: "none", label: "nobody (outside Telegram)" }]).forEach(function (u) {
      var option = document.createElement("option");
      option.value = String(u.id);
      option.textContent = u.label;
      option.selected = dev.user ? u.id === dev.user.id : u.id === "none";
      select.appendChild(option);
    });
    select.onchange = function () {
      document.cookie = "starfront_dev_user=" + select.value + "; path=/; SameSite=Lax";
      location.reload();
    };
  }

  var style = document.createElement("style");
  style.textContent =
    ".dev-banner{position:fixed;left:0;right:0;bottom:0;z-index:1000;padding:6px 12px;font:13px system-ui,sans-serif;" +
    "background:#fff3bf;color:#5c3c00;border-top:1px solid #f0c36d}" +
    ".dev-sheet{position:fixed;left:0;right:0;bottom:0;z-index:1001;padding:16px;background:#fff;color:#000;" +
    "font:15px system-ui,sans-serif;box-shadow:0 -4px 24px rgba(0,0,0,.25);border-radius:14px 14px 0 0;display:grid;gap:8px}" +
    ".dev-sheet button{min-height:44px;border:0;border-radius:10px;font-weight:600}" +
    ".dev-pay{background:#2481cc;color:#fff}.dev-cancel{background:#eee}";
  document.documentElement.appendChild(style);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", banner);
  else banner();
  if (!dev.user) delete window.Telegram;
})();
