import { expect, test } from "@playwright/test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

// The dev preview signs in as Alex (2001) unless told otherwise.
const BUYER = { id: 2001 };

test("a buyer pays in Stars in the dev preview, finds the book in the library and gets their stamped copy", async ({ page, request }) => {
  await page.goto("/p/sourdough-at-home");
  await expect(page.locator(".app[data-hydrated='true']")).toHaveCount(1);
  await expect(page.locator(".dev-banner")).toContainText("Dev preview");
  const before = (await (await request.get(`/emulator/control/users/${BUYER.id}`)).json()).stars;

  await page.getByRole("button", { name: /Buy for ⭐ 120/ }).click();
  const sheet = page.getByRole("dialog", { name: "Payment (dev preview)" });
  await expect(sheet).toContainText("Sourdough at Home");
  await expect(sheet).toContainText("⭐ 120 Stars");
  await sheet.getByRole("button", { name: "Pay" }).click();
  await expect(page.getByText("Paid! It is in your library.")).toBeVisible();

  const after = (await (await request.get(`/emulator/control/users/${BUYER.id}`)).json()).stars;
  expect(before - after).toBe(120);

  await page.getByRole("link", { name: "Open my library" }).click();
  await expect(page).toHaveURL(/\/library$/);
  const item = page.locator(".library-item[data-slug='sourdough-at-home']");
  await expect(item).toBeVisible();
  const link = item.getByRole("link", { name: /Download sourdough-at-home\.pdf/ });
  const href = await link.getAttribute("href");
  const download = await page.request.get(href!);
  expect(download.status()).toBe(200);
  expect(download.headers()["content-disposition"]).toContain("attachment");
  const stored = readFileSync(
    join(process.env.STARFRONT_E2E_DATA_DIR!, "files/private/content/sourdough-at-home/sourdough-at-home.pdf"),
  );
  // The buyer's own copy: the book with their name at the foot of each page, not the upload.
  const copy = await download.body();
  expect(copy.subarray(0, 5).toString("latin1")).toBe("%PDF-");
  expect(copy.toString("latin1")).toContain("Licensed to Alex");
  expect(stored.toString("latin1")).not.toContain("Licensed to");

  // The bot also sent the same stamped copy to the buyer's chat, once.
  const sha256 = createHash("sha256").update(copy).digest("hex");
  await expect
    .poll(async () => {
      const messages = await (await request.get(`/emulator/control/chats/${BUYER.id}/messages`)).json();
      return messages.filter((m: any) => m.file?.sha256 === sha256).length;
    })
    .toBe(1);

  // Buying again is refused: the buyer owns it.
  await page.goto("/p/sourdough-at-home");
  await expect(page.locator(".app[data-hydrated='true']")).toHaveCount(1);
  await page.getByRole("button", { name: /Buy for/ }).click();
  await expect(page.getByRole("status")).toContainText("already own");
});

test("closing the payment sheet charges nothing", async ({ page, request }) => {
  await page.goto("/p/watercolour-basics");
  await expect(page.locator(".app[data-hydrated='true']")).toHaveCount(1);
  const before = (await (await request.get(`/emulator/control/users/${BUYER.id}`)).json()).stars;
  await page.getByRole("button", { name: /Buy for/ }).click();
  await page.getByRole("dialog", { name: "Payment (dev preview)" }).getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByText("Payment cancelled. You were not charged.")).toBeVisible();
  const after = (await (await request.get(`/emulator/control/users/${BUYER.id}`)).json()).stars;
  expect(after).toBe(before);
});
