import { expect, test, type Locator } from "@playwright/test";
import { open, signInAs } from "./telegram";

// The demo sound pack's tracks run 40 s. A visitor who has not bought it hears each track's
// 30 s preview, cut by the server: the <audio> element's own duration is 30 s, seeking past it
// stops there and playback ends at it. Alex buys the pack and plays a track whole (40 s) from
// the library. Played at 16× so the test takes seconds, muted so no gesture is needed.
const PACK = "lofi-sample-pack-vol-1";
const ALEX = 2001;

// Plays `audio` to its end and reports what the element says.
async function playToEnd(audio: Locator) {
  return audio.evaluate(async (el: HTMLAudioElement) => {
    if (el.readyState < 1) {
      await new Promise((done) => el.addEventListener("loadedmetadata", done, { once: true }));
    }
    const duration = el.duration;
    // Asking for a place past the end lands at the end, never beyond.
    el.currentTime = duration + 5;
    const seekedTo = el.currentTime;
    el.currentTime = 0;
    el.muted = true;
    el.playbackRate = 16;
    const ended = new Promise((done) => el.addEventListener("ended", done, { once: true }));
    await el.play();
    await ended;
    return { duration, seekedTo, currentTime: el.currentTime, ended: el.ended };
  });
}

test("a track's preview stops at 30 s for a visitor; a buyer plays it whole", async ({ page, request }) => {
  await signInAs(page, "none");
  await open(page, `/p/${PACK}`);
  const tracks = page.locator("section.tracks");
  await expect(tracks).toContainText("Previews: the first 30 s of each track.");
  await expect(tracks.locator("audio.preview")).toHaveCount(3);
  const preview = await playToEnd(tracks.locator("audio.preview").first());
  expect(preview.duration).toBeCloseTo(30, 1);
  expect(preview.seekedTo).toBeCloseTo(30, 1);
  expect(preview.ended).toBe(true);
  expect(preview.currentTime).toBeCloseTo(30, 1);

  // Alex opens the page (so Telegram knows him), gets enough Stars for the pack, and buys it
  // in the dev preview's payment sheet.
  await signInAs(page, ALEX);
  await open(page, `/p/${PACK}`);
  const topUp = await request.post(`/emulator/control/users/${ALEX}/stars/add`, { data: { amount: 1000 } });
  expect(topUp.status(), await topUp.text()).toBe(200);
  await page.getByRole("button", { name: /Buy for ⭐ 300/ }).click();
  await page.getByRole("dialog", { name: "Payment (dev preview)" }).getByRole("button", { name: "Pay" }).click();
  await expect(page.getByText("Paid! It is in your library.")).toBeVisible();

  await open(page, "/library");
  const players = page.locator(`.library-item[data-slug='${PACK}'] audio.track-player`);
  await expect(players).toHaveCount(3);
  const whole = await playToEnd(players.first());
  expect(whole.duration).toBeCloseTo(40, 1);
  expect(whole.ended).toBe(true);
  expect(whole.currentTime).toBeCloseTo(40, 1);
});
