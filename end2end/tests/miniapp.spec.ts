import { expect, test, type Page } from "@playwright/test";
import { calls, open, signInAs } from "./telegram";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

// The Mini App as a buyer meets it in the dev preview: search, deep links, Telegram's buttons,
// languages, a course followed across lessons, and screenshots of the main screens.

const BUYER = 2001; // Alex, the preview's default user
const COURSE = "telegram-mini-apps-from-scratch";




test("the app tells Telegram it is ready and takes the full height", async ({ page }) => {
  await open(page);
  const methods = (await calls(page)).map((c) => c.method);
  expect(methods).toContain("ready");
  expect(methods).toContain("expand");
  // Off the front page nothing to go back to yet: the BackButton stays hidden.
  expect(methods).toContain("BackButton.hide");
});

test("search narrows the catalog on the server and can be cleared", async ({ page }) => {
  await open(page);
  await expect(page.locator(".card")).toHaveCount(6);
  await page.getByRole("searchbox").fill("watercol");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/\?q=watercol$/);
  await expect(page.locator(".card")).toHaveCount(1);
  await expect(page.locator(".card")).toContainText("Watercolour Basics");
  await expect(page.getByRole("status")).toContainText("1 found");

  // The kind filter keeps the words; nothing matches among e-books.
  await page.getByRole("link", { name: "E-books" }).click();
  await expect(page).toHaveURL(/kind=ebook&q=watercol/);
  await expect(page.getByText("Nothing matches “watercol”")).toBeVisible();
  await page.getByRole("link", { name: "Clear the search" }).click();
  await expect(page).toHaveURL(/\?kind=ebook$/);
  await expect(page.locator(".card")).toHaveCount(3);
});

test("a startapp deep link opens the product, and the BackButton leads back to the catalog", async ({ page }) => {
  await open(page, "/?startapp=p_pocket-guide-to-rust");
  await expect(page).toHaveURL(/\/p\/pocket-guide-to-rust$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("The Pocket Guide to Rust");
  const back = page.getByRole("button", { name: "‹ Back" });
  await expect(back).toBeVisible();
  expect((await calls(page)).map((c) => c.method)).toContain("BackButton.show");
  await back.click();
  await expect(page).toHaveURL(/\/$/);
  await expect(back).toBeHidden();
});

test("Share on a product sends its card, prepared by the bot, into the chat the user picks", async ({ page }) => {
  await open(page, "/p/pocket-guide-to-rust");
  await page.getByRole("button", { name: "Share", exact: true }).click();
  // Telegram's chat picker (the preview's sheet) shows the prepared message.
  const sheet = page.getByRole("dialog", { name: "Share message (dev preview)" });
  await expect(sheet).toContainText("The Pocket Guide to Rust");
  await sheet.getByRole("button", { name: "Send to the bot chat" }).click();
  await expect(page.locator(".share")).toHaveAttribute("data-state", "sent");
  const methods = (await calls(page)).map((c) => c.method);
  expect(methods).toContain("shareMessage");
  // It lands in the chat from Alex, via the bot, with the button that opens the product.
  const chat = page.getByRole("region", { name: "Bot chat" });
  const message = chat.locator(".dev-chat-message").last();
  await expect(message).toContainText("via @starfront_bot");
  await expect(message).toContainText("The Pocket Guide to Rust");
  await expect(message.locator(".dev-chat-key")).toHaveText("Open");
  const sent = await (await page.request.get(`/emulator/control/chats/${BUYER}/messages`)).json();
  expect(sent.at(-1).message.reply_markup.inline_keyboard[0][0].url).toBe(
    "https://t.me/starfront_bot?startapp=p_pocket-guide-to-rust",
  );
});

test("the MainButton is the product page's Buy and shows progress while it works", async ({ page }) => {
  await open(page, "/p/night-photography-field-notes");
  const mainButton = page.locator(".dev-main-button");
  await expect(mainButton).toBeVisible();
  await expect(mainButton).toContainText("Buy · ⭐");
  await page.evaluate(() => { (window as any).__tgCalls.length = 0; });
  await mainButton.click();
  const sheet = page.getByRole("dialog", { name: "Payment (dev preview)" });
  await expect(sheet).toContainText("Night Photography");
  const methods = (await calls(page)).map((c) => c.method);
  expect(methods).toContain("MainButton.showProgress");
  expect(methods).toContain("openInvoice");
  await sheet.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByText("Payment cancelled. You were not charged.")).toBeVisible();
  expect((await calls(page)).map((c) => c.method)).toContain("MainButton.hideProgress");
  // Leaving the page (Telegram's BackButton) hands the MainButton back.
  await page.getByRole("button", { name: "‹ Back" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(mainButton).toBeHidden();
});

test("the app speaks the user's Telegram language, and a language picked in the app sticks", async ({ page }) => {
  await signInAs(page, 2002); // Дарья, language_code "ru"
  await open(page);
  await expect(page.getByRole("link", { name: "Мои покупки" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Курсы" })).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("lang", "ru");
  // The next page load is rendered in Russian on the server already (no flash of English).
  const html = await (await page.request.get("/")).text();
  expect(html).toContain("Мои покупки");

  await page.getByLabel("Язык").selectOption("en");
  await expect(page.getByRole("link", { name: "My library" })).toBeVisible();
  await page.reload();
  await expect(page.locator(".app[data-hydrated='true']")).toHaveCount(1);
  await expect(page.getByRole("link", { name: "My library" })).toBeVisible();
});

test("a buyer follows a course across lessons and resumes where they stopped", async ({ page }) => {
  await signInAs(page, BUYER);
  await open(page, `/p/${COURSE}`);
  await page.getByRole("button", { name: /Buy for ⭐ 900/ }).click();
  await page.getByRole("dialog", { name: "Payment (dev preview)" }).getByRole("button", { name: "Pay" }).click();
  await expect(page.getByText("Paid! It is in your library.")).toBeVisible();
  expect((await calls(page)).some((c) => c.method === "HapticFeedback.notificationOccurred" && c.args[0] === "success")).toBe(true);

  await open(page, `/learn/${COURSE}`);
  await expect(page.locator(".lesson-row[data-open='true']")).toHaveCount(3);
  await page.getByRole("link", { name: "Start the course" }).click();
  await expect(page.locator("article.lesson h1")).toHaveText("Lesson 1: What a Mini App is");
  // The MainButton moves on, marking the lesson done.
  const mainButton = page.locator(".dev-main-button");
  await expect(mainButton).toHaveText("Next lesson");
  await mainButton.click();
  await expect(page.locator("article.lesson h1")).toHaveText("Lesson 2: Trust nothing from the client");

  // Later: the library offers to continue at lesson 2, and the outline shows lesson 1 done.
  await open(page, "/library");
  const item = page.locator(`.library-item[data-slug='${COURSE}']`);
  await expect(item).toContainText("1 of 3 lessons done");
  await item.getByRole("link", { name: /Continue: Lesson 2/ }).click();
  await expect(page.locator(".lesson-row[data-done='true']")).toHaveCount(1);
  await page.getByRole("link", { name: "Resume where you stopped" }).click();
  await expect(page).toHaveURL(new RegExp(`/learn/${COURSE}/\\d+$`));
  await expect(page.locator("article.lesson h1")).toHaveText("Lesson 2: Trust nothing from the client");
});

// Screenshots of the main screens at a phone's size, in Telegram's light and dark themes: test
// artifacts (end2end/test-results/screenshots), not committed.
for (const theme of ["light", "dark"] as const) {
  test(`screenshots in the ${theme} theme`, async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await signInAs(page, BUYER);
    await open(page);
    await page.locator(".dev-theme").selectOption(theme);
    await expect.poll(() => page.evaluate(() => Telegram.WebApp.colorScheme)).toBe(theme);
    const dir = join(__dirname, "..", "test-results", "screenshots");
    mkdirSync(dir, { recursive: true });
    for (const [name, path] of [["catalog", "/"], ["product", "/p/pocket-guide-to-rust"], ["library", "/library"]]) {
      await open(page, path);
      await page.waitForLoadState("networkidle");
      await page.screenshot({ path: join(dir, `${name}-${theme}.png`) });
    }
    // The dark theme really is dark: the page background is not white.
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    if (theme === "dark") expect(background).not.toBe("rgb(255, 255, 255)");
  });
}
