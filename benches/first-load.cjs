// Loads each route cold in headless Chromium on a throttled "mid-range phone" and prints one JSON
// line per route: the /pkg/ files it fetched, bytes on the wire, first contentful paint and the
// time the app was interactive (hydrated: `.app[data-hydrated]` set by the app's first effect).
// Throttling is driven over the DevTools protocol: CPU 4× slower, 1.6 Mbps down / 750 kbps up
// with 150 ms round trips, a 390×844 screen. Run by the bench crate:
//
//   node benches/first-load.cjs <base url> <route>...
//
// Playwright comes from end2end/node_modules (scripts/setup.sh installs it); the browser is
// Debian's Chromium (or CHROMIUM_PATH).
const path = require("node:path");
const { chromium } = require(path.join(__dirname, "../end2end/node_modules/playwright-core"));

async function measure(browser, base, route) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
  });
  const page = await context.newPage();
  // The moment the app hydrated, seen from inside the page (no round trip to the driver).
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.querySelector(".app[data-hydrated='true']")) {
        window.__interactiveAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-hydrated"] });
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 150,
    downloadThroughput: (1.6 * 1000 * 1000) / 8,
    uploadThroughput: (750 * 1000) / 8,
  });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  const urls = new Map();
  const pkg = [];
  let wire = 0;
  cdp.on("Network.responseReceived", (e) => urls.set(e.requestId, e.response.url));
  cdp.on("Network.loadingFinished", (e) => {
    wire += e.encodedDataLength;
    const url = urls.get(e.requestId);
    if (url && new URL(url).pathname.startsWith("/pkg/")) {
      pkg.push({ file: path.basename(new URL(url).pathname), wire: e.encodedDataLength });
    }
  });
  await page.goto(base + route, { waitUntil: "load", timeout: 120_000 });
  await page.waitForFunction(() => window.__interactiveAt !== undefined, null, { timeout: 120_000 });
  const timings = await page.evaluate(() => ({
    fcp: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null,
    interactive: window.__interactiveAt,
  }));
  await context.close();
  return { route, pkg, wire, fcp_ms: timings.fcp, interactive_ms: timings.interactive };
}

(async () => {
  const [base, ...routes] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
  });
  try {
    for (const route of routes) console.log(JSON.stringify(await measure(browser, base, route)));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
