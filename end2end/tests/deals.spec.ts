import { expect, test, type APIRequestContext } from "@playwright/test";
import { open, signedInitData, signInAs } from "./telegram";

// Discount codes and pay-what-you-want in the dev preview: Mira (a seeded creator) makes the
// products and the code; Alex (the default demo buyer) applies the code or picks an amount on
// the product page and pays exactly that in the emulator's payment sheet.

const MIRA = 1001;
const ALEX = 2001;
const mira = { authorization: `tma ${signedInitData({ id: MIRA, first_name: "Mira", language_code: "en" })}` };

// What this spec published; archived after each test, so the specs after it see the demo
// catalog they expect.
const published: number[] = [];
test.afterEach(async ({ request }) => {
  for (const id of published.splice(0)) {
    await request.post(`/api/studio/products/${id}/archive`, { headers: mira });
  }
});

// A published product of Mira's with one content file.
async function publishedProduct(request: APIRequestContext, title: string, price: number) {
  const created = await request.post("/api/studio/products", {
    headers: mira,
    // The stand-in PDF below is no document a stamped copy could be made of.
    data: { title, kind: "ebook", description: "For the deals test.", price_stars: price, stamp_copies: false },
  });
  expect(created.ok()).toBe(true);
  const product = await created.json();
  const upload = await request.post(`/api/studio/products/${product.id}/files`, {
    headers: mira,
    multipart: { file: { name: "deal.pdf", mimeType: "application/pdf", buffer: Buffer.from("%PDF-1.7 deal") } },
  });
  expect(upload.ok()).toBe(true);
  published.push(product.id);
  expect((await request.post(`/api/studio/products/${product.id}/publish`, { headers: mira })).ok()).toBe(true);
  return product as { id: number; slug: string };
}

const stars = async (request: APIRequestContext, user: number) =>
  (await (await request.get(`/emulator/control/users/${user}`)).json()).stars as number;

test("a code made in the studio lowers the price on the product page and the invoice", async ({ page, request }) => {
  const suffix = Date.now().toString(36).toUpperCase();
  const product = await publishedProduct(request, `Deals Book ${suffix}`, 200);
  const code = `SAVE${suffix}`;

  // Mira makes a 25 % code for it in the studio; a bad value is refused naming the field.
  await signInAs(page, MIRA);
  await open(page, "/studio/discounts");
  const form = page.locator(".discount-form");
  await form.locator("input[name=code]").fill(code.toLowerCase());
  await form.locator("select[name=product_id]").selectOption(String(product.id));
  await form.locator("input[name=value]").fill("100");
  await form.getByRole("button", { name: "Create code" }).click();
  await expect(page.getByRole("alert")).toContainText("Percent off must be 1 to 99");
  await form.locator("input[name=value]").fill("25");
  await form.locator("input[name=max_uses]").fill("3");
  await form.getByRole("button", { name: "Create code" }).click();
  const row = page.locator(`.discount-code[data-code='${code}']`);
  await expect(row).toContainText("−25%");
  await expect(row).toContainText("0 of 3 used");

  // Alex tries a wrong code, then the right one in lower case: 200 → 150.
  await signInAs(page, ALEX);
  await open(page, `/p/${product.slug}`);
  await page.locator("#discount-code").fill("NOSUCHCODE");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.locator(".code-note")).toHaveText("There is no such discount code.");
  await page.locator("#discount-code").fill(code.toLowerCase());
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.locator(".code-applied")).toContainText(`Code ${code}: ⭐ 150 instead of ⭐ 200`);
  await expect(page.locator(".price .list-price")).toHaveText("⭐ 200");

  const before = await stars(request, ALEX);
  await page.getByRole("button", { name: /Buy for ⭐ 150/ }).click();
  const sheet = page.getByRole("dialog", { name: "Payment (dev preview)" });
  await expect(sheet).toContainText("⭐ 150 Stars");
  await sheet.getByRole("button", { name: "Pay" }).click();
  await expect(page.getByText("Paid! It is in your library.")).toBeVisible();
  expect(before - (await stars(request, ALEX))).toBe(150);

  // The studio counts the paid use.
  await signInAs(page, MIRA);
  await open(page, "/studio/discounts");
  await expect(page.locator(`.discount-code[data-code='${code}']`)).toContainText("1 of 3 used (1 paid)");
});

test("pay what you want: the amount is prefilled, below the minimum is refused, and the amount picked is paid", async ({ page, request }) => {
  const suffix = Date.now().toString(36).toUpperCase();
  const product = await publishedProduct(request, `Pay What You Want ${suffix}`, 120);
  const set = await request.put(`/api/studio/products/${product.id}/pwyw`, {
    headers: mira,
    data: { min_price_stars: 50 },
  });
  expect(set.ok()).toBe(true);

  await signInAs(page, ALEX);
  await open(page, `/p/${product.slug}`);
  const amount = page.locator("#pwyw-amount");
  await expect(amount).toHaveValue("120");
  await expect(page.locator(".pwyw-hint")).toContainText("Minimum ⭐ 50, suggested ⭐ 120");
  await expect(page.locator("#discount-code")).toHaveCount(0);

  // Below the minimum: the page hints, and the server refuses if Buy is tapped anyway.
  await amount.fill("20");
  await expect(page.locator(".pwyw-low")).toHaveText("At least ⭐ 50, please.");
  await page.getByRole("button", { name: /Buy for ⭐ 20/ }).click();
  await expect(page.locator(".buy-note")).toHaveText("The minimum for this product is 50 Stars.");
  await expect(page.getByRole("dialog", { name: "Payment (dev preview)" })).toBeHidden();

  const before = await stars(request, ALEX);
  await amount.fill("75");
  await expect(page.locator(".pwyw-low")).toHaveCount(0);
  await page.getByRole("button", { name: /Buy for ⭐ 75/ }).click();
  const sheet = page.getByRole("dialog", { name: "Payment (dev preview)" });
  await expect(sheet).toContainText("⭐ 75 Stars");
  await sheet.getByRole("button", { name: "Pay" }).click();
  await expect(page.getByText("Paid! It is in your library.")).toBeVisible();
  expect(before - (await stars(request, ALEX))).toBe(75);
});
