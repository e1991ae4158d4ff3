import { expect, test, type Page } from "@playwright/test";

// The dev preview's stand-in for Telegram's WebApp (server/src/dev_preview.js): themes, bottom and
// back buttons, the payment sheet played by the Bot API emulator, the bot chat, the user picker.

const ADMIN = 9001; // Sam, the demo admin; no other spec signs in as Sam.

async function open(page: Page, path = "/") {
  await page.goto(path);
  await expect(page.locator(".app[data-hydrated='true']")).toHaveCount(1);
}

async function signInAs(page: Page, user: number | "none") {
  await page.context().addCookies([
    { name: "starfront_dev_user", value: String(user), url: test.info().project.use.baseURL! },
  ]);
}

const bodyBackground = (page: Page) =>
  page.evaluate(() => getComputedStyle(document.body).backgroundColor);
const cssVar = (page: Page, name: string) =>
  page.evaluate((n) => getComputedStyle(document.documentElement).getPropertyValue(n).trim(), name);
const calls = (page: Page): Promise<{ method: string; args: unknown[] }[]> =>
  page.evaluate(() => (window as any).__tgCalls);

test("switching the theme recolours the page like Telegram does, and the choice survives a reload", async ({ page }) => {
  await open(page);
  expect(await page.evaluate(() => Telegram.WebApp.colorScheme)).toBe("light");
  const light = await bodyBackground(page);
  await page.evaluate(() => {
    (window as any).__themeEvents = [];
    Telegram.WebApp.onEvent("themeChanged", function (this: unknown) {
      (window as any).__themeEvents.push(this === Telegram.WebApp);
    });
  });

  await page.locator(".dev-theme").selectOption({ label: "Telegram dark" });
  const state = await page.evaluate(() => ({
    scheme: Telegram.WebApp.colorScheme,
    params: Telegram.WebApp.themeParams,
    events: (window as any).__themeEvents,
  }));
  expect(state.scheme).toBe("dark");
  expect(state.events).toEqual([true]);
  // Every documented key, each also a --tg-theme-* variable on <html>, as telegram-web-app.js sets.
  for (const key of [
    "bg_color", "text_color", "hint_color", "link_color", "button_color", "button_text_color",
    "secondary_bg_color", "header_bg_color", "bottom_bar_bg_color", "accent_text_color",
    "section_bg_color", "section_header_text_color", "section_separator_color",
    "subtitle_text_color", "destructive_text_color",
  ]) {
    expect(state.params[key], key).toMatch(/^#[0-9a-f]{6}$/);
    expect(await cssVar(page, `--tg-theme-${key.replaceAll("_", "-")}`)).toBe(state.params[key]);
  }
  expect(await cssVar(page, "--tg-color-scheme")).toBe("dark");
  const dark = await bodyBackground(page);
  expect(dark).not.toBe(light);
  expect(dark).toBe(hexToRgb(state.params.secondary_bg_color));

  await page.reload();
  await expect(page.locator(".app[data-hydrated='true']")).toHaveCount(1);
  expect(await bodyBackground(page)).toBe(dark);
  await expect(page.locator(".dev-theme")).toHaveValue("dark");
  expect(await page.evaluate(() => Telegram.WebApp.colorScheme)).toBe("dark");

  // Custom: the picked colours become the theme; a light background makes it a light scheme.
  await page.locator(".dev-theme").selectOption({ label: "custom" });
  await page.locator(".dev-custom input[data-key='bg_color']").fill("#fafad2");
  await page.locator(".dev-custom input[data-key='button_color']").fill("#aa3300");
  expect(await cssVar(page, "--tg-theme-bg-color")).toBe("#fafad2");
  expect(await cssVar(page, "--tg-theme-button-color")).toBe("#aa3300");
  expect(await page.evaluate(() => Telegram.WebApp.colorScheme)).toBe("light");
  const custom = await bodyBackground(page);
  expect([light, dark]).not.toContain(custom);
  await page.reload();
  expect(await cssVar(page, "--tg-theme-bg-color")).toBe("#fafad2");
  expect(await bodyBackground(page)).toBe(custom);
});

test("the MainButton and BackButton mocks show, hide, report presses and record every call", async ({ page }) => {
  await open(page);
  const mainButton = page.locator(".dev-main-button");
  await expect(mainButton).toBeHidden();

  const chained = await page.evaluate(() => {
    const w = window as any;
    w.__presses = [];
    w.__viewport = [];
    const mb = Telegram.WebApp.MainButton;
    Telegram.WebApp.onEvent("viewportChanged", (e: unknown) => w.__viewport.push(e));
    const same = mb.setText("Pay ⭐ 120").onClick(function (this: unknown) {
      w.__presses.push(this === Telegram.WebApp);
    }).show() === mb;
    return { same, visible: mb.isVisible, text: mb.text, active: mb.isActive };
  });
  expect(chained).toEqual({ same: true, visible: true, text: "Pay ⭐ 120", active: true });
  await expect(mainButton).toBeVisible();
  await expect(mainButton).toHaveText("Pay ⭐ 120");
  // The bar takes room from the viewport, as Telegram's own bottom bar does.
  expect(await page.evaluate(() => (window as any).__viewport)).toContainEqual({ isStateStable: true });
  expect(await page.evaluate(() => Telegram.WebApp.viewportHeight < window.innerHeight)).toBe(true);

  await mainButton.click();
  expect(await page.evaluate(() => (window as any).__presses)).toEqual([true]);

  // Progress without leaveActive: disabled, so presses are not reported.
  await page.evaluate(() => Telegram.WebApp.MainButton.showProgress(false));
  await expect(mainButton).toHaveAttribute("aria-busy", "true");
  await expect(mainButton).toHaveAttribute("aria-disabled", "true");
  await mainButton.click({ force: true });
  expect(await page.evaluate(() => (window as any).__presses)).toEqual([true]);
  await page.evaluate(() => Telegram.WebApp.MainButton.hideProgress());
  await expect(mainButton).toHaveAttribute("aria-disabled", "false");

  await page.evaluate(() => Telegram.WebApp.MainButton.setParams({ color: "#ff0000", text_color: "#00ff00" }));
  await expect(mainButton).toHaveCSS("background-color", "rgb(255, 0, 0)");
  await expect(mainButton).toHaveCSS("color", "rgb(0, 255, 0)");
  expect(await page.evaluate(() => {
    try { Telegram.WebApp.MainButton.setText("  "); return "accepted"; } catch (e) { return (e as Error).message; }
  })).toBe("WebAppBottomButtonParamInvalid");
  await page.evaluate(() => Telegram.WebApp.MainButton.hide());
  await expect(mainButton).toBeHidden();

  const back = page.getByRole("button", { name: "‹ Back" });
  await expect(back).toBeHidden();
  await page.evaluate(() => {
    const w = window as any;
    w.__backs = 0;
    const back = () => w.__backs++;
    // Registered twice, runs once, as in Telegram.
    Telegram.WebApp.BackButton.onClick(back).onClick(back).show();
  });
  await back.click();
  expect(await page.evaluate(() => (window as any).__backs)).toBe(1);
  await page.evaluate(() => Telegram.WebApp.BackButton.hide());
  await expect(back).toBeHidden();

  await page.evaluate(() => Telegram.WebApp.HapticFeedback.notificationOccurred("success"));
  const methods = (await calls(page)).map((c) => c.method);
  const expected = [
    "MainButton.setText", "MainButton.onClick", "MainButton.show", "MainButton.showProgress",
    "MainButton.hideProgress", "MainButton.setParams",
    // setText("  ") threw, yet it was called: the log keeps it.
    "MainButton.setText",
    "MainButton.hide", "BackButton.onClick", "BackButton.onClick", "BackButton.show",
    "BackButton.hide", "HapticFeedback.notificationOccurred",
  ];
  expect(methods.filter((m) => expected.includes(m))).toEqual(expected);
  const recorded = await calls(page);
  expect(recorded.find((c) => c.method === "MainButton.showProgress")!.args).toEqual([false]);
  expect(recorded.find((c) => c.method === "HapticFeedback.notificationOccurred")!.args).toEqual(["success"]);
});

test("the version, init data, deep link and safe areas follow Telegram's API", async ({ page }) => {
  await open(page, "/?startapp=p_pocket-guide-to-rust");
  const info = await page.evaluate(() => {
    const wa = Telegram.WebApp;
    return {
      version: wa.version,
      at: ["6.0", "7.10", "8.0", "8.1", "10"].map((v) => wa.isVersionAtLeast(v)),
      user: wa.initDataUnsafe.user?.id,
      start: wa.initDataUnsafe.start_param,
      signed: new URLSearchParams(wa.initData).get("start_param"),
      hash: new URLSearchParams(wa.initData).has("hash"),
    };
  });
  expect(info).toEqual({
    version: "8.0", at: [true, true, true, false, false], user: 2001,
    start: "p_pocket-guide-to-rust", signed: "p_pocket-guide-to-rust", hash: true,
  });

  await page.evaluate(() => {
    const w = window as any;
    w.__safe = 0;
    Telegram.WebApp.onEvent("safeAreaChanged", () => w.__safe++);
  });
  await page.locator(".dev-insets").selectOption({ label: "phone notch" });
  expect(await page.evaluate(() => Telegram.WebApp.safeAreaInset)).toEqual({ top: 47, bottom: 34, left: 0, right: 0 });
  expect(await page.evaluate(() => (window as any).__safe)).toBe(1);
  expect(await cssVar(page, "--tg-safe-area-inset-top")).toBe("47px");
  expect(await cssVar(page, "--tg-content-safe-area-inset-top")).toBe("0px");

  const fullscreen = await page.evaluate(() => {
    const events: unknown[] = [];
    Telegram.WebApp.onEvent("fullscreenChanged", () => events.push(Telegram.WebApp.isFullscreen));
    Telegram.WebApp.onEvent("fullscreenFailed", (e: unknown) => events.push(e));
    Telegram.WebApp.requestFullscreen();
    Telegram.WebApp.requestFullscreen();
    Telegram.WebApp.exitFullscreen();
    return events;
  });
  expect(fullscreen).toEqual([true, { error: "ALREADY_FULLSCREEN" }, false]);
});

test("popups and downloadFile answer through their callbacks", async ({ page }) => {
  await open(page);
  await page.evaluate(() => {
    Telegram.WebApp.showConfirm("Delete the draft?", (ok: boolean) => ((window as any).__confirmed = ok));
  });
  await page.getByRole("dialog").getByRole("button", { name: "OK" }).click();
  expect(await page.evaluate(() => (window as any).__confirmed)).toBe(true);

  const download = page.waitForEvent("download");
  await page.evaluate(() => {
    Telegram.WebApp.downloadFile({ url: "/favicon.svg", file_name: "starfront.svg" }, (accepted: boolean) => {
      (window as any).__accepted = accepted;
    });
  });
  const sheet = page.getByRole("dialog", { name: "Download file (dev preview)" });
  await expect(sheet).toContainText("starfront.svg");
  await sheet.getByRole("button", { name: "Download" }).click();
  expect((await download).suggestedFilename()).toBe("starfront.svg");
  expect(await page.evaluate(() => (window as any).__accepted)).toBe(true);

  // Closing confirmation: leaving the app now asks first (the browser's beforeunload prompt).
  await page.evaluate(() => Telegram.WebApp.enableClosingConfirmation());
  expect(await page.evaluate(() => Telegram.WebApp.isClosingConfirmationEnabled)).toBe(true);
  const asked = page.waitForEvent("dialog");
  void page.close({ runBeforeUnload: true });
  const dialog = await asked;
  expect(dialog.type()).toBe("beforeunload");
  await dialog.dismiss();
  expect(page.isClosed()).toBe(false);
});

test("Fail in the payment sheet leaves the order unpaid and charges nothing", async ({ page, request }) => {
  await signInAs(page, ADMIN);
  await open(page, "/p/pocket-guide-to-rust");
  const before = (await (await request.get(`/emulator/control/users/${ADMIN}`)).json()).stars;
  const transactions = (await (await request.get("/emulator/control/transactions")).json()).length;
  await page.evaluate(() => {
    Telegram.WebApp.onEvent("invoiceClosed", (e: unknown) => ((window as any).__closed = e));
  });

  await page.getByRole("button", { name: /Buy for/ }).click();
  const sheet = page.getByRole("dialog", { name: "Payment (dev preview)" });
  await sheet.getByRole("button", { name: "Fail" }).click();
  await expect(sheet).toBeHidden();
  const closed = await page.evaluate(() => (window as any).__closed);
  expect(closed.status).toBe("failed");
  expect(closed.url).toMatch(/^https:\/\/t\.me\/\$/);

  expect((await (await request.get(`/emulator/control/users/${ADMIN}`)).json()).stars).toBe(before);
  expect((await (await request.get("/emulator/control/transactions")).json()).length).toBe(transactions);
  const library = await page.evaluate(async () => (await fetch("/api/library")).json());
  expect(JSON.stringify(library)).not.toContain("pocket-guide-to-rust");
});

test("not enough Stars: top up in the sheet, pay, and the bot chat shows the delivered book", async ({ page, request }) => {
  await signInAs(page, ADMIN);
  await open(page, "/p/night-photography-field-notes");
  const set = await request.post(`/emulator/control/users/${ADMIN}/stars`, { data: { balance: 30 } });
  expect(set.ok()).toBe(true);

  await page.getByRole("button", { name: /Buy for/ }).click();
  const sheet = page.getByRole("dialog", { name: "Payment (dev preview)" });
  await expect(sheet).toContainText("Your balance: ⭐ 30");
  await expect(sheet.getByRole("status")).toContainText("Not enough Stars");
  await sheet.getByRole("button", { name: "Top up 1,000 ⭐" }).click();
  await expect(sheet).toContainText("Your balance: ⭐ 1,030");
  await expect(sheet.getByRole("button", { name: "Top up 1,000 ⭐" })).toBeHidden();
  await sheet.getByRole("button", { name: "Pay" }).click();
  await expect(sheet).toBeHidden();

  await expect
    .poll(async () => (await (await request.get(`/emulator/control/users/${ADMIN}`)).json()).stars)
    .toBe(1030 - 180);
  await expect
    .poll(async () => JSON.stringify(await page.evaluate(async () => (await fetch("/api/library")).json())))
    .toContain("night-photography-field-notes");

  // The bot sends the book to Sam's chat; the panel shows it, newest last.
  let fileName = "";
  await expect
    .poll(async () => {
      const sent = await (await request.get(`/emulator/control/chats/${ADMIN}/messages`)).json();
      fileName = sent.map((m: any) => m.message.document?.file_name).filter(Boolean).pop() ?? "";
      return fileName;
    })
    .not.toBe("");
  await page.getByRole("button", { name: "Bot chat" }).click();
  const chat = page.getByRole("region", { name: "Bot chat" });
  await expect(chat.locator(".dev-chat-message").last()).toContainText(`📄 ${fileName}`);
});

test("the picker signs in another demo user, or nobody", async ({ page }) => {
  await open(page);
  expect(await page.evaluate(() => Telegram.WebApp.initDataUnsafe.user?.id)).toBe(2001);
  await Promise.all([page.waitForEvent("load"), page.locator(".dev-user").selectOption({ label: "Mira Patel, a creator" })]);
  await expect(page.locator(".app[data-hydrated='true']")).toHaveCount(1);
  expect(await page.evaluate(() => Telegram.WebApp.initDataUnsafe.user?.id)).toBe(1001);
  expect(await page.evaluate(() => new URLSearchParams(Telegram.WebApp.initData).has("hash"))).toBe(true);

  await Promise.all([page.waitForEvent("load"), page.locator(".dev-user").selectOption({ label: "Sam, an admin" })]);
  expect(await page.evaluate(() => Telegram.WebApp.initDataUnsafe.user?.id)).toBe(ADMIN);

  await Promise.all([page.waitForEvent("load"), page.locator(".dev-user").selectOption("none")]);
  await expect(page.locator(".dev-banner")).toContainText("Dev preview, not Telegram");
  expect(await page.evaluate(() => typeof (window as any).Telegram)).toBe("undefined");
});

test("inside Telegram (launch data in the URL) the stand-in steps aside for Telegram's script", async ({ page }) => {
  let realScriptRequested = false;
  await page.route("https://telegram.org/js/telegram-web-app.js", (route) => {
    realScriptRequested = true;
    return route.fulfill({
      contentType: "text/javascript",
      body: "window.Telegram = { WebApp: { initData: 'from-telegram', initDataUnsafe: {} } };",
    });
  });
  await page.goto("/#tgWebAppData=user%3D%257B%2522id%2522%253A1%257D&tgWebAppVersion=8.0");
  expect(realScriptRequested).toBe(true);
  expect(await page.evaluate(() => Telegram.WebApp.initData)).toBe("from-telegram");
  await expect(page.locator(".dev-banner")).toHaveCount(0);
  expect(await page.evaluate(() => (window as any).__tgCalls)).toBeUndefined();
});

function hexToRgb(hex: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `rgb(${r}, ${g}, ${b})`;
}

declare global {
  // eslint-disable-next-line no-var
  var Telegram: { WebApp: any };
}
