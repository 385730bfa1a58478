/** Most recently used last; the oldest goes when the map is over `capacity`. */
export function remember<V>(map: Map<string, V>, key: string, value: V, capacity: number): void {
  map.delete(key);
  map.set(key, value);
  evictOldest(map, capacity);
}

/** Adds `key` as the newest; the oldest goes when the set is over `capacity`. True if it was new. */
export function rememberKey(set: Set<string>, key: string, capacity: number): boolean {
  const isNew = !set.has(key);
  set.delete(key);
  set.add(key);
  evictOldest(set, capacity);
  return isNew;
}

export function evictOldest(keys: Map<string, unknown> | Set<string>, capacity: number): void {
  // Over capacity, so not empty: the first key is the oldest.
  if (keys.size > capacity) keys.delete(keys.keys().next().value as string);
}
