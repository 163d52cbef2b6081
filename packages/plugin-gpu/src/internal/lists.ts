/**
 * `true` when the runtime list `List` names every member of the union `Union`, else `false`. With
 * `as const satisfies readonly Union[]` on the list (no name outside the union), this makes a member added to
 * the union but not to the list a compile error:
 *
 * @example
 * const KINDS = ["a", "b"] as const satisfies readonly Kind[];
 * const _everyKind: ListsEvery<typeof KINDS, Kind> = true;
 */
export type ListsEvery<List extends readonly unknown[], Union> = [Exclude<Union, List[number]>] extends [
  never,
]
  ? true
  : false;
