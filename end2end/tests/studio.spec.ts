import { expect, test, type BrowserContext, type Page } from "@playwright/test";
import { deflateSync } from "node:zlib";

// The dev preview's demo users: Mira Patel is a creator, Alex a buyer.
const MIRA = "1001";
const ALEX = "2001";

async function signInAs(context: BrowserContext, baseURL: string, id: string) {
  await context.addCookies([{ name: "starfront_dev_user", value: id, url: baseURL }]);
}

async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator(".app[data-hydrated='true']")).toHaveCount(1);
}

// A solid-colour PNG, so the test needs no image files on disk.
function png(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3, 0x5a)]);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

async function upload(page: Page, inputId: string, file: { name: string; mimeType: string; buffer: Buffer }) {
  const box = page.locator(`[data-upload="${inputId}"]`);
  await box.locator("input[type=file]").setInputFiles(file);
  await box.getByRole("button", { name: "Upload" }).click();
}

test("a creator publishes an e-book, a buyer buys it, the creator sees the sale and the download", async ({
  page,
  context,
  baseURL,
}) => {
  const title = `Field Notes ${Date.now()}`;

  // A buyer has no studio.
  await signInAs(context, baseURL!, ALEX);
  await open(page, "/studio");
  await expect(page.locator(".studio-denied")).toContainText("The studio is for creators.");

  // Mira creates the draft.
  await signInAs(context, baseURL!, MIRA);
  await open(page, "/studio/new");
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Price in Stars").fill("42");
  await page.getByLabel("Description (Markdown)").fill("Notes from the **field**.\n\n<script>window.__xss = 1</script>");
  // Stamped copies are on for a new product; this one is sold as uploaded (checked below).
  const stamping = page.getByLabel("Stamp each buyer's PDF and EPUB with their name, username and order number");
  await expect(stamping).toBeChecked();
  await stamping.uncheck();
  await page.getByRole("button", { name: "Create draft" }).click();
  await expect(page).toHaveURL(/\/studio\/p\/\d+$/);
  await expect(page.locator(".studio-head")).toHaveAttribute("data-status", "draft");
  await expect(page.locator(".studio-preview strong")).toHaveText("field");
  await expect(stamping).not.toBeChecked();

  // Cover (a wrong type first), the book and a free sample, with progress.
  await upload(page, "cover-file", { name: "cover.svg", mimeType: "image/svg+xml", buffer: Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>") });
  await expect(page.locator("[data-upload='cover-file'] .upload-error")).toContainText("PNG, JPEG or WebP");
  await upload(page, "cover-file", { name: "cover.png", mimeType: "image/png", buffer: png(300, 400) });
  await expect(page.locator("img.studio-cover")).toBeVisible();
  const book = Buffer.from("%PDF-1.4\n% Field notes, the whole book\n");
  await upload(page, "content-file", { name: "field-notes.pdf", mimeType: "application/pdf", buffer: book });
  await expect(page.locator(".studio-files[data-role='content'] .studio-file")).toContainText("field-notes.pdf");
  await upload(page, "sample-file", { name: "sample.pdf", mimeType: "application/pdf", buffer: Buffer.from("%PDF-1.4\n% sample\n") });
  await expect(page.locator(".studio-files[data-role='sample'] .studio-file")).toContainText("sample.pdf");

  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.locator(".studio-head")).toHaveAttribute("data-status", "published");
  const href = await page.getByRole("link", { name: "View in the shop" }).getAttribute("href");
  const slug = href!.replace("/p/", "");

  // In the catalog; the description is rendered and sanitised.
  await signInAs(context, baseURL!, ALEX);
  await open(page, "/");
  await expect(page.locator(".card", { hasText: title })).toBeVisible();
  await open(page, `/p/${slug}`);
  await expect(page.locator(".description strong")).toHaveText("field");
  expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
  await expect(page.getByRole("link", { name: /Free sample/ })).toBeVisible();

  // Alex buys it and downloads it.
  await page.getByRole("button", { name: /Buy for ⭐ 42/ }).click();
  const sheet = page.getByRole("dialog", { name: "Payment (dev preview)" });
  await sheet.getByRole("button", { name: "Pay" }).click();
  await expect(page.getByText("Paid! It is in your library.")).toBeVisible();
  await open(page, "/library");
  const item = page.locator(`.library-item[data-slug='${slug}']`);
  const link = item.getByRole("link", { name: /Download field-notes\.pdf/ });
  const download = await page.request.get((await link.getAttribute("href"))!);
  expect(download.status()).toBe(200);
  expect(Buffer.compare(await download.body(), book)).toBe(0);

  // Mira sees the sale and the download, and can refund it after confirming.
  await signInAs(context, baseURL!, MIRA);
  await open(page, "/studio/sales");
  const order = page.locator(".studio-order", { hasText: title });
  await expect(order).toHaveAttribute("data-status", "paid");
  await expect(order.locator(".order-downloads")).toHaveText("Downloads: 1");
  await expect(order).toContainText("Alex");
  await expect(page.locator(".chart svg")).toBeVisible();
  await expect(page.locator(`.per-product tr[data-slug='${slug}']`)).toContainText("42");
  await order.getByRole("button", { name: "Refund" }).click();
  await expect(order.locator(".confirm")).toContainText("Refund ⭐ 42 to Alex");
  await order.getByRole("button", { name: "Yes, refund" }).click();
  await expect(page.locator(".studio-order", { hasText: title })).toHaveAttribute("data-status", "refunded");
});

test("a buyer supports a creator with a tip and the creator sees it", async ({ page, context, baseURL }) => {
  await signInAs(context, baseURL!, ALEX);
  await open(page, "/p/pocket-guide-to-rust");
  await page.getByRole("button", { name: /Support the creator/ }).click();
  await page.getByRole("button", { name: "⭐ 50", exact: true }).click();
  await page.getByRole("dialog", { name: "Payment (dev preview)" }).getByRole("button", { name: "Pay" }).click();
  await expect(page.locator(".tip-done")).toBeVisible();

  await signInAs(context, baseURL!, MIRA);
  await open(page, "/studio/sales");
  await expect(page.locator(".supporter").first()).toContainText("Alex");
  await expect(page.locator(".supporter").first()).toContainText("⭐ 50");
});

test("a creator makes a referral link, a buyer follows it to the product, and the visit counts", async ({
  page,
  context,
  baseURL,
}) => {
  await signInAs(context, baseURL!, MIRA);
  await open(page, "/studio/reach");
  await page.getByLabel("Name (for you)").fill("Spring newsletter");
  await page.getByLabel("Opens").selectOption({ label: "The Pocket Guide to Rust" });
  await page.getByRole("button", { name: "Make link" }).click();
  const link = page.locator(".promo-link", { hasText: "Spring newsletter" });
  await expect(link).toContainText("0 visit(s) · 0 buyer(s)");
  const url = await link.locator(".promo-url").inputValue();
  expect(url).toMatch(/^https:\/\/t\.me\/starfront_bot\?startapp=r_[a-z0-9]{10}$/);

  // Alex opens the Mini App from that link: it lands on the book, and Mira sees the visit.
  await signInAs(context, baseURL!, ALEX);
  await page.goto("/?startapp=" + new URL(url).searchParams.get("startapp"));
  await expect(page).toHaveURL(/\/p\/pocket-guide-to-rust$/);
  await signInAs(context, baseURL!, MIRA);
  await open(page, "/studio/reach");
  await expect(page.locator(".promo-link", { hasText: "Spring newsletter" })).toContainText("1 visit(s)");
});
