// The video lessons' player (issue #18), loaded by the lesson page (app/src/pages/course.rs)
// only when a lesson has a video. It plays the lesson's HLS ladder through hls.js, which lets
// every playlist and segment request carry the viewer's init data: the server serves a stream
// only to the viewer its token names. It puts one object on the window, `starfrontVideo`.

import Hls from "./hls/hls.light.min.mjs";

// How often, in seconds of playback, the position is sent while the video plays (and always
// when it pauses): a lost save costs at most this much.
const SAVE_EVERY_SECONDS = 5;

// Plays `options.url` (JSON: url, initData, start) in `video`, starting at `start` seconds.
// Calls `onPosition(seconds)` as playback moves on and `onEnded()` at the end. Settles once the
// video's length is known, or rejects when the stream does not open.
function play(video, options, onPosition, onEnded) {
  const { url, initData, start } = JSON.parse(options);
  let saved = start;
  const save = () => {
    const at = Math.floor(video.currentTime);
    if (at !== saved) {
      saved = at;
      if (onPosition) onPosition(at);
    }
  };
  video.addEventListener("timeupdate", () => {
    if (Math.abs(Math.floor(video.currentTime) - saved) >= SAVE_EVERY_SECONDS) save();
  });
  video.addEventListener("pause", save);
  video.addEventListener("ended", () => onEnded && onEnded());
  return new Promise((resolve, reject) => {
    video.addEventListener(
      "loadedmetadata",
      () => {
        // Resume where the viewer stopped, unless that was the very end.
        if (start > 0 && start < video.duration - 1) video.currentTime = start;
        resolve();
      },
      { once: true },
    );
    if (Hls.isSupported()) {
      const hls = new Hls({
        xhrSetup(xhr, segmentUrl) {
          // Opened here so the header can be set: hls.js leaves an opened request alone.
          xhr.open("GET", segmentUrl, true);
          if (initData) xhr.setRequestHeader("Authorization", `tma ${initData}`);
        },
      });
      hls.on(Hls.Events.ERROR, (_event, data) => {
        if (data.fatal) reject(new Error(data.details));
      });
      hls.loadSource(url);
      hls.attachMedia(video);
      video.starfrontHls = hls;
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      // An older Safari without Media Source: its own HLS sends no init data, so only a free
      // preview's stream (which needs none) plays here.
      video.addEventListener("error", () => reject(new Error("the stream did not open")), { once: true });
      video.src = url;
    } else {
      reject(new Error("this browser plays no HLS"));
    }
  });
}

// Stops the stream when the lesson page goes.
function stop(video) {
  if (video.starfrontHls) {
    video.starfrontHls.destroy();
    video.starfrontHls = undefined;
  }
}

window.starfrontVideo = { play, stop };
