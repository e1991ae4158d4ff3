import { expect, test, type Page } from "@playwright/test";
import { open, signInAs } from "./telegram";

// The reader (#18): Alex buys the demo book that comes as a PDF and an EPUB, opens each from his
// library in the reader, turns pages, reloads and lands on the page he left (kept on the
// server); the free sample opens in the same reader for someone signed out.
const ALEX = 2001;
const BOOK = "night-photography-field-notes";

const reader = (page: Page) => page.frameLocator("iframe.reader-frame");

// Waits until the reader shows its first page, and gives the page label.
async function opened(page: Page) {
  const frame = reader(page);
  await expect(frame.locator("body[data-ready='true']")).toHaveCount(1, { timeout: 20_000 });
  return frame.locator("#page");
}

// Turns to the next page and waits until the server has kept it.
async function turn(page: Page) {
  const saved = page.waitForResponse(
    (r) => /\/api\/reader\/\d+\/position$/.test(r.url()) && r.request().method() === "PUT",
  );
  await reader(page).getByRole("button", { name: "Next page" }).click();
  expect((await saved).status()).toBe(200);
}

test("a buyer reads a bought PDF and EPUB, turns pages, reloads and lands on the same page", async ({ page }) => {
  test.setTimeout(120_000);
  await signInAs(page, ALEX);
  await open(page, `/p/${BOOK}`);
  await page.getByRole("button", { name: /Buy for ⭐ 180/ }).click();
  await page.getByRole("dialog", { name: "Payment (dev preview)" }).getByRole("button", { name: "Pay" }).click();
  await expect(page.getByText("Paid! It is in your library.")).toBeVisible();

  // The PDF: three pages, one per chapter.
  await open(page, "/library");
  const item = page.locator(`.library-item[data-slug='${BOOK}']`);
  await item.getByRole("link", { name: `Read ${BOOK}.pdf` }).click();
  await expect(page).toHaveURL(/\/read\/\d+$/);
  let label = await opened(page);
  await expect(label).toHaveText("1 / 3");
  await expect(reader(page).getByRole("button", { name: "Previous page" })).toBeDisabled();
  await turn(page);
  await expect(label).toHaveText("2 / 3");
  await turn(page);
  await expect(label).toHaveText("3 / 3");
  await expect(reader(page).getByRole("button", { name: "Next page" })).toBeDisabled();
  // Zoom redraws the same page larger.
  const canvas = reader(page).locator("#view canvas");
  const width = Number(await canvas.evaluate((c: HTMLCanvasElement) => c.width));
  await reader(page).getByRole("button", { name: "Larger" }).click();
  await expect.poll(async () => Number(await canvas.evaluate((c: HTMLCanvasElement) => c.width))).toBeGreaterThan(width);
  await expect(canvas).toHaveAttribute("data-page", "3");
  // The contents name each chapter and go there.
  await reader(page).getByRole("button", { name: "Contents" }).click();
  await expect(reader(page).locator("#toc")).toBeVisible();

  await page.reload();
  await expect(page.locator(".app[data-hydrated='true']")).toHaveCount(1);
  label = await opened(page);
  await expect(label).toHaveText("3 / 3");

  // The EPUB: its table of contents lists the chapters; turning pages moves through them.
  await open(page, "/library");
  await item.getByRole("link", { name: `Read ${BOOK}.epub` }).click();
  label = await opened(page);
  // A reflowing book counts how far through it the reader is, to the end of the page shown.
  await expect(label).toHaveText(/^\d+% read$/);
  const first = (await label.textContent())!;
  await expect(reader(page).getByRole("button", { name: "Previous page" })).toBeDisabled();
  await reader(page).getByRole("button", { name: "Contents" }).click();
  await expect(reader(page).locator("#toc a")).toHaveText(["Before sunset", "The blue hour", "Star trails"]);
  await reader(page).getByRole("button", { name: "Contents" }).click();
  await turn(page);
  await expect(label).not.toHaveText(first);
  await turn(page);
  await expect(label).toHaveText("100% read");
  await expect(reader(page).getByRole("button", { name: "Next page" })).toBeDisabled();
  const left = (await label.textContent())!;

  await page.reload();
  await expect(page.locator(".app[data-hydrated='true']")).toHaveCount(1);
  label = await opened(page);
  await expect(label).toHaveText(left);
});

test("a free sample opens in the reader for anyone", async ({ page }) => {
  await signInAs(page, "none");
  await open(page, `/p/${BOOK}`);
  await page.getByRole("link", { name: "Read sample" }).click();
  await expect(page).toHaveURL(new RegExp(`/read/sample/${BOOK}$`));
  const label = await opened(page);
  await expect(label).toHaveText("1 / 1");
  await expect(reader(page).getByRole("button", { name: "Next page" })).toBeDisabled();
});
