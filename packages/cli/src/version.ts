/** The version of `@tapline/cli`. */
export const VERSION = "1.0.0";
