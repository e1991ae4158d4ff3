import { expect, test } from "@playwright/test";
import { open, signInAs, signedInitData } from "./telegram";

// Mira (a creator) sells an e-book; Alex (a buyer) buys it in the dev preview, rates and reviews
// it on its own screen; the review shows on the product page, and Mira answers it in the studio.
const MIRA = { id: 1001, first_name: "Mira", language_code: "en" };
const ALEX = 2001;

test("a buyer's review shows on the product page, and the creator's reply under it", async ({ page, request }) => {
  const studio = { authorization: `tma ${signedInitData(MIRA)}` };
  const title = `Reviewed Recipes ${Date.now()}`;
  const created = await request.post("/api/studio/products", {
    headers: studio,
    data: { title, kind: "ebook", description: "Recipes.", price_stars: 5, billing: "once" },
  });
  expect(created.status()).toBe(200);
  const product = await created.json();
  const file = await request.post(`/api/studio/products/${product.id}/files`, {
    headers: studio,
    multipart: { file: { name: "recipes.txt", mimeType: "text/plain", buffer: Buffer.from("Bread. Cake.\n") } },
  });
  expect(file.status()).toBe(200);
  expect((await request.post(`/api/studio/products/${product.id}/publish`, { headers: studio })).ok()).toBeTruthy();

  try {
    await signInAs(page, ALEX);
    await open(page, `/p/${product.slug}`);
    await expect(page.locator(".reviews")).toContainText("No reviews yet.");

    // Before buying, the review screen says only buyers review.
    await page.getByRole("link", { name: "Rate and review" }).click();
    await expect(page.locator(".not-eligible")).toContainText("Only buyers review");

    await open(page, `/p/${product.slug}`);
    await page.getByRole("button", { name: /Buy for ⭐ 5/ }).click();
    await page.getByRole("dialog", { name: "Payment (dev preview)" }).getByRole("button", { name: "Pay" }).click();
    await expect(page.getByText("Paid! It is in your library.")).toBeVisible();

    await open(page, `/p/${product.slug}/review`);
    await page.locator("label.star").nth(3).click();
    await page.getByLabel(/What did you think/).fill("Clear and **tasty**.");
    await page.getByRole("button", { name: "Save review" }).click();
    await expect(page.locator(".review-state")).toHaveText("Saved. Thank you!");

    await page.getByRole("link", { name: "Back to the product" }).click();
    await expect(page).toHaveURL(new RegExp(`/p/${product.slug}$`));
    const reviews = page.locator(".reviews");
    await expect(reviews.locator(".reviews-summary")).toContainText("4.0 out of 5 · reviews: 1");
    await expect(reviews.locator(".review[data-rating='4'] strong")).toHaveText("tasty");
    await expect(reviews.locator(".distribution li[data-stars='4'] .bar-count")).toHaveText("1");

    // The creator answers once in the studio; the answer shows under the review.
    await signInAs(page, MIRA.id);
    await open(page, "/studio/reviews");
    const row = page.locator(".studio-review").filter({ hasText: title });
    await row.getByLabel(/Your reply/).fill("Thank you, Alex!");
    await row.getByRole("button", { name: "Reply" }).click();
    await expect(row.locator(".review-reply")).toContainText("Thank you, Alex!");
    await expect(row.locator("form.reply-form")).toHaveCount(0);

    await open(page, `/p/${product.slug}`);
    await expect(page.locator(".review .review-reply")).toContainText("Thank you, Alex!");
  } finally {
    await request.post(`/api/studio/products/${product.id}/archive`, { headers: studio });
  }
});
