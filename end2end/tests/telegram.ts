import { expect, test, type Page } from "@playwright/test";
import { createHmac } from "node:crypto";

// The dev bot token (server::config::DEV_BOT_TOKEN): valid only against the built-in emulator.
export const DEV_BOT_TOKEN = "7000000001:AAStarfront-dev-preview-emulator-only";

// Signs Mini App init data the way Telegram does, so a page can act as a signed-in user.
export function signedInitData(user: object): string {
  const fields: Record<string, string> = {
    auth_date: String(Math.floor(Date.now() / 1000)),
    user: JSON.stringify(user),
  };
  const check = Object.keys(fields).sort().map((k) => `${k}=${fields[k]}`).join("\n");
  const secret = createHmac("sha256", "WebAppData").update(DEV_BOT_TOKEN).digest();
  const hash = createHmac("sha256", secret).update(check).digest("hex");
  return new URLSearchParams({ ...fields, hash }).toString();
}

// Opens a page of the shop and waits until the wasm has hydrated it.
export async function open(page: Page, path = "/") {
  await page.goto(path);
  await expect(page.locator(".app[data-hydrated='true']")).toHaveCount(1);
}

// Picks the dev preview's demo user for the next page loads (the picker's cookie).
export async function signInAs(page: Page, user: number | "none") {
  await page.context().addCookies([
    { name: "starfront_dev_user", value: String(user), url: test.info().project.use.baseURL! },
  ]);
}

// Every call the app made on the dev preview's WebApp stand-in.
export const calls = (page: Page): Promise<{ method: string; args: unknown[] }[]> =>
  page.evaluate(() => (window as any).__tgCalls);
