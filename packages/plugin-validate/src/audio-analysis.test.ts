import { describe, expect, it } from "vitest";
import { analysisGraph, keepAnalysisLine, missingFilterIn, parseAnalysis } from "./audio-analysis.ts";
import { mergeIntervals, parseScan } from "./video-scan.ts";

// Lines as ffmpeg 5.1 prints them (captured from a real run on a clipped file).
const STDERR = `[silencedetect @ 0x5] silence_start: 2.99006
[silencedetect @ 0x5] silence_end: 3.9221 | silence_duration: 0.932042
[silencedetect @ 0x5] silence_start: 9.66144
[Parsed_ebur128_0 @ 0x5] Summary:
    I:           7.2 LUFS
    LRA:         2.3 LU
    Peak:       22.2 dBFS
[Parsed_astats_3 @ 0x5] Flat factor: 29.954561
[Parsed_astats_3 @ 0x5] Peak count: 134301.000000
[Parsed_astats_3 @ 0x5] Number of samples: 498624
[Parsed_volumedetect_2 @ 0x5] mean_volume: -4.5 dB
[Parsed_volumedetect_2 @ 0x5] max_volume: 0.0 dB
[Parsed_volumedetect_2 @ 0x5] histogram_0db: 144708
some other line`.split("\n");

describe("parseAnalysis", () => {
  it("extracts loudness, peaks, clipping stats and silences", () => {
    const kept = STDERR.filter(keepAnalysisLine);
    expect(kept).not.toContain("some other line");
    const a = parseAnalysis(kept);
    expect(a).toMatchObject({
      integratedLufs: 7.2,
      loudnessRangeLu: 2.3,
      truePeakDbfs: 22.2,
      flatFactor: 29.954561,
      peakCount: 134301,
      samples: 498624,
      meanVolumeDb: -4.5,
      maxVolumeDb: 0,
      samplesAt0db: 144708,
    });
    expect(a.silences).toEqual([
      { start: 2.99006, end: 3.9221 },
      { start: 9.66144, end: undefined },
    ]);
  });
  it("reads -inf for digital silence", () => {
    const a = parseAnalysis(["    I:         -inf LUFS", "[x] max_volume: -inf dB"]);
    expect(a.integratedLufs).toBe(Number.NEGATIVE_INFINITY);
    expect(a.maxVolumeDb).toBe(Number.NEGATIVE_INFINITY);
  });
  it("drops missing filters from the graph and names them from ffmpeg's error", () => {
    expect(analysisGraph({ noiseDb: -40, minSeconds: 0.5 }, ["ebur128"])).not.toContain("ebur128");
    expect(missingFilterIn("[AVFilterGraph @ 0x1] No such filter: 'ebur128'")).toBe("ebur128");
  });
});

describe("parseScan", () => {
  it("shifts window times, closes open freezes at the window end and merges split freezes", () => {
    const r = parseScan(
      [
        "[blackdetect @ 0x1] black_start:0 black_end:0.5 black_duration:0.5",
        "[freezedetect @ 0x1] lavfi.freezedetect.freeze_start: 0.2",
        "[freezedetect @ 0x1] lavfi.freezedetect.freeze_end: 1.0",
        "[freezedetect @ 0x1] lavfi.freezedetect.freeze_start: 1.05",
      ],
      27,
      30,
    );
    expect(r.black).toEqual([{ start: 27, end: 27.5 }]);
    expect(r.frozen).toEqual([{ start: 27.2, end: 30 }]);
    expect(
      mergeIntervals(
        [
          { start: 0, end: 1 },
          { start: 3, end: 4 },
        ],
        0.2,
      ),
    ).toHaveLength(2);
  });
});
