import { expect, test } from "@playwright/test";
import { open, signInAs, signedInitData } from "./telegram";

// Mira (a creator, English) gives her new product's buyers keys from a pool she fills in the
// studio; the studio warns that the pool runs low; Дарья (a buyer, Russian) buys it and finds her
// key in the library; the studio then lists that key as issued.
const MIRA = { id: 1001, first_name: "Mira", language_code: "en" };
const DARYA = 2002; // language_code "ru"

test("a pool key is issued to the buyer, shown in the library and listed in the studio", async ({ page, request }) => {
  const studio = { authorization: `tma ${signedInitData(MIRA)}` };
  const title = `Licensed Tool ${Date.now()}`;
  const created = await request.post("/api/studio/products", {
    headers: studio,
    data: { title, kind: "ebook", description: "A tool.", price_stars: 5, billing: "once" },
  });
  expect(created.status()).toBe(200);
  const product = await created.json();
  const file = await request.post(`/api/studio/products/${product.id}/files`, {
    headers: studio,
    multipart: { file: { name: "tool.txt", mimeType: "text/plain", buffer: Buffer.from("A tool.\n") } },
  });
  expect(file.status()).toBe(200);
  expect((await request.post(`/api/studio/products/${product.id}/publish`, { headers: studio })).ok()).toBeTruthy();
  const key = `E2E-${Date.now()}`;

  try {
    await signInAs(page, MIRA.id);
    await open(page, "/studio/licenses");
    const section = page.locator(".license-product").filter({ hasText: title });
    await section.locator("select[name='mode']").selectOption("pool");
    await section.getByRole("button", { name: "Save" }).click();
    await expect(section).toHaveAttribute("data-mode", "pool");
    await section.locator("textarea[name='keys']").fill(`${key}\n${key}-2\n${key}`);
    await section.getByRole("button", { name: "Add keys" }).click();
    await expect(section.locator(".license-counts")).toContainText("2 in the pool");
    await expect(section.locator(".license-low")).toContainText("The pool is running low: 2 keys left.");

    await signInAs(page, DARYA);
    await open(page, `/p/${product.slug}`);
    await page.getByRole("button", { name: /Купить за ⭐ 5/ }).click();
    await page.getByRole("dialog", { name: "Payment (dev preview)" }).getByRole("button", { name: "Pay" }).click();
    await expect(page.getByText("Оплачено! Покупка уже в вашей библиотеке.")).toBeVisible();

    await open(page, "/library");
    const item = page.locator(`.library-item[data-slug='${product.slug}']`);
    await expect(item.locator(".license-key")).toContainText("Лицензионный ключ");
    await expect(item.locator(".license-key input")).toHaveValue(key);

    await signInAs(page, MIRA.id);
    await open(page, "/studio/licenses");
    // The key exactly (its neighbour in the pool is `${key}-2`).
    const row = page
      .locator(".license-product")
      .filter({ hasText: title })
      .locator(".license-key-row")
      .filter({ has: page.locator("code", { hasText: new RegExp(`^${key}$`) }) });
    await expect(row).toHaveAttribute("data-state", "issued");
  } finally {
    await request.post(`/api/studio/products/${product.id}/archive`, { headers: studio });
  }
});
