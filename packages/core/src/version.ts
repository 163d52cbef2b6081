/** The version of this `@tapline/core`, checked against each plugin's `core` range (kept equal to package.json by a test). */
export const CORE_VERSION = "1.0.0";
