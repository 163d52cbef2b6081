/** Bundles the page into dist/client/; resolves to the sizes in bytes. */
export function buildClient(): Promise<{ js: number; css: number; gzipped: number }>;
