// Dev preview: a stand-in for Telegram's WebApp outside Telegram. Served only with DEV_PREVIEW on,
// after `window.__STARFRONT_DEV__` (the chosen demo user and their signed init data).
//
// It follows the documented API of telegram-web-app.js (https://core.telegram.org/bots/webapps):
// same names, defaults, chaining, errors and event payloads, so the app cannot tell the two
// apart. Every call the app makes is recorded in `window.__tgCalls` for the end-to-end tests.
// The preview's own chrome (banner, bottom button, payment sheet, bot chat) lives outside
// <body>, so hydration never meets nodes it did not render.
(function () {
  "use strict";
  var dev = window.__STARFRONT_DEV__;
  // Telegram hands the launch parameters over in the URL hash and its script keeps them in
  // session storage across reloads; either means the page runs inside Telegram.
  var launchedByTelegram =
    /(^|[#&])tgWebAppData=/.test(location.hash) ||
    /tgWebAppData/.test(safe(function () { return sessionStorage.getItem("__telegram__initParams"); }) || "");
  var alreadyInstalled = window.Telegram && window.Telegram.WebApp && window.Telegram.WebApp.initData;
  if (alreadyInstalled) return;
  if (launchedByTelegram) {
    // Opened inside Telegram (e.g. through a tunnel): the real script, while the parser waits.
    document.write('<script src="https://telegram.org/js/telegram-web-app.js"><\/script>');
    return;
  }
  if (!dev) return;

  // `scripts/dev.sh --watch` restarts the shop after each rebuild: a page served by an earlier
  // run reloads itself (polled only while it is visible).
  if (dev.reload) {
    setInterval(function () {
      if (document.hidden) return;
      fetch("/dev/boot", { cache: "no-store" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (boot) { if (boot && boot !== dev.reload) location.reload(); })
        .catch(function () {});
    }, 1000);
  }

  var VERSION = "8.0";
  var root = document.documentElement;
  var calls = (window.__tgCalls = window.__tgCalls || []);

  function safe(f) {
    try { return f(); } catch (e) { return null; }
  }

  // ---------------------------------------------------------------- themes
  var THEMES = {
    light: {
      bg_color: "#ffffff", text_color: "#000000", hint_color: "#999999", link_color: "#2481cc",
      button_color: "#2481cc", button_text_color: "#ffffff", secondary_bg_color: "#efeff3",
      header_bg_color: "#ffffff", bottom_bar_bg_color: "#ffffff", accent_text_color: "#2481cc",
      section_bg_color: "#ffffff", section_header_text_color: "#6d6d72",
      section_separator_color: "#e7e7e7", subtitle_text_color: "#999999",
      destructive_text_color: "#ff3b30",
    },
    dark: {
      bg_color: "#17212b", text_color: "#f5f5f5", hint_color: "#708499", link_color: "#6ab3f3",
      button_color: "#5288c1", button_text_color: "#ffffff", secondary_bg_color: "#232e3c",
      header_bg_color: "#17212b", bottom_bar_bg_color: "#17212b", accent_text_color: "#6ab2f2",
      section_bg_color: "#17212b", section_header_text_color: "#6ab3f3",
      section_separator_color: "#111921", subtitle_text_color: "#708499",
      destructive_text_color: "#ec3942",
    },
  };
  var THEME_KEY = "starfront_dev_theme";
  var CUSTOM_DEFAULT = { bg_color: "#fdf6e3", text_color: "#3b3024", button_color: "#b5651d" };

  function parseColor(color) {
    if (typeof color !== "string") return null;
    var c = color.trim().toLowerCase();
    var m = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/.exec(c);
    if (m) return "#" + m[1] + m[1] + m[2] + m[2] + m[3] + m[3];
    return /^#[0-9a-f]{6}$/.test(c) ? c : null;
  }
  function rgb(hex) {
    return [1, 3, 5].map(function (i) { return parseInt(hex.substr(i, 2), 16); });
  }
  // Telegram's rule: perceived brightness (HSP) below 120 is a dark colour.
  function isDark(hex) {
    var c = rgb(hex);
    return Math.sqrt(0.299 * c[0] * c[0] + 0.587 * c[1] * c[1] + 0.114 * c[2] * c[2]) < 120;
  }
  function mix(a, b, t) {
    var x = rgb(a), y = rgb(b);
    return "#" + x.map(function (v, i) {
      return ("0" + Math.round(v + (y[i] - v) * t).toString(16)).slice(-2);
    }).join("");
  }
  // A whole palette from the three colours a developer picks, the rest derived as Telegram's
  // clients derive theirs from a chat theme.
  function customTheme(picked) {
    var bg = parseColor(picked.bg_color) || CUSTOM_DEFAULT.bg_color;
    var text = parseColor(picked.text_color) || CUSTOM_DEFAULT.text_color;
    var button = parseColor(picked.button_color) || CUSTOM_DEFAULT.button_color;
    var theme = Object.assign({}, isDark(bg) ? THEMES.dark : THEMES.light);
    var hint = mix(text, bg, 0.45);
    return Object.assign(theme, {
      bg_color: bg, text_color: text, hint_color: hint, subtitle_text_color: hint,
      link_color: button, button_color: button, accent_text_color: button,
      section_header_text_color: button, button_text_color: isDark(button) ? "#ffffff" : "#000000",
      secondary_bg_color: mix(bg, text, 0.06), header_bg_color: bg, bottom_bar_bg_color: bg,
      section_bg_color: bg, section_separator_color: mix(bg, text, 0.12),
    });
  }
  function loadThemeChoice() {
    var stored = safe(function () { return JSON.parse(localStorage.getItem(THEME_KEY)); });
    if (stored && (stored.name === "light" || stored.name === "dark")) return stored;
    if (stored && stored.name === "custom" && stored.colors) return stored;
    return { name: "light" };
  }
  function paletteOf(choice) {
    return choice.name === "custom" ? customTheme(choice.colors) : Object.assign({}, THEMES[choice.name]);
  }

  // ---------------------------------------------------------------- state
  var themeChoice = loadThemeChoice();
  var themeParams = {};
  var colorScheme = "light";
  var safeAreaInset = { top: 0, bottom: 0, left: 0, right: 0 };
  var contentSafeAreaInset = { top: 0, bottom: 0, left: 0, right: 0 };
  var viewportHeight = window.innerHeight;
  var closingConfirmation = false;
  var fullscreen = false, orientationLocked = false, verticalSwipes = true;
  var headerColorKey = "bg_color", headerColor = null;
  var backgroundColor = "bg_color";
  var bottomBarColor = "bottom_bar_bg_color";
  var listeners = {};
  var popupOpen = false;

  function setCss(name, value) {
    root.style.setProperty("--tg-" + name, value);
  }

  function emit(event) {
    var args = Array.prototype.slice.call(arguments, 1);
    (listeners[event] || []).slice().forEach(function (fn) {
      // As in Telegram: handlers run with `this` = WebApp and cannot break each other.
      try { fn.apply(WebApp, args); } catch (e) { console.error("[Telegram.WebApp] " + event + " handler failed", e); }
    });
  }

  function applyTheme(palette) {
    themeParams = {};
    Object.keys(palette).forEach(function (key) {
      var color = parseColor(palette[key]);
      if (!color) return;
      themeParams[key] = color;
      if (key === "bg_color") {
        colorScheme = isDark(color) ? "dark" : "light";
        setCss("color-scheme", colorScheme);
      }
      setCss("theme-" + key.split("_").join("-"), color);
    });
    applyBackground();
    renderMainButton();
  }

  function applyInsets() {
    ["top", "bottom", "left", "right"].forEach(function (side) {
      setCss("safe-area-inset-" + side, safeAreaInset[side] + "px");
      setCss("content-safe-area-inset-" + side, contentSafeAreaInset[side] + "px");
    });
  }

  // The Mini App's viewport ends where Telegram's bottom bar begins.
  function chromeHeight() {
    var bottom = document.querySelector(".dev-bottom");
    return bottom ? bottom.offsetHeight : 0;
  }
  function applyViewport(fire) {
    var height = window.innerHeight - chromeHeight();
    var changed = height !== viewportHeight;
    viewportHeight = height;
    setCss("viewport-height", height + "px");
    setCss("viewport-stable-height", height + "px");
    root.style.setProperty("--dev-preview-bottom", chromeHeight() + "px");
    if (fire && changed) emit("viewportChanged", { isStateStable: true });
  }

  function colorFromKey(value) {
    return value === "bg_color" || value === "secondary_bg_color" || value === "bottom_bar_bg_color"
      ? themeParams[value] || null
      : value;
  }
  // The colour of the native view behind the page: the preview shows it around the bottom bar.
  function applyBackground() {
    root.style.setProperty("--dev-webview-bg", colorFromKey(backgroundColor) || "#fff");
  }

  // ---------------------------------------------------------------- recording
  function plain(value) {
    if (typeof value === "function") return "[function]";
    if (value && typeof value === "object") {
      return safe(function () { return JSON.parse(JSON.stringify(value)); });
    }
    return value;
  }
  // Wraps each method so the call is recorded before it runs (even if it then throws, as the
  // real API does on bad parameters).
  function recorded(prefix, methods) {
    var out = {};
    Object.keys(methods).forEach(function (name) {
      out[name] = function () {
        calls.push({ method: prefix + name, args: Array.prototype.map.call(arguments, plain) });
        return methods[name].apply(this, arguments);
      };
    });
    return out;
  }
  function define(target, props) {
    Object.keys(props).forEach(function (name) {
      var p = props[name];
      Object.defineProperty(target, name, { get: p.get, set: p.set, enumerable: true });
    });
  }

  // ---------------------------------------------------------------- bottom buttons
  function bottomButton(kind, prefix, defaultText) {
    var state = {
      text: defaultText, color: null, textColor: null, isVisible: false, isActive: true,
      isProgressVisible: false, hasShineEffect: false, position: "left",
    };
    var clickEvent = kind + "ButtonClicked";
    var button;
    function update(params) {
      if (typeof params !== "object" || params === null) throw Error("WebAppBottomButtonParamInvalid");
      if (params.text !== undefined) {
        var text = String(params.text).trim();
        if (!text.length || text.length > 64) {
          console.error("[Telegram.WebApp] Bottom button text is invalid", params.text);
          throw Error("WebAppBottomButtonParamInvalid");
        }
        state.text = text;
      }
      if (params.color !== undefined) {
        if (params.color === false || params.color === null) state.color = null;
        else if (!(state.color = parseColor(params.color))) throw Error("WebAppBottomButtonParamInvalid");
      }
      if (params.text_color !== undefined) {
        if (params.text_color === false || params.text_color === null) state.textColor = null;
        else if (!(state.textColor = parseColor(params.text_color))) throw Error("WebAppBottomButtonParamInvalid");
      }
      if (params.is_visible !== undefined) state.isVisible = !!params.is_visible;
      if (params.has_shine_effect !== undefined) state.hasShineEffect = !!params.has_shine_effect;
      if (params.is_active !== undefined) state.isActive = !!params.is_active;
      if (params.position !== undefined) state.position = String(params.position);
      renderMainButton();
      return button;
    }
    button = recorded(prefix, {
      setText: function (text) { return update({ text: text }); },
      onClick: function (fn) { on(clickEvent, fn); return button; },
      offClick: function (fn) { off(clickEvent, fn); return button; },
      show: function () { return update({ is_visible: true }); },
      hide: function () { return update({ is_visible: false }); },
      enable: function () { return update({ is_active: true }); },
      disable: function () { return update({ is_active: false }); },
      showProgress: function (leaveActive) {
        state.isActive = !!leaveActive;
        state.isProgressVisible = true;
        renderMainButton();
        return button;
      },
      hideProgress: function () {
        state.isActive = true;
        state.isProgressVisible = false;
        renderMainButton();
        return button;
      },
      setParams: function (params) { return update(params); },
    });
    define(button, {
      type: { get: function () { return kind; } },
      text: { get: function () { return state.text; }, set: function (v) { update({ text: v }); } },
      color: {
        get: function () { return state.color || themeParams.button_color || "#2481cc"; },
        set: function (v) { update({ color: v }); },
      },
      textColor: {
        get: function () { return state.textColor || themeParams.button_text_color || "#ffffff"; },
        set: function (v) { update({ text_color: v }); },
      },
      isVisible: { get: function () { return state.isVisible; }, set: function (v) { update({ is_visible: v }); } },
      isActive: { get: function () { return state.isActive; }, set: function (v) { update({ is_active: v }); } },
      isProgressVisible: { get: function () { return state.isProgressVisible; } },
      hasShineEffect: {
        get: function () { return state.hasShineEffect; },
        set: function (v) { update({ has_shine_effect: v }); },
      },
      position: { get: function () { return state.position; }, set: function (v) { update({ position: v }); } },
    });
    button._click = function () {
      // Telegram only reports presses of an active button.
      if (state.isActive) emit(clickEvent);
    };
    return button;
  }

  // ---------------------------------------------------------------- events
  function on(event, fn) {
    if (typeof fn !== "function") return;
    var list = (listeners[event] = listeners[event] || []);
    // Like Telegram, a handler registered twice still runs once.
    if (list.indexOf(fn) < 0) list.push(fn);
  }
  function off(event, fn) {
    listeners[event] = (listeners[event] || []).filter(function (f) { return f !== fn; });
  }

  // ---------------------------------------------------------------- the WebApp object
  var startParam = dev.startParam || (function () {
    var query = new URLSearchParams(location.search);
    return query.get("tgWebAppStartParam") || query.get("startapp") || undefined;
  })();
  // initDataUnsafe is what the signed initData says, field by field, as Telegram's client
  // parses it (WebAppInitData: user, chat_type, chat_instance, start_param, auth_date, hash,
  // signature); the page never trusts it, the server checks initData itself.
  var initDataUnsafe = {};
  if (dev.user) {
    new URLSearchParams(dev.initData).forEach(function (value, key) {
      if (key === "user") initDataUnsafe.user = JSON.parse(value);
      else if (key === "auth_date") initDataUnsafe.auth_date = Number(value);
      else initDataUnsafe[key] = value;
    });
    if (startParam && !initDataUnsafe.start_param) initDataUnsafe.start_param = startParam;
  }

  function versionAtLeast(ver) {
    var a = VERSION.split("."), b = String(ver).split(".");
    for (var i = 0; i < Math.max(a.length, b.length); i++) {
      var x = parseInt(a[i] || 0, 10) || 0, y = parseInt(b[i] || 0, 10) || 0;
      if (x !== y) return x > y;
    }
    return true;
  }

  var MainButton = bottomButton("main", "MainButton.", "Continue");
  var SecondaryButton = bottomButton("secondary", "SecondaryButton.", "Cancel");

  var backVisible = false;
  var BackButton = recorded("BackButton.", {
    onClick: function (fn) { on("backButtonClicked", fn); return BackButton; },
    offClick: function (fn) { off("backButtonClicked", fn); return BackButton; },
    show: function () { backVisible = true; renderBackButton(); return BackButton; },
    hide: function () { backVisible = false; renderBackButton(); return BackButton; },
  });
  define(BackButton, {
    isVisible: {
      get: function () { return backVisible; },
      set: function (v) { backVisible = !!v; renderBackButton(); },
    },
  });

  var settingsVisible = false;
  var SettingsButton = recorded("SettingsButton.", {
    onClick: function (fn) { on("settingsButtonClicked", fn); return SettingsButton; },
    offClick: function (fn) { off("settingsButtonClicked", fn); return SettingsButton; },
    show: function () { settingsVisible = true; return SettingsButton; },
    hide: function () { settingsVisible = false; return SettingsButton; },
  });
  define(SettingsButton, {
    isVisible: {
      get: function () { return settingsVisible; },
      set: function (v) { settingsVisible = !!v; },
    },
  });

  var IMPACT = ["light", "medium", "heavy", "rigid", "soft"];
  var NOTIFICATION = ["error", "success", "warning"];
  var HapticFeedback = recorded("HapticFeedback.", {
    impactOccurred: function (style) {
      if (IMPACT.indexOf(style) < 0) throw Error("WebAppHapticImpactStyleInvalid");
      return HapticFeedback;
    },
    notificationOccurred: function (type) {
      if (NOTIFICATION.indexOf(type) < 0) throw Error("WebAppHapticNotificationTypeInvalid");
      return HapticFeedback;
    },
    selectionChanged: function () { return HapticFeedback; },
  });

  var WebApp = recorded("", {
    isVersionAtLeast: versionAtLeast,
    ready: function () {},
    expand: function () {},
    close: function () { closedScreen(); },
    onEvent: on,
    offEvent: off,
    setHeaderColor: function (color) {
      if (color === "bg_color" || color === "secondary_bg_color") {
        headerColorKey = color;
        headerColor = null;
      } else {
        var hex = parseColor(color);
        if (!hex) throw Error("WebAppHeaderColorInvalid");
        headerColorKey = null;
        headerColor = hex;
      }
    },
    setBackgroundColor: function (color) {
      if (color !== "bg_color" && color !== "secondary_bg_color") {
        if (!(color = parseColor(color))) throw Error("WebAppBackgroundColorInvalid");
      }
      backgroundColor = color;
      applyBackground();
    },
    setBottomBarColor: function (color) {
      if (color !== "bg_color" && color !== "secondary_bg_color" && color !== "bottom_bar_bg_color") {
        if (!(color = parseColor(color))) throw Error("WebAppBottomBarColorInvalid");
      }
      bottomBarColor = color;
      renderMainButton();
    },
    // A browser tab has no native fullscreen, orientation lock or swipe-to-close: the state
    // changes and the events fire as in Telegram, nothing else happens.
    requestFullscreen: function () {
      if (fullscreen) return emit("fullscreenFailed", { error: "ALREADY_FULLSCREEN" });
      fullscreen = true;
      emit("fullscreenChanged");
    },
    exitFullscreen: function () {
      if (!fullscreen) return emit("fullscreenFailed", { error: "UNSUPPORTED" });
      fullscreen = false;
      emit("fullscreenChanged");
    },
    lockOrientation: function () { orientationLocked = true; },
    unlockOrientation: function () { orientationLocked = false; },
    enableVerticalSwipes: function () { verticalSwipes = true; },
    disableVerticalSwipes: function () { verticalSwipes = false; },
    enableClosingConfirmation: function () { closingConfirmation = true; },
    disableClosingConfirmation: function () { closingConfirmation = false; },
    openLink: function (url) {
      var parsed = safe(function () { return new URL(url, location.href); });
      if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
        throw Error("WebAppTgUrlInvalid");
      }
      window.open(parsed.href, "_blank", "noopener");
    },
    openTelegramLink: function (url) {
      var parsed = safe(function () { return new URL(url, "https://t.me/"); });
      if (!parsed || (parsed.hostname !== "t.me" && parsed.hostname !== "telegram.me")) {
        throw Error("WebAppTgUrlInvalid");
      }
      sheetNotice("Telegram would open " + parsed.href);
    },
    openInvoice: function (url, callback) { openInvoice(url, callback); },
    downloadFile: function (params, callback) { downloadFile(params, callback); },
    shareMessage: function (id, callback) { shareMessage(id, callback); },
    shareToStory: function (mediaUrl, params) {
      var url = safe(function () { return new URL(mediaUrl); });
      if (!url || (url.protocol !== "https:" && url.origin !== location.origin)) {
        throw Error("WebAppShareToStoryParamInvalid");
      }
      sheetNotice("Telegram would open the story editor with " + url.href +
        (params && params.text ? " and the text: " + params.text : ""));
    },
    showPopup: function (params, callback) { showPopup(params, callback); },
    showAlert: function (message, callback) {
      showPopup({ message: message }, callback ? function () { callback(); } : null);
    },
    showConfirm: function (message, callback) {
      showPopup(
        { message: message, buttons: [{ type: "ok", id: "ok" }, { type: "cancel" }] },
        callback ? function (id) { callback(id === "ok"); } : null
      );
    },
  });
  define(WebApp, {
    initData: { get: function () { return dev.initData; } },
    initDataUnsafe: { get: function () { return initDataUnsafe; } },
    version: { get: function () { return VERSION; } },
    platform: { get: function () { return "unknown"; } },
    colorScheme: { get: function () { return colorScheme; } },
    themeParams: { get: function () { return themeParams; } },
    isExpanded: { get: function () { return true; } },
    viewportHeight: { get: function () { return viewportHeight; } },
    viewportStableHeight: { get: function () { return viewportHeight; } },
    safeAreaInset: { get: function () { return safeAreaInset; } },
    contentSafeAreaInset: { get: function () { return contentSafeAreaInset; } },
    isActive: { get: function () { return document.visibilityState !== "hidden"; } },
    isFullscreen: { get: function () { return fullscreen; } },
    isOrientationLocked: { get: function () { return orientationLocked; } },
    isVerticalSwipesEnabled: { get: function () { return verticalSwipes; } },
    isClosingConfirmationEnabled: {
      get: function () { return closingConfirmation; },
      set: function (v) { closingConfirmation = !!v; },
    },
    headerColor: { get: function () { return headerColorKey ? themeParams[headerColorKey] : headerColor; } },
    backgroundColor: { get: function () { return colorFromKey(backgroundColor); } },
    bottomBarColor: { get: function () { return colorFromKey(bottomBarColor); } },
    MainButton: { get: function () { return MainButton; } },
    SecondaryButton: { get: function () { return SecondaryButton; } },
    BackButton: { get: function () { return BackButton; } },
    SettingsButton: { get: function () { return SettingsButton; } },
    HapticFeedback: { get: function () { return HapticFeedback; } },
  });

  // Like Telegram asking "close anyway?" when the user leaves an app that asked for it.
  window.addEventListener("beforeunload", function (e) {
    if (closingConfirmation && !leavingOnPurpose) {
      e.preventDefault();
      e.returnValue = "";
    }
  });
  var leavingOnPurpose = false;
  // Telegram reports the Mini App going to the background and back (Bot API 8.0).
  document.addEventListener("visibilitychange", function () {
    emit(document.visibilityState === "hidden" ? "deactivated" : "activated");
  });
  function reload() {
    leavingOnPurpose = true;
    location.reload();
  }

  // ---------------------------------------------------------------- preview chrome
  function layer(className, html) {
    var host = document.createElement("div");
    host.className = "dev-preview-layer " + className;
    host.innerHTML = html;
    root.appendChild(host);
    return host;
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var bottom, mainBar, backBar, chatPanel, chatTimer;

  function renderMainButton() {
    if (!mainBar) return;
    var buttons = [MainButton, SecondaryButton].filter(function (b) { return b.isVisible; });
    mainBar.hidden = buttons.length === 0;
    mainBar.style.background = colorFromKey(bottomBarColor) || "";
    mainBar.textContent = "";
    buttons.forEach(function (b) {
      var node = el("button", {
        type: "button",
        class: "dev-bottom-button dev-" + b.type + "-button",
        "aria-disabled": String(!b.isActive),
        "aria-busy": String(b.isProgressVisible),
      });
      node.style.background = b.type === "main" ? b.color : "transparent";
      node.style.color = b.type === "main" ? b.textColor : b.color;
      node.appendChild(el("span", { class: "dev-bottom-text" }, b.text));
      if (b.isProgressVisible) node.appendChild(el("span", { class: "dev-spinner", "aria-label": "in progress" }));
      node.onclick = function () { b._click(); };
      mainBar.appendChild(node);
    });
    applyViewport(true);
  }

  function renderBackButton() {
    if (backBar) backBar.hidden = !backVisible;
  }

  function chrome() {
    backBar = layer("dev-back", '<button type="button" class="dev-back-button">‹ Back</button>');
    backBar.querySelector("button").onclick = function () { emit("backButtonClicked"); };
    renderBackButton();
    layer("dev-safe-areas", '<div class="dev-safe-top"></div><div class="dev-safe-bottom"></div>');

    bottom = layer("dev-bottom", "");
    chatPanel = el("section", { class: "dev-chat", "aria-label": "Bot chat" });
    chatPanel.hidden = true;
    mainBar = el("div", { class: "dev-main-bar" });
    bottom.appendChild(chatPanel);
    bottom.appendChild(mainBar);
    bottom.appendChild(banner());
    renderMainButton();
    if (safe(function () { return localStorage.getItem("starfront_dev_chat"); }) === "open") toggleChat(true);
    window.addEventListener("resize", function () { applyViewport(true); });
    applyViewport(false);
  }

  function banner() {
    var bar = el("div", { class: "dev-banner" });
    bar.innerHTML =
      "<strong>Dev preview, not Telegram</strong> " +
      '<label>signed in as <select class="dev-user"></select></label> ' +
      '<label class="dev-themed">theme <select class="dev-theme">' +
      '<option value="light">Telegram light</option><option value="dark">Telegram dark</option>' +
      '<option value="custom">custom</option></select></label> ' +
      '<span class="dev-custom">' +
      '<label>bg <input type="color" data-key="bg_color"></label>' +
      '<label>text <input type="color" data-key="text_color"></label>' +
      '<label>button <input type="color" data-key="button_color"></label></span> ' +
      '<label class="dev-themed">safe area <select class="dev-insets">' +
      '<option value="none">none</option><option value="notch">phone notch</option>' +
      '<option value="fullscreen">phone, fullscreen</option></select></label> ' +
      '<button type="button" class="dev-chat-toggle" aria-expanded="false">Bot chat</button>';

    var select = bar.querySelector(".dev-user");
    dev.users.concat([{ id: "none", label: "nobody (outside Telegram)" }]).forEach(function (u) {
      var option = el("option", { value: String(u.id) }, u.label);
      option.selected = dev.user ? u.id === dev.user.id : u.id === "none";
      select.appendChild(option);
    });
    select.onchange = function () {
      document.cookie = "starfront_dev_user=" + select.value + "; path=/; SameSite=Lax";
      reload();
    };

    var theme = bar.querySelector(".dev-theme");
    var custom = bar.querySelector(".dev-custom");
    var colors = Object.assign({}, CUSTOM_DEFAULT, themeChoice.colors || {});
    theme.value = themeChoice.name;
    custom.hidden = themeChoice.name !== "custom";
    Array.prototype.forEach.call(custom.querySelectorAll("input"), function (input) {
      input.value = colors[input.dataset.key];
      input.oninput = function () {
        colors[input.dataset.key] = input.value;
        chooseTheme({ name: "custom", colors: Object.assign({}, colors) });
      };
    });
    theme.onchange = function () {
      custom.hidden = theme.value !== "custom";
      chooseTheme(theme.value === "custom" ? { name: "custom", colors: Object.assign({}, colors) } : { name: theme.value });
    };

    var insets = bar.querySelector(".dev-insets");
    insets.value = safe(function () { return localStorage.getItem("starfront_dev_insets"); }) || "none";
    insets.onchange = function () {
      safe(function () { localStorage.setItem("starfront_dev_insets", insets.value); });
      setInsets(insets.value, true);
    };
    if (dev.user) setInsets(insets.value, false);

    var toggle = bar.querySelector(".dev-chat-toggle");
    toggle.onclick = function () { toggleChat(chatPanel.hidden); };
    if (!dev.user) {
      // Outside Telegram there is no theme, no insets and no chat: only the way back in.
      Array.prototype.forEach.call(bar.querySelectorAll(".dev-themed, .dev-custom, .dev-chat-toggle"), function (n) {
        n.hidden = true;
      });
    }
    return bar;
  }

  function chooseTheme(choice) {
    themeChoice = choice;
    safe(function () { localStorage.setItem(THEME_KEY, JSON.stringify(choice)); });
    applyTheme(paletteOf(choice));
    emit("themeChanged");
  }

  var INSETS = {
    none: [{ top: 0, bottom: 0, left: 0, right: 0 }, { top: 0, bottom: 0, left: 0, right: 0 }],
    notch: [{ top: 47, bottom: 34, left: 0, right: 0 }, { top: 0, bottom: 0, left: 0, right: 0 }],
    // Fullscreen: Telegram's own close and menu buttons float over the content's top.
    fullscreen: [{ top: 47, bottom: 34, left: 0, right: 0 }, { top: 46, bottom: 0, left: 0, right: 0 }],
  };
  function setInsets(name, fire) {
    var preset = INSETS[name] || INSETS.none;
    Object.assign(safeAreaInset, preset[0]);
    Object.assign(contentSafeAreaInset, preset[1]);
    applyInsets();
    root.style.setProperty("--dev-safe-top", safeAreaInset.top + "px");
    root.style.setProperty("--dev-safe-bottom", safeAreaInset.bottom + "px");
    root.style.setProperty("--dev-content-top", contentSafeAreaInset.top + "px");
    if (fire) {
      emit("safeAreaChanged");
      emit("contentSafeAreaChanged");
    }
  }

  // ---------------------------------------------------------------- bot chat
  function toggleChat(open) {
    chatPanel.hidden = !open;
    var toggle = document.querySelector(".dev-chat-toggle");
    if (toggle) toggle.setAttribute("aria-expanded", String(open));
    safe(function () { localStorage.setItem("starfront_dev_chat", open ? "open" : "closed"); });
    clearInterval(chatTimer);
    if (open) {
      refreshChat();
      chatTimer = setInterval(refreshChat, 1500);
    }
    applyViewport(true);
  }

  function refreshChat() {
    if (!dev.user) return;
    fetch("/emulator/control/chats/" + dev.user.id + "/messages")
      .then(function (r) { return r.json(); })
      .then(function (sent) {
        var list = el("ol", { class: "dev-chat-list" });
        sent.forEach(function (entry) {
          var m = entry.message || {};
          var item = el("li", { class: "dev-chat-message" });
          var when = m.date ? new Date(m.date * 1000).toLocaleTimeString() : "";
          item.appendChild(el("time", {}, when));
          var doc = m.document || entry.file;
          if (doc) {
            var size = doc.file_size ? " (" + Math.max(1, Math.round(doc.file_size / 1024)) + " KB)" : "";
            item.appendChild(el("p", { class: "dev-chat-document" }, "📄 " + (doc.file_name || "file") + size));
          }
          if (m.via_bot) {
            item.appendChild(el("p", { class: "dev-chat-via" }, (m.from && m.from.first_name) + " via @" + m.via_bot.username));
          }
          var text = m.text || m.caption;
          if (text) item.appendChild(el("p", { class: "dev-chat-text" }, text));
          var keyboard = (m.reply_markup && m.reply_markup.inline_keyboard) || [];
          keyboard.forEach(function (row) {
            row.forEach(function (b) { item.appendChild(el("span", { class: "dev-chat-key" }, b.text)); });
          });
          list.appendChild(item);
        });
        var title = el("h2", {}, "Bot chat with " + dev.user.first_name + " (" + sent.length + ")");
        chatPanel.replaceChildren(title, sent.length ? list : el("p", {}, "The bot has not written yet."));
        chatPanel.scrollTop = chatPanel.scrollHeight;
        applyViewport(true);
      })
      .catch(function () {});
  }

  // ---------------------------------------------------------------- sheets
  function sheet(label, build) {
    var host = layer("dev-sheet-layer", "");
    var box = el("div", { class: "dev-sheet", role: "dialog", "aria-label": label });
    host.appendChild(box);
    build(box);
    return host;
  }

  function sheetNotice(text) {
    var host = sheet("Dev preview notice", function (box) {
      box.appendChild(el("p", {}, text));
      var ok = el("button", { type: "button", class: "dev-cancel" }, "OK");
      ok.onclick = function () { host.remove(); };
      box.appendChild(ok);
    });
  }

  function showPopup(params, callback) {
    if (popupOpen) throw Error("WebAppPopupOpened");
    if (!params || typeof params !== "object") throw Error("WebAppPopupParamInvalid");
    var title = params.title === undefined ? "" : String(params.title).trim();
    var message = params.message === undefined ? "" : String(params.message).trim();
    if (title.length > 64 || !message.length || message.length > 256) throw Error("WebAppPopupParamInvalid");
    var buttons = params.buttons && params.buttons.length ? params.buttons : [{ type: "close" }];
    if (buttons.length > 3) throw Error("WebAppPopupParamInvalid");
    var LABELS = { ok: "OK", close: "Close", cancel: "Cancel" };
    buttons = buttons.map(function (b) {
      var type = b.type || "default";
      var id = b.id === undefined ? "" : String(b.id);
      var text = LABELS[type] || (b.text === undefined ? "" : String(b.text).trim());
      if (id.length > 64 || !text.length || text.length > 64) throw Error("WebAppPopupParamInvalid");
      if (["default", "ok", "close", "cancel", "destructive"].indexOf(type) < 0) throw Error("WebAppPopupParamInvalid");
      return { id: id, type: type, text: text };
    });
    popupOpen = true;
    var host = sheet(title || "Popup", function (box) {
      box.classList.add("dev-popup");
      if (title) box.appendChild(el("p", { class: "dev-sheet-title" }, title));
      box.appendChild(el("p", {}, message));
      buttons.forEach(function (b) {
        var node = el("button", { type: "button", class: "dev-popup-" + b.type }, b.text);
        node.onclick = function () {
          host.remove();
          popupOpen = false;
          if (callback) callback(b.id);
          emit("popupClosed", { button_id: b.id });
        };
        box.appendChild(node);
      });
    });
  }

  // The user picks a chat for a prepared message; the preview has one, the bot chat, where the
  // message lands "via @bot" as it would in any chat.
  var shareOpen = false;
  function shareMessage(id, callback) {
    if (typeof id !== "string" || !id) throw Error("WebAppShareMessageParamInvalid");
    if (shareOpen) throw Error("WebAppShareMessageOpened");
    shareOpen = true;
    function finish(error) {
      shareOpen = false;
      if (error) emit("shareMessageFailed", { error: error });
      else emit("shareMessageSent");
      if (callback) callback(!error);
    }
    fetch("/emulator/control/prepared/" + encodeURIComponent(id))
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (prepared) {
        if (!prepared) return finish("MESSAGE_EXPIRED");
        var result = prepared.result || {};
        var content = result.input_message_content || {};
        var host = sheet("Share message (dev preview)", function (box) {
          box.appendChild(el("p", { class: "dev-sheet-title" }, "Send to a chat"));
          box.appendChild(el("p", { class: "dev-share-text" }, content.message_text || result.caption || result.title || ""));
          var yes = el("button", { type: "button", class: "dev-pay dev-share-send" }, "Send to the bot chat");
          var no = el("button", { type: "button", class: "dev-cancel" }, "Cancel");
          no.onclick = function () { host.remove(); finish("USER_DECLINED"); };
          yes.onclick = function () {
            host.remove();
            fetch("/emulator/control/prepared/" + encodeURIComponent(id) + "/share", {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ user_id: dev.user.id }),
            }).then(function (r) {
              if (!r.ok) return finish("MESSAGE_SEND_FAILED");
              finish(null);
              toggleChat(true);
            }).catch(function () { finish("UNKNOWN_ERROR"); });
          };
          box.appendChild(yes);
          box.appendChild(no);
        });
      })
      .catch(function () { finish("UNKNOWN_ERROR"); });
  }

  var downloadOpen = false;
  function downloadFile(params, callback) {
    if (!params || typeof params.url !== "string" || typeof params.file_name !== "string" || !params.file_name) {
      throw Error("WebAppDownloadFileParamInvalid");
    }
    var url = safe(function () { return new URL(params.url, location.href); });
    // Telegram wants https; the preview itself is served over http, so its own origin passes too.
    if (!url || (url.protocol !== "https:" && url.origin !== location.origin)) {
      throw Error("WebAppDownloadFileParamInvalid");
    }
    if (downloadOpen) throw Error("WebAppDownloadFilePopupOpened");
    downloadOpen = true;
    var host = sheet("Download file (dev preview)", function (box) {
      box.appendChild(el("p", { class: "dev-sheet-title" }, "Download file?"));
      box.appendChild(el("p", { class: "dev-download-name" }, params.file_name));
      var yes = el("button", { type: "button", class: "dev-pay" }, "Download");
      var no = el("button", { type: "button", class: "dev-cancel" }, "Cancel");
      function finish(accepted) {
        host.remove();
        downloadOpen = false;
        if (accepted) {
          var a = el("a", { href: url.href, download: params.file_name });
          root.appendChild(a);
          a.click();
          a.remove();
        }
        if (callback) callback(accepted);
        emit("fileDownloadRequested", { status: accepted ? "downloading" : "cancelled" });
      }
      yes.onclick = function () { finish(true); };
      no.onclick = function () { finish(false); };
      box.appendChild(yes);
      box.appendChild(no);
    });
  }

  // ---------------------------------------------------------------- payments
  function post(path, body) {
    return fetch("/emulator/control/" + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then(function (r) { return r.json(); });
  }
  function stars(n) {
    return "⭐ " + Number(n).toLocaleString("en-US");
  }

  // How long the sheet waits for a payment to settle before it reports "pending": longer than a
  // healthy shop's pre-checkout answer, well inside Telegram's 10 s for it.
  var PENDING_AFTER_MS = 4000;
  var openInvoices = {};
  function invoiceSlug(url) {
    var parsed = safe(function () { return new URL(url, "https://t.me/"); });
    if (!parsed || (parsed.hostname !== "t.me" && parsed.hostname !== "telegram.me")) return null;
    var path = decodeURIComponent(parsed.pathname);
    var m = /^\/\$([\w-]+)$/.exec(path) || /^\/invoice\/([\w-]+)$/.exec(path);
    return m ? m[1] : null;
  }

  function openInvoice(url, callback) {
    var slug = invoiceSlug(url);
    if (!slug) throw Error("WebAppInvoiceUrlInvalid");
    if (openInvoices[slug]) throw Error("WebAppInvoiceOpened");
    openInvoices[slug] = true;
    var closed = function (status) {
      delete openInvoices[slug];
      if (callback) callback(status);
      emit("invoiceClosed", { url: url, status: status });
    };
    Promise.all([
      fetch("/emulator/control/invoices/" + encodeURIComponent(slug)).then(function (r) { return r.json(); }),
      fetch("/emulator/control/users/" + dev.user.id).then(function (r) { return r.json(); }),
    ]).then(function (found) {
      paymentSheet(url, found[0], found[1].stars, closed);
    }).catch(function () { closed("failed"); });
  }

  function paymentSheet(url, invoice, balance, closed) {
    var host = sheet("Payment (dev preview)", function (box) {
      box.innerHTML =
        '<p class="dev-sheet-title"></p><p class="dev-sheet-description"></p>' +
        '<p class="dev-sheet-amount"></p><p class="dev-sheet-balance"></p>' +
        '<p class="dev-sheet-note" role="status"></p>' +
        '<button type="button" class="dev-topup" hidden>Top up 1,000 ⭐</button>' +
        '<button type="button" class="dev-pay">Pay</button>' +
        '<button type="button" class="dev-fail">Fail</button>' +
        '<button type="button" class="dev-cancel">Cancel</button>';
    });
    var q = function (sel) { return host.querySelector(sel); };
    q(".dev-sheet-title").textContent = invoice.title || "Invoice";
    q(".dev-sheet-description").textContent = invoice.description || "";
    q(".dev-sheet-amount").textContent = "⭐ " + invoice.amount + " Stars";
    var note = q(".dev-sheet-note");
    var buttons = host.querySelectorAll("button");
    function showBalance(current) {
      balance = current;
      q(".dev-sheet-balance").textContent = "Your balance: " + stars(balance);
      var short = balance < invoice.amount;
      q(".dev-topup").hidden = !short;
      note.textContent = short
        ? "Not enough Stars: balance " + balance + ", price " + invoice.amount + ". Top up to pay."
        : "";
    }
    function busy(on) {
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = on; });
    }
    function done(status) {
      host.remove();
      closed(status);
    }
    function act(path, then, extra) {
      busy(true);
      post(path, Object.assign({ link: url, user_id: dev.user.id }, extra || {}))
        .then(function (outcome) { busy(false); then(outcome); })
        .catch(function () { busy(false); note.textContent = "The emulator did not answer."; });
    }
    showBalance(balance);
    q(".dev-cancel").onclick = function () { act("invoices/cancel", function () { done("cancelled"); }); };
    q(".dev-fail").onclick = function () {
      act("invoices/fail", function () {
        note.textContent = "The payment failed. No Stars were taken.";
        busy(true);
        setTimeout(function () { done("failed"); }, 1000);
      });
    };
    q(".dev-topup").onclick = function () {
      busy(true);
      post("users/" + dev.user.id + "/stars/add", { amount: 1000 })
        .then(function (user) { busy(false); showBalance(user.stars); })
        .catch(function () { busy(false); });
    };
    q(".dev-pay").onclick = function () {
      note.textContent = "Paying…";
      // Telegram closes the sheet with "pending" while the payment is still processing (the bot
      // has not yet answered its pre-checkout query); the payment then goes on without the sheet
      // and the app learns the outcome from the shop (Mini Apps docs, invoiceClosed statuses).
      act("invoices/pay", function (outcome) {
        if (outcome.status === "paid") return done("paid");
        if (outcome.status === "pending") return done("pending");
        if (outcome.status === "insufficient_stars") return showBalance(outcome.balance);
        note.textContent = outcome.error_message || "The payment did not go through (" + outcome.status + ").";
        busy(true);
        setTimeout(function () { done("failed"); }, 1500);
      }, { pending_after_ms: PENDING_AFTER_MS });
    };
  }

  function closedScreen() {
    var host = layer("dev-closed", "");
    host.appendChild(el("p", {}, "The Mini App was closed."));
    var again = el("button", { type: "button" }, "Open it again");
    again.onclick = reload;
    host.appendChild(again);
  }

  // ---------------------------------------------------------------- start
  var style = document.createElement("style");
  style.textContent =
    "html{padding-bottom:var(--dev-preview-bottom,0px)}" +
    ".dev-preview-layer{font:14px system-ui,sans-serif}" +
    ".dev-bottom{position:fixed;left:0;right:0;bottom:0;z-index:1000;display:flex;flex-direction:column}" +
    ".dev-banner{padding:6px 12px;background:#fff3bf;color:#5c3c00;border-top:1px solid #f0c36d;" +
    "display:flex;flex-wrap:wrap;gap:4px 12px;align-items:center}" +
    ".dev-banner [hidden]{display:none}" +
    ".dev-custom input{width:28px;height:20px;padding:0;border:0;vertical-align:middle}" +
    ".dev-main-bar{display:flex;gap:8px;padding:8px 12px;background:var(--dev-webview-bg,#fff)}" +
    ".dev-main-bar[hidden]{display:none}" +
    ".dev-bottom-button{flex:1;min-height:48px;border:0;border-radius:10px;font:600 15px system-ui,sans-serif;" +
    "display:flex;align-items:center;justify-content:center;gap:8px;cursor:pointer}" +
    ".dev-bottom-button[aria-disabled=true]{opacity:.55;cursor:default}" +
    ".dev-spinner{width:16px;height:16px;border:2px solid currentColor;border-right-color:transparent;" +
    "border-radius:50%;animation:dev-spin .8s linear infinite}" +
    "@keyframes dev-spin{to{transform:rotate(360deg)}}" +
    ".dev-back{position:fixed;z-index:1000;top:calc(8px + var(--dev-safe-top,0px));left:8px}" +
    ".dev-back[hidden]{display:none}" +
    ".dev-back-button{min-height:36px;padding:0 14px;border:0;border-radius:18px;font:600 15px system-ui,sans-serif;" +
    "background:rgba(0,0,0,.6);color:#fff;cursor:pointer}" +
    ".dev-safe-top,.dev-safe-bottom{position:fixed;left:0;right:0;z-index:999;pointer-events:none;" +
    "background:repeating-linear-gradient(45deg,rgba(255,0,80,.12) 0 6px,transparent 6px 12px)}" +
    ".dev-safe-top{top:0;height:calc(var(--dev-safe-top,0px) + var(--dev-content-top,0px))}" +
    ".dev-safe-bottom{bottom:0;height:var(--dev-safe-bottom,0px)}" +
    ".dev-chat{max-height:40vh;overflow:auto;padding:8px 12px;background:#fffdf3;color:#222;" +
    "border-top:1px solid #f0c36d}" +
    ".dev-chat[hidden]{display:none}" +
    ".dev-chat h2{font-size:14px;margin:0 0 6px}" +
    ".dev-chat-list{list-style:none;margin:0;padding:0;display:grid;gap:6px}" +
    ".dev-chat-message{background:#fff;border:1px solid #eadfb8;border-radius:8px;padding:6px 8px}" +
    ".dev-chat-message p{margin:2px 0;white-space:pre-wrap}" +
    ".dev-chat-message time{float:right;color:#888;font-size:12px}" +
    ".dev-chat-key{display:inline-block;margin:2px 4px 0 0;padding:2px 8px;border-radius:6px;background:#e8f1fb}" +
    ".dev-sheet-layer{position:fixed;inset:0;z-index:1001;background:rgba(0,0,0,.35)}" +
    ".dev-sheet{position:absolute;left:0;right:0;bottom:0;padding:16px;background:var(--tg-theme-bg-color,#fff);color:var(--tg-theme-text-color,#000);" +
    "font:15px system-ui,sans-serif;box-shadow:0 -4px 24px rgba(0,0,0,.25);border-radius:14px 14px 0 0;" +
    "display:grid;gap:8px}" +
    ".dev-sheet p{margin:0}.dev-sheet-title{font-weight:700}" +
    ".dev-sheet button{min-height:44px;border:0;border-radius:10px;font-weight:600;cursor:pointer}" +
    ".dev-sheet button[hidden]{display:none}" +
    ".dev-pay,.dev-popup-ok,.dev-popup-default{background:#2481cc;color:#fff}" +
    ".dev-cancel,.dev-popup-close,.dev-popup-cancel{background:#eee;color:#000}" +
    ".dev-fail,.dev-popup-destructive{background:#fdecea;color:#c62828}" +
    ".dev-topup{background:#ffd54f;color:#3e2700}" +
    ".dev-closed{position:fixed;inset:0;z-index:1002;background:#222;color:#fff;display:grid;place-content:center;" +
    "gap:12px;text-align:center}";
  root.appendChild(style);

  if (dev.user) {
    // Before the body is parsed, so the first paint already has Telegram's colours.
    applyTheme(paletteOf(themeChoice));
    applyInsets();
    applyViewport(false);
    window.Telegram = { WebApp: WebApp };
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", chrome);
  else chrome();
})();
