import { expect, test } from "@playwright/test";
import { open, signInAs, signedInitData } from "./telegram";

// Alex (a buyer, English) pays for Mira's new book as a gift, finds its link in his library and
// sends it to Дарья (Russian), who opens it, claims it and finds the book in her library; the
// link then says it was claimed, and Alex's library says who claimed it.
const MIRA = { id: 1001, first_name: "Mira", language_code: "en" };
const ALEX = 2001;
const DARYA = 2002; // language_code "ru"

test("a buyer gifts a book and the friend claims it from the link", async ({ page, request }) => {
  const studio = { authorization: `tma ${signedInitData(MIRA)}` };
  const title = `Gifted Book ${Date.now()}`;
  const created = await request.post("/api/studio/products", {
    headers: studio,
    data: { title, kind: "ebook", description: "A book to give.", price_stars: 6, billing: "once" },
  });
  expect(created.status()).toBe(200);
  const product = await created.json();
  const file = await request.post(`/api/studio/products/${product.id}/files`, {
    headers: studio,
    multipart: { file: { name: "gift.txt", mimeType: "text/plain", buffer: Buffer.from("A gift.\n") } },
  });
  expect(file.status()).toBe(200);
  expect((await request.post(`/api/studio/products/${product.id}/publish`, { headers: studio })).ok()).toBeTruthy();

  try {
    await signInAs(page, ALEX);
    await open(page, `/p/${product.slug}`);
    await page.getByRole("button", { name: "Give as a gift" }).click();
    await page.getByRole("dialog", { name: "Payment (dev preview)" }).getByRole("button", { name: "Pay" }).click();
    await expect(page.getByText("Gift paid! Your gift link is in your library")).toBeVisible();

    await open(page, "/library");
    // The gift is not Alex's: only its link is.
    await expect(page.locator(`.library-item[data-slug='${product.slug}']`)).toHaveCount(0);
    const gift = page.locator(".sent-gift").filter({ hasText: title });
    await expect(gift.locator(".gift-status")).toHaveText("Not claimed yet");
    const code = await gift.getAttribute("data-code");
    expect(code).toBeTruthy();
    await expect(gift.locator(".license-key input")).toHaveValue(new RegExp(`(startapp=g_|/gift/)${code}$`));

    await signInAs(page, DARYA);
    await open(page, `/gift/${code}`);
    const card = page.locator("article.gift");
    await expect(card.locator(".gift-from")).toHaveText("Alex дарит вам:");
    await expect(card).toContainText(title);
    await card.getByRole("button", { name: "Получить подарок" }).click();
    await expect(card.locator(".gift-yours")).toHaveText("Теперь это ваше! Ищите в библиотеке.");

    await open(page, "/library");
    await expect(page.locator(`.library-item[data-slug='${product.slug}']`)).toBeVisible();

    // A gift link works once.
    await signInAs(page, MIRA.id);
    await open(page, `/gift/${code}`);
    await expect(page.locator("article.gift")).toHaveAttribute("data-state", "Claimed");

    await signInAs(page, ALEX);
    await open(page, "/library");
    await expect(page.locator(".sent-gift").filter({ hasText: title }).locator(".gift-status")).toContainText(
      "Claimed by",
    );
  } finally {
    await request.post(`/api/studio/products/${product.id}/archive`, { headers: studio });
  }
});
