// `@tapline/plugin-retry/testing`: for deterministic tests and simulations of code that uses this package.
export { seededRandom } from "./clock.ts";
