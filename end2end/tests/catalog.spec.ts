import { expect, test, type Page } from "@playwright/test";
import { signedInitData } from "./telegram";

// Fails the test on any error the page logs: a hydration mismatch or a wasm panic shows up here.
function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("response", (res) => {
    if (res.status() >= 400) errors.push(`${res.status()} ${res.url()}`);
  });
  return errors;
}

async function waitForHydration(page: Page) {
  await expect(page.locator(".app[data-hydrated='true']")).toHaveCount(1);
}

test("the catalog is rendered on the server with the demo products", async ({ request }) => {
  const res = await request.get("/");
  expect(res.status()).toBe(200);
  const html = await res.text();
  expect(html).toContain("The Pocket Guide to Rust");
  expect(html).toContain("Telegram Mini Apps from Scratch");
  // Content-hashed names (scripts/build.sh), served immutable for a year.
  const js = html.match(/href="(\/pkg\/starfront\.[0-9a-f]{16}\.js)"/)?.[1];
  const wasm = html.match(/href="(\/pkg\/starfront\.[0-9a-f]{16}\.wasm)"/)?.[1];
  const css = html.match(/href="(\/pkg\/starfront\.[0-9a-f]{16}\.css)"/)?.[1];
  for (const asset of [js, wasm, css]) {
    expect(asset, html).toBeTruthy();
    const file = await request.get(asset!, { headers: { "accept-encoding": "gzip" } });
    expect(file.status()).toBe(200);
    expect(file.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
  }
  expect((await request.get("/pkg/starfront.wasm")).status()).toBe(404);
});

test("the page hydrates and the kind filter works without a page load", async ({ page }) => {
  const errors = collectErrors(page);
  const wasm = page.waitForResponse((r) => /\/pkg\/starfront\.[0-9a-f]{16}\.wasm$/.test(r.url()));
  await page.goto("/");
  expect((await wasm).status()).toBe(200);
  await waitForHydration(page);

  const cards = page.locator("li.card");
  await expect(cards).toHaveCount(6);
  await expect(page.locator("li.card[data-kind='ebook']")).toHaveCount(3);

  // A full navigation would drop this marker; a client-side one keeps it.
  await page.evaluate(() => ((window as any).__starfrontMarker = "still here"));
  let documentLoads = 0;
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) documentLoads += 1;
  });
  const serverFn = page.waitForRequest((r) => r.method() === "POST" && r.url().includes("/api/"));

  await page.getByRole("link", { name: "Courses" }).click();

  await serverFn;
  await expect(page).toHaveURL(/\?kind=course$/);
  await expect(cards).toHaveCount(2);
  await expect(page.locator("li.card[data-kind='course']")).toHaveCount(2);
  await expect(page.getByRole("link", { name: "Courses" })).toHaveAttribute("aria-current", "page");
  expect(await page.evaluate(() => (window as any).__starfrontMarker)).toBe("still here");

  await page.getByRole("link", { name: "All" }).click();
  await expect(cards).toHaveCount(6);
  expect(await page.evaluate(() => (window as any).__starfrontMarker)).toBe("still here");
  expect(errors).toEqual([]);
});

test("a product page opens from its card and offers the free sample", async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto("/?kind=ebook");
  await waitForHydration(page);
  await page.getByRole("link", { name: /Sourdough at Home/ }).click();
  await expect(page).toHaveURL(/\/p\/sourdough-at-home$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sourdough at Home");
  await expect(page).toHaveTitle("Sourdough at Home · Starfront");

  const sample = page.getByRole("link", { name: /Free sample/ });
  const href = await sample.getAttribute("href");
  expect(href).toBeTruthy();
  const res = await page.request.get(href!);
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toContain("application/pdf");
  expect((await res.body()).subarray(0, 5).toString()).toBe("%PDF-");
  expect(errors).toEqual([]);
});

test("an unknown product shows the not-found page with status 404", async ({ page }) => {
  const res = await page.goto("/p/no-such-product");
  expect(res?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Not found");
});

test("the library needs the Mini App's init data", async ({ page, context }) => {
  // Signed in as nobody: the dev preview behaves like a browser outside Telegram.
  await context.addCookies([{ name: "starfront_dev_user", value: "none", domain: "127.0.0.1", path: "/" }]);
  await page.goto("/library");
  await waitForHydration(page);
  await expect(page.getByRole("alert")).toContainText("Open Starfront from Telegram");

  // Inside Telegram the page has Telegram's own init data, and the dev preview steps aside.
  const initData = signedInitData({ id: 90210, first_name: "Eve", language_code: "en" });
  await page.addInitScript((data) => {
    (window as any).Telegram = { WebApp: { initData: data } };
  }, initData);
  const errors = collectErrors(page);
  await page.goto("/library");
  await waitForHydration(page);
  await expect(page.getByText("You have no purchases yet.")).toBeVisible();
  await expect(page.locator(".dev-banner")).toHaveCount(0);
  expect(errors).toEqual([]);
});
