import { expect, test } from "@playwright/test";
import { open, signInAs, signedInitData } from "./telegram";

// Mira (a creator) bundles two of her books; Alex (a buyer) buys the bundle in the dev preview's
// payment sheet and finds the bundle and each book in his library.
const MIRA = { id: 1001, first_name: "Mira", language_code: "en" };
const ALEX = 2001;

test("a buyer buys a bundle and finds every part in the library", async ({ page, request }) => {
  const studio = { authorization: `tma ${signedInitData(MIRA)}` };
  const stamp = Date.now();
  const make = async (title: string, price: number) => {
    const created = await request.post("/api/studio/products", {
      headers: studio,
      data: { title, kind: "ebook", description: `${title}.`, price_stars: price, billing: "once" },
    });
    expect(created.status()).toBe(200);
    return created.json();
  };
  const first = await make(`Bread Basics ${stamp}`, 4);
  const second = await make(`Cake Basics ${stamp}`, 5);
  const bundle = await make(`Baking Bundle ${stamp}`, 7);
  const parts = await request.put(`/api/studio/products/${bundle.id}/bundle`, {
    headers: studio,
    data: { product_ids: [first.id, second.id] },
  });
  expect(parts.status()).toBe(200);
  expect((await request.post(`/api/studio/products/${bundle.id}/publish`, { headers: studio })).ok()).toBeTruthy();

  try {
    await signInAs(page, ALEX);
    await open(page, `/p/${bundle.slug}`);
    const inside = page.locator("section.bundle");
    await expect(inside).toContainText("In this bundle (2)");
    await expect(inside.locator(".bundle-part")).toHaveText([/Bread Basics/, /Cake Basics/]);
    await expect(inside).toContainText("Bought one by one: ⭐ 9");

    await page.getByRole("button", { name: /Buy for ⭐ 7/ }).click();
    await page.getByRole("dialog", { name: "Payment (dev preview)" }).getByRole("button", { name: "Pay" }).click();
    await expect(page.getByText("Paid! It is in your library.")).toBeVisible();

    await open(page, "/library");
    const item = page.locator(`.library-item[data-slug='${bundle.slug}']`);
    await expect(item.locator(".bundle-includes")).toContainText(`Bread Basics ${stamp} · Cake Basics ${stamp}`);
    await expect(page.locator(`.library-item[data-slug='${first.slug}']`)).toBeVisible();
    await expect(page.locator(`.library-item[data-slug='${second.slug}']`)).toBeVisible();
  } finally {
    await request.post(`/api/studio/products/${bundle.id}/archive`, { headers: studio });
  }
});
