// The reader's viewer, inside /reader/frame.html. The page around it (app/src/pages/reader.rs)
// calls `window.starfrontReader.open(options, onPosition)` once this frame has loaded:
//
//   options: JSON text {url, name, format: "pdf" | "epub", position, texts}
//   onPosition(position): called after every page turn with the new position ("page:<n>" for a
//     PDF, an EPUB CFI); the page saves it on the server. Null for a sample (nothing is kept).
//
// `open` resolves once the first page shows and rejects when the file does not open. The viewers
// are imported only here, when a book is opened: PDF.js (pdfjs/) and foliate-js (foliate/), both
// copied from npm into target/site/reader/ by scripts/build.sh.

const $ = (id) => document.getElementById(id);
let texts = {};
const fill = (template, values) =>
  String(template ?? "").replace(/\{(\w+)\}/g, (all, key) => (key in values ? String(values[key]) : all));

// ------------------------------------------------------------------ theme
// The page keeps Telegram's theme as CSS variables on its root (and follows `themeChanged`);
// the frame is of the same origin, so it reads the resolved colours there and follows them.
const PALETTE = ["--bg", "--text", "--hint", "--link", "--secondary-bg", "--button", "--button-text"];
const theme = { dark: false };
const listeners = [];

function parentRoot() {
  try {
    return window.parent !== window ? window.parent.document.documentElement : null;
  } catch {
    return null;
  }
}

// Whether a colour is dark, by its luminance as the browser resolves it.
function isDark(colour) {
  const probe = document.createElement("span");
  probe.style.color = colour;
  document.body.append(probe);
  const [r, g, b] = (getComputedStyle(probe).color.match(/[\d.]+/g) ?? [255, 255, 255]).map(Number);
  probe.remove();
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 128;
}

function readTheme() {
  const root = parentRoot();
  if (root) {
    const style = getComputedStyle(root);
    for (const name of PALETTE) {
      const value = style.getPropertyValue(name).trim();
      if (value) theme[name] = value;
    }
  }
  for (const name of PALETTE) {
    if (theme[name]) document.documentElement.style.setProperty(name, theme[name]);
  }
  theme.dark = isDark(getComputedStyle(document.body).backgroundColor);
  document.documentElement.dataset.theme = theme.dark ? "dark" : "light";
  for (const listener of listeners) listener();
}

function followTheme() {
  readTheme();
  const root = parentRoot();
  if (root) {
    new MutationObserver(readTheme).observe(root, { attributes: true, attributeFilter: ["style", "data-theme"] });
  }
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", readTheme);
}

// ------------------------------------------------------------------ chrome
const ZOOM_STEPS = [0.75, 0.9, 1, 1.15, 1.3, 1.5, 1.75, 2, 2.5, 3];
let zoomIndex = ZOOM_STEPS.indexOf(1);
let viewer = null; // {next, prev, zoom, page: {current, total}}

function showPage(current, total) {
  $("page").textContent = fill(texts.pageOf, { page: current, pages: total });
  $("prev").disabled = current <= 1;
  $("next").disabled = current >= total;
}

function showStatus(text) {
  $("status").textContent = text ?? "";
  $("status").hidden = !text;
}

// The table of contents: `items` are {label, subitems, go()}.
function showContents(items) {
  const list = $("toc").querySelector("ol");
  list.replaceChildren();
  const add = (into, entries) => {
    for (const entry of entries) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = "#";
      a.textContent = entry.label;
      a.addEventListener("click", (ev) => {
        ev.preventDefault();
        toggleContents(false);
        entry.go();
      });
      li.append(a);
      if (entry.subitems?.length) {
        const sub = document.createElement("ol");
        add(sub, entry.subitems);
        li.append(sub);
      }
      into.append(li);
    }
  };
  add(list, items);
  if (!items.length) {
    const li = document.createElement("li");
    li.textContent = texts.noContents;
    list.append(li);
  }
}

function toggleContents(open = $("toc").hidden) {
  $("toc").hidden = !open;
  $("contents").setAttribute("aria-expanded", String(open));
}

function wireChrome() {
  const label = (id, text, visible) => {
    $(id).setAttribute("aria-label", text);
    $(id).title = text;
    if (visible) $(id).textContent = text;
  };
  label("prev", texts.previous);
  label("next", texts.next);
  label("zoom-in", texts.zoomIn);
  label("zoom-out", texts.zoomOut);
  label("contents", texts.contents, true);
  $("prev").addEventListener("click", () => viewer?.prev());
  $("next").addEventListener("click", () => viewer?.next());
  $("contents").addEventListener("click", () => toggleContents());
  const zoom = (step) => {
    zoomIndex = Math.max(0, Math.min(ZOOM_STEPS.length - 1, zoomIndex + step));
    $("zoom-out").disabled = zoomIndex === 0;
    $("zoom-in").disabled = zoomIndex === ZOOM_STEPS.length - 1;
    viewer?.zoom(ZOOM_STEPS[zoomIndex]);
  };
  $("zoom-in").addEventListener("click", () => zoom(1));
  $("zoom-out").addEventListener("click", () => zoom(-1));
  document.addEventListener("keydown", onKey);
  // A swipe turns the page, as on a phone's reader.
  let start = null;
  $("view").addEventListener("touchstart", (ev) => {
    start = ev.touches.length === 1 ? [ev.touches[0].clientX, ev.touches[0].clientY] : null;
  }, { passive: true });
  $("view").addEventListener("touchend", (ev) => {
    if (!start) return;
    const dx = ev.changedTouches[0].clientX - start[0];
    const dy = ev.changedTouches[0].clientY - start[1];
    start = null;
    if (Math.abs(dx) > 60 && Math.abs(dx) > 2 * Math.abs(dy)) (dx < 0 ? viewer?.next() : viewer?.prev());
  });
}

function onKey(ev) {
  if (ev.key === "ArrowRight" || ev.key === "PageDown") viewer?.next();
  else if (ev.key === "ArrowLeft" || ev.key === "PageUp") viewer?.prev();
}

async function fetchBook(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`the book answered ${response.status}`);
  return response.blob();
}

// ------------------------------------------------------------------ PDF (PDF.js)
async function openPdf(blob, position, report) {
  const pdfjs = await import("./pdfjs/pdf.min.mjs");
  const here = (path) => new URL(path, import.meta.url).href;
  pdfjs.GlobalWorkerOptions.workerSrc = here("./pdfjs/pdf.worker.min.mjs");
  const doc = await pdfjs.getDocument({
    data: new Uint8Array(await blob.arrayBuffer()),
    // No `new Function` (the frame's policy forbids it; PDF.js has a slower path without).
    isEvalSupported: false,
    cMapUrl: here("./pdfjs/cmaps/"),
    cMapPacked: true,
    standardFontDataUrl: here("./pdfjs/standard_fonts/"),
    wasmUrl: here("./pdfjs/wasm/"),
  }).promise;
  const total = doc.numPages;
  const saved = Number(/^page:(\d+)$/.exec(position ?? "")?.[1]);
  let current = saved >= 1 && saved <= total ? saved : 1;
  let zoom = 1;
  const canvas = document.createElement("canvas");
  const view = $("view");
  view.append(canvas);
  let busy = false;
  let again = false;

  // One drawing at a time on the canvas (PDF.js refuses two); a turn, zoom or resize meanwhile
  // draws the latest state once the current one is done.
  async function render() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        await draw();
      } while (again);
    } finally {
      busy = false;
    }
  }

  async function draw() {
    const page = await doc.getPage(current);
    const natural = page.getViewport({ scale: 1 });
    const fit = Math.max(100, view.clientWidth - 16) / natural.width;
    const ratio = window.devicePixelRatio || 1;
    const viewport = page.getViewport({ scale: fit * zoom * ratio });
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    canvas.style.width = `${Math.floor(viewport.width / ratio)}px`;
    canvas.style.height = `${Math.floor(viewport.height / ratio)}px`;
    canvas.dataset.page = String(current);
    // In a dark theme the page is drawn in the theme's colours rather than glaring white.
    const pageColors = theme.dark
      ? { background: theme["--bg"] ?? "#17212b", foreground: theme["--text"] ?? "#f5f5f5" }
      : null;
    await page.render({ canvasContext: canvas.getContext("2d"), canvas, viewport, pageColors }).promise;
    showPage(current, total);
  }

  const go = async (page) => {
    if (page < 1 || page > total || page === current) return;
    current = page;
    view.scrollTop = 0;
    report(`page:${current}`);
    await render();
  };
  viewer = {
    next: () => go(current + 1),
    prev: () => go(current - 1),
    zoom: (factor) => {
      zoom = factor;
      render();
    },
  };
  listeners.push(() => render());
  new ResizeObserver(() => render()).observe(view);

  // The outline, its destinations resolved to pages when chosen.
  const pageOf = async (dest) => {
    const explicit = typeof dest === "string" ? await doc.getDestination(dest) : dest;
    if (!Array.isArray(explicit)) return null;
    const [ref] = explicit;
    return typeof ref === "number" ? ref + 1 : (await doc.getPageIndex(ref)) + 1;
  };
  const outline = (items) =>
    (items ?? []).map((item) => ({
      label: item.title,
      subitems: outline(item.items),
      go: async () => {
        const page = await pageOf(item.dest).catch(() => null);
        if (page) await go(page);
      },
    }));
  showContents(outline(await doc.getOutline()));
  showStatus(null);
  await render();
}

// ------------------------------------------------------------------ EPUB (foliate-js)
async function openEpub(blob, name, position, report) {
  await import("./foliate/view.js");
  const view = document.createElement("foliate-view");
  $("view").append(view);
  await view.open(new File([blob], name, { type: "application/epub+zip" }));
  const renderer = view.renderer;
  renderer.setAttribute("flow", "paginated");
  renderer.setAttribute("margin", "24px");
  renderer.setAttribute("gap", "6%");
  renderer.setAttribute("max-column-count", "1");
  let fontScale = 1;
  // The book's pages in the theme's colours and the chosen size. In a dark theme the book's own
  // colours give way, or black text would sit on the dark page.
  const styles = () => {
    const dark = theme.dark
      ? `body *:not(img, svg, video) { color: inherit !important; background-color: transparent !important; }`
      : "";
    return `html { color-scheme: ${theme.dark ? "dark" : "light"}; color: ${theme["--text"] ?? "inherit"};
        background: transparent; font-size: ${Math.round(fontScale * 100)}%; }
      body { background: transparent !important; }
      ${dark}
      a:any-link { color: ${theme["--link"] ?? "inherit"} !important; }
      img, svg { max-width: 100%; height: auto; }`;
  };
  renderer.setStyles?.(styles());
  listeners.push(() => renderer.setStyles?.(styles()));

  let ready = false;
  let last = position ?? null;
  view.addEventListener("relocate", ({ detail }) => {
    // A reflowing book has no fixed pages: how far through it the reader is (to the end of the
    // page shown), as e-readers say.
    const fraction = detail.fraction ?? 0;
    $("page").textContent = fill(texts.progress, { percent: Math.round(fraction * 100) });
    $("prev").disabled = Boolean(renderer.atStart);
    $("next").disabled = Boolean(renderer.atEnd);
    // The restored place is not a turn; every move after it is.
    if (ready && detail.cfi && detail.cfi !== last) {
      last = detail.cfi;
      report(detail.cfi);
    }
  });
  // Keys pressed while a book page has the focus reach its own document, not this one.
  view.addEventListener("load", ({ detail }) => detail.doc?.addEventListener("keydown", onKey));
  viewer = {
    next: () => view.next(),
    prev: () => view.prev(),
    zoom: (factor) => {
      fontScale = factor;
      renderer.setStyles?.(styles());
    },
  };
  const toc = (items) =>
    (items ?? []).map((item) => ({
      label: item.label?.trim() || "…",
      subitems: toc(item.subitems),
      go: () => view.goTo(item.href),
    }));
  showContents(toc(view.book.toc));
  showStatus(null);
  await view.init({ lastLocation: position || null });
  ready = true;
}

// ------------------------------------------------------------------ the page's entry point
window.starfrontReader = {
  async open(json, onPosition) {
    const options = JSON.parse(json);
    texts = options.texts ?? {};
    $("title").textContent = options.name ?? "";
    wireChrome();
    followTheme();
    showStatus(texts.loading);
    const report = (position) => {
      if (typeof onPosition === "function") onPosition(position);
    };
    try {
      const blob = await fetchBook(options.url);
      if (options.format === "pdf") await openPdf(blob, options.position, report);
      else if (options.format === "epub") await openEpub(blob, options.name ?? "book.epub", options.position, report);
      else throw new Error(`no viewer for ${options.format}`);
      document.body.dataset.ready = "true";
    } catch (err) {
      showStatus(null);
      console.error("the reader could not open the book", err);
      throw err;
    }
  },
};
