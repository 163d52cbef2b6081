import type { Costs, StepContext } from "@tapline/core";

/**
 * What the stand-in APIs bill, in USD: list prices of real services of each kind (late 2025), so a video
 * costs what it would with real providers.
 *
 * - LLM: per 1k tokens, input and output apart (a GPT-4o-class model: $2.50 / $10 per million).
 * - TTS: per character of the script (OpenAI `tts-1`: $15 per million characters).
 * - Images: per image (FLUX.1 [schnell] on a hosted API: $3 per thousand images).
 * - Render: per second of video, for the render the local ffmpeg stands in for (a cloud GPU at about
 *   $1.80 an hour rendering in real time).
 */
export const PRICES = {
  llm: { inputPer1kTokens: 0.0025, outputPer1kTokens: 0.01 },
  tts: { perCharacter: 0.000015 },
  images: { perImage: 0.003 },
  render: { perSecond: 0.0005 },
} as const;

/** Tokens of a text, the usual rule of thumb for English (about four characters a token). */
export const tokensOf = (text: string): number => Math.ceil(text.length / 4);

/** What an LLM call costs: `{ usd, tokens }` (input and output tokens together). */
export function llmCost(prompt: string, output: string): Costs;
export function llmCost(promptTokens: number, outputTokens: number): Costs;
export function llmCost(prompt: string | number, output: string | number): Costs {
  const input = typeof prompt === "number" ? prompt : tokensOf(prompt);
  const out = typeof output === "number" ? output : tokensOf(output);
  const usd = (input / 1000) * PRICES.llm.inputPer1kTokens + (out / 1000) * PRICES.llm.outputPer1kTokens;
  return { usd, tokens: input + out };
}

/** What speaking a text costs: `{ usd, characters }`. */
export const ttsCost = (text: string): Costs => ({
  usd: text.length * PRICES.tts.perCharacter,
  characters: text.length,
});

/** What one image costs: `{ usd, images: 1 }`. */
export const imageCost = (): Costs => ({ usd: PRICES.images.perImage, images: 1 });

/** What rendering `seconds` of video costs: `{ usd }`. */
export const renderCost = (seconds: number): Costs => ({ usd: seconds * PRICES.render.perSecond });

/** Records every amount of `costs` on the unit (`ctx.cost` once per cost unit). */
export function bill(ctx: StepContext, costs: Costs): void {
  for (const [unit, amount] of Object.entries(costs)) ctx.cost(amount, { unit });
}

/** `$0.0254 (1,180 tokens, 281 characters, 4 images)`: a run's cost for people. */
export function formatCost(cost: Readonly<Record<string, number>>): string {
  const usd = cost.usd ?? 0;
  const rest = Object.entries(cost)
    .filter(([unit]) => unit !== "usd")
    .map(([unit, n]) => `${Math.round(n).toLocaleString("en-US")} ${unit}`);
  return `$${usd.toFixed(4)}${rest.length ? ` (${rest.join(", ")})` : ""}`;
}
