import { expect, test } from "@playwright/test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { signedInitData } from "./telegram";

const BUYER = { id: 90301, first_name: "Mila", language_code: "en" };

test("a buyer pays in Stars, finds the book in the library and gets the exact file", async ({ page, request }) => {
  const created = await request.post("/emulator/control/users", { data: BUYER });
  expect(created.ok()).toBeTruthy();
  const before = (await (await request.get(`/emulator/control/users/${BUYER.id}`)).json()).stars;

  // Inside Telegram, openInvoice shows the payment sheet; here the emulator's control API pays.
  await page.addInitScript(
    ({ initData, userId }) => {
      (window as any).Telegram = {
        WebApp: {
          initData,
          openInvoice(url: string, callback: (status: string) => void) {
            fetch("/emulator/control/invoices/pay", {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ link: url, user_id: userId }),
            })
              .then((r) => r.json())
              .then((outcome) => callback(outcome.status === "paid" ? "paid" : "failed"));
          },
        },
      };
    },
    { initData: signedInitData(BUYER), userId: BUYER.id },
  );

  await page.goto("/p/sourdough-at-home");
  await expect(page.locator(".app[data-hydrated='true']")).toHaveCount(1);
  await page.getByRole("button", { name: /Buy for ⭐ 120 Stars/ }).click();
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
  expect(Buffer.compare(await download.body(), stored)).toBe(0);

  // The bot also sent the file to the buyer's chat, once.
  const sha256 = createHash("sha256").update(stored).digest("hex");
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
