import { expect, test } from "@playwright/test";
import { open, signInAs, signedInitData } from "./telegram";

// Mira (a creator) sells a course as a monthly membership; Alex (a buyer) subscribes in the dev
// preview's payment sheet and reaches a member-only lesson, then cancels from the library.
const MIRA = { id: 1001, first_name: "Mira", language_code: "en" };
const ALEX = 2001;

test("a buyer subscribes to a course and reaches a member-only lesson", async ({ page, request }) => {
  const studio = { authorization: `tma ${signedInitData(MIRA)}` };
  const title = `Members' Sketchbook ${Date.now()}`;
  const created = await request.post("/api/studio/products", {
    headers: studio,
    data: { title, kind: "course", description: "A lesson a month.", price_stars: 75, billing: "monthly" },
  });
  expect(created.status()).toBe(200);
  const product = await created.json();
  expect(product.billing).toBe("monthly");
  for (const [lessonTitle, isPreview] of [["Welcome", true], ["Members only: ink and wash", false]] as const) {
    const lesson = await request.post(`/api/studio/products/${product.id}/lessons`, {
      headers: studio,
      data: { title: lessonTitle, body: `${lessonTitle}: the lesson text.`, is_preview: isPreview, file_id: null },
    });
    expect(lesson.ok()).toBeTruthy();
  }
  expect((await request.post(`/api/studio/products/${product.id}/publish`, { headers: studio })).ok()).toBeTruthy();

  try {
    await signInAs(page, ALEX);
    await open(page, `/p/${product.slug}`);
    await expect(page.locator(".membership-note")).toContainText("Monthly membership: ⭐ 75 every 30 days");

    // Before subscribing, the member-only lesson is locked.
    await open(page, `/learn/${product.slug}`);
    await expect(page.locator(".lesson-row[data-open='true']")).toHaveCount(1);

    await open(page, `/p/${product.slug}`);
    await page.getByRole("button", { name: /Buy for ⭐ 75/ }).click();
    const sheet = page.getByRole("dialog", { name: "Payment (dev preview)" });
    await sheet.getByRole("button", { name: "Pay" }).click();
    await expect(page.getByText("Paid! It is in your library.")).toBeVisible();

    // The invoice was a Telegram subscription of 30 days.
    const subscriptions = await (await request.get("/emulator/control/subscriptions")).json();
    const mine = subscriptions.find((s: any) => s.user_id === ALEX && s.title === title.slice(0, 32));
    expect(mine.period).toBe(2592000);

    // The member-only lesson opens.
    await open(page, `/learn/${product.slug}`);
    await expect(page.locator(".lesson-row[data-open='true']")).toHaveCount(2);
    await page.getByRole("link", { name: /Members only: ink and wash/ }).click();
    await expect(page.locator("article.lesson h1")).toHaveText("Members only: ink and wash");
    await expect(page.locator("article.lesson")).toContainText("the lesson text");

    // The library shows the membership; cancelling keeps access to the period's end.
    await open(page, "/library");
    const item = page.locator(`.library-item[data-slug='${product.slug}']`);
    await expect(item.locator(".membership-status")).toContainText("Member · renews");
    await item.getByRole("button", { name: "Cancel membership" }).click();
    await expect(item.locator(".membership-status")).toContainText("Canceled — access until");
    await expect
      .poll(async () => {
        const all = await (await request.get("/emulator/control/subscriptions")).json();
        return all.find((s: any) => s.charge_id === mine.charge_id).canceled_by_bot;
      })
      .toBe(true);
    // Re-enable only allows the buyer to turn renewal back on in Telegram; it stays canceled.
    await item.getByRole("button", { name: "Re-enable" }).click();
    await expect(item.locator(".membership-status")).toContainText("turn renewal back on in Telegram");
    await expect(item.locator(".membership-toggle")).toHaveCount(0);
  } finally {
    // Out of the catalog again, so the other specs see the demo catalog they expect.
    await request.post(`/api/studio/products/${product.id}/archive`, { headers: studio });
  }
});
