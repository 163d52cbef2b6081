/** The version of this package (kept in step with package.json). */
export const version = "1.0.0";
