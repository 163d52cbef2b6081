import { makeFixtures } from "./test/fixtures.ts";
import { createValidator } from "./src/index.ts";
const f = await makeFixtures();
const v = createValidator();
const show = (name: string, r: any) => console.log(name, r.valid, JSON.stringify(r.findings.map((x: any) => `${x.severity}:${x.check}:${x.message}`)), JSON.stringify(r.metrics));
for (const n of ["speech.mp3", "clipped.mp3", "quiet.mp3", "deadair.mp3", "truncated.mp3", "empty.mp3", "notmedia.mp3", "-y.mp3", "video.mp4"]) {
  show(n, await v.validateAudio(f.path(n)));
}
for (const n of ["video.mp4", "small.mp4", "noaudio.mp4", "avmismatch.mp4", "nofaststart.mp4", "blackstart.mp4", "frozenend.mp4", "truncated.mp4", "corrupt.mp4"]) {
  const t = performance.now();
  show(n, await v.validateVideo(f.path(n), {}));
  console.log("  ms", (performance.now() - t).toFixed(0));
}
for (const n of ["speech.srt", "speech.vtt", "overlap.srt", "pastend.srt", "malformed.srt", "badheader.vtt"]) {
  show(n, await v.validateSubtitles(f.path(n), { audio: f.path("speech.mp3"), script: f.path("script.txt") }));
}
for (const n of ["script.txt", "markdown.txt", "latin1.txt"]) show(n, await v.validateText(f.path(n)));
const t = performance.now();
const j = await createValidator().validateJob({ script: f.path("script.txt"), audio: f.path("speech.mp3"), subtitles: f.path("speech.srt"), video: f.path("video.mp4") }, "youtube-shorts");
console.log("job", (performance.now() - t).toFixed(0), j.valid, JSON.stringify(j.findings.map((x: any) => `${x.severity}:${x.check}:${x.message}`)));
console.log(v.stats);
