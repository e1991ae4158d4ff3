import { expect, test, type Locator } from "@playwright/test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open, signInAs } from "./telegram";

// The demo course's first lesson has a 12 s video, generated and queued by the demo seed and
// prepared by the shop's worker (ffmpeg: an HLS ladder and a poster). A visitor plays it (a free
// preview); Alex, a buyer, plays it, pauses, and finds it at the same second after a reload:
// the position is kept on the server. Muted, so no gesture is needed to play.
const COURSE = "telegram-mini-apps-from-scratch";
const ALEX = 2001;
const MIRA = 1001; // the course's creator

// A 3 s video from ffmpeg's test sources (scripts/setup.sh installs ffmpeg).
function generatedVideo(): Buffer {
  const out = join(mkdtempSync(join(tmpdir(), "starfront-e2e-")), "lesson.mp4");
  const made = spawnSync("ffmpeg", [
    "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
    "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24:duration=3",
    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", out,
  ]);
  expect(made.status, String(made.stderr)).toBe(0);
  return readFileSync(out);
}

// Opens the course's first lesson, waiting (reloading) until the seed's video is prepared.
async function openVideoLesson(page: import("@playwright/test").Page): Promise<Locator> {
  await open(page, `/learn/${COURSE}`);
  const lesson = await page.locator("a", { hasText: "Lesson 1: What a Mini App is" }).getAttribute("href");
  expect(lesson).toMatch(new RegExp(`/learn/${COURSE}/\\d+$`));
  const player = page.locator("video.lesson-player");
  await expect(async () => {
    await open(page, lesson!);
    await expect(player).toHaveCount(1, { timeout: 1_000 });
  }).toPass({ timeout: 60_000 });
  return player;
}

// Plays until the video is `seconds` in, then pauses; returns where it paused.
async function playFor(player: Locator, seconds: number): Promise<number> {
  return player.evaluate(async (el: HTMLVideoElement, seconds: number) => {
    if (el.readyState < 1) {
      await new Promise((done) => el.addEventListener("loadedmetadata", done, { once: true }));
    }
    el.muted = true;
    const start = el.currentTime;
    await el.play();
    await new Promise<void>((done) => {
      const check = () => (el.currentTime >= start + seconds ? done() : requestAnimationFrame(check));
      check();
    });
    el.pause();
    return el.currentTime;
  }, seconds);
}

test("a video lesson streams, plays, and reopens where the buyer paused", async ({ page, request }) => {
  // A visitor plays the free preview's video.
  await signInAs(page, "none");
  const preview = await openVideoLesson(page);
  await expect(preview).toHaveAttribute("poster", /\/media\/videos\/posters\//);
  expect(await playFor(preview, 1.5)).toBeGreaterThanOrEqual(1.5);

  // Alex owns the course: bought here unless an earlier test bought it (then the outline opens
  // every lesson to him).
  await signInAs(page, ALEX);
  await open(page, `/learn/${COURSE}`);
  await expect(page.locator(".lesson-row").first()).toBeVisible();
  const owned = (await page.locator(".lesson-row[data-open='true']").count()) === 3;
  if (!owned) {
    await open(page, `/p/${COURSE}`);
    const buy = page.getByRole("button", { name: /Buy for ⭐ 900/ });
    const topUp = await request.post(`/emulator/control/users/${ALEX}/stars/add`, { data: { amount: 1000 } });
    expect(topUp.status(), await topUp.text()).toBe(200);
    await buy.click();
    await page.getByRole("dialog", { name: "Payment (dev preview)" }).getByRole("button", { name: "Pay" }).click();
    await expect(page.getByText("Paid! It is in your library.")).toBeVisible();
  }

  const player = await openVideoLesson(page);
  const started = await player.evaluate((el: HTMLVideoElement) => el.currentTime);
  const saved = page.waitForResponse((res) => /save_video_position/i.test(res.url()) && res.ok());
  const pausedAt = await playFor(player, 3);
  expect(pausedAt).toBeGreaterThan(started + 2.5);
  await saved;

  // Reloaded (as on another device): the player starts where Alex paused.
  await page.reload();
  await expect(page.locator(".app[data-hydrated='true']")).toHaveCount(1);
  const restored = page.locator("video.lesson-player");
  await expect(restored).toHaveAttribute("data-start", String(Math.floor(pausedAt)));
  await expect
    .poll(() => restored.evaluate((el: HTMLVideoElement) => el.currentTime), { timeout: 20_000 })
    .toBeGreaterThanOrEqual(Math.floor(pausedAt) - 0.5);
  // And it plays on from there.
  expect(await playFor(restored, 1)).toBeGreaterThan(Math.floor(pausedAt));
});

test("a creator uploads a lesson video and watches it being prepared; a broken one says why", async ({ page }) => {
  await signInAs(page, MIRA);
  await open(page, "/studio");
  await page.getByRole("link", { name: "Telegram Mini Apps from Scratch" }).click();
  const row = page.locator("li.studio-lesson", { hasText: "Lesson 3: Selling with Stars" });
  const editor = row.locator(".lesson-video-editor");
  const upload = async (name: string, buffer: Buffer) => {
    await editor.locator("input[type=file]").setInputFiles({ name, mimeType: "video/mp4", buffer });
    await editor.getByRole("button", { name: "Upload" }).click();
  };

  await upload("selling.mp4", generatedVideo());
  await expect(editor).toHaveAttribute("data-video-status", "ready", { timeout: 60_000 });
  await expect(editor).toContainText("Ready to watch");
  await expect(editor.locator(".video-playing")).toContainText("0:03");

  // Garbage behind an MP4 header: the job fails, says why, and the lesson keeps its video.
  const broken = Buffer.concat([Buffer.from("000000186674797069736f6d", "hex"), Buffer.alloc(8_000, 7)]);
  await upload("broken.mp4", broken);
  await expect(editor).toHaveAttribute("data-video-status", "failed", { timeout: 60_000 });
  await expect(editor.locator(".video-failed")).toContainText("could not be read as a video");
  await expect(editor.locator(".video-playing")).toContainText("0:03");
});
