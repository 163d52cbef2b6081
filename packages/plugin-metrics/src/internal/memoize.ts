/** A bounded cache of a pure text function (error messages repeat: a failing dependency fails every run). */
export function memoize(fn: (text: string) => string, size = 256): (text: string) => string {
  const cache = new Map<string, string>();
  return (text) => {
    let out = cache.get(text);
    if (out === undefined) {
      if (cache.size >= size) cache.clear();
      out = fn(text);
      cache.set(text, out);
    }
    return out;
  };
}
