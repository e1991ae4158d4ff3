import { expect, test, type Page } from "@playwright/test";
import { open, signInAs } from "./telegram";

// The studio, the library and the course viewer are lazy routes: their code is in wasm modules
// split out of the main bundle (scripts/build.sh), fetched when the route opens. A buyer's first
// load of the catalog or a product page must fetch none of them, and opening one after a cold
// load of another page must still work.

const LAZY_MODULE = /\/pkg\/starfront\.[0-9a-f]{16}\.(split|chunk)_[A-Za-z0-9_]+\.wasm$/;
const COURSE = "telegram-mini-apps-from-scratch";
const MIRA = 1001; // a creator in the dev preview

// Every /pkg/ URL the page fetched, and every error it logged or got back from the server.
function watch(page: Page) {
  const pkg: string[] = [];
  const errors: string[] = [];
  page.on("request", (req) => {
    if (new URL(req.url()).pathname.startsWith("/pkg/")) pkg.push(req.url());
  });
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("response", (res) => {
    if (res.status() >= 400) errors.push(`${res.status()} ${res.url()}`);
  });
  return { pkg, errors };
}

for (const route of ["/", `/p/${COURSE}`]) {
  test(`the first load of ${route} fetches no lazily loaded module`, async ({ page }) => {
    const { pkg, errors } = watch(page);
    await open(page, route);
    // Give a late fetch (a prefetch, a chunk the hydration asked for) the time to show.
    await page.waitForLoadState("networkidle");
    expect(pkg.some((url) => /\/pkg\/starfront\.[0-9a-f]{16}\.wasm$/.test(url))).toBe(true);
    expect(pkg.filter((url) => LAZY_MODULE.test(url))).toEqual([]);
    expect(errors).toEqual([]);
  });
}

test("the studio opens from the catalog after a cold load, fetching its modules then", async ({ page }) => {
  await signInAs(page, MIRA);
  const { pkg, errors } = watch(page);
  await open(page, "/");
  await page.waitForLoadState("networkidle");
  expect(pkg.filter((url) => LAZY_MODULE.test(url))).toEqual([]);

  // A client-side navigation: the page is not reloaded, the studio's code arrives on its own.
  await page.evaluate(() => ((window as any).__starfrontMarker = "still here"));
  await page.locator(".topnav").getByRole("link", { name: "Studio" }).click();
  await expect(page).toHaveURL(/\/studio$/);
  await expect(page.locator(".studio-nav")).toBeVisible();
  await expect(page.locator(".studio-products, p.status.empty")).toBeVisible();
  // And on to another of the studio's screens, its own module.
  await page.locator(".studio-nav").getByRole("link", { name: "Sales" }).click();
  await expect(page).toHaveURL(/\/studio\/sales$/);
  await expect(page.locator(".studio-nav")).toBeVisible();
  expect(await page.evaluate(() => (window as any).__starfrontMarker)).toBe("still here");
  expect(pkg.filter((url) => LAZY_MODULE.test(url)).length).toBeGreaterThan(0);
  for (const url of pkg.filter((url) => LAZY_MODULE.test(url))) {
    const res = await page.request.get(url, { headers: { "accept-encoding": "gzip" } });
    expect(res.status()).toBe(200);
    expect(res.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
  }
  expect(errors).toEqual([]);
});

test("a course's free lesson opens from its product page after a cold load", async ({ page }) => {
  const { pkg, errors } = watch(page);
  await open(page, `/p/${COURSE}`);
  await page.locator("a.open-preview").first().click();
  await expect(page).toHaveURL(new RegExp(`/learn/${COURSE}/\\d+$`));
  await expect(page.locator("article.lesson h1")).toHaveText("Lesson 1: What a Mini App is");
  expect(pkg.filter((url) => LAZY_MODULE.test(url)).length).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});
