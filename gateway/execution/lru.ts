/**
 * LRU on a Map (insertion order), bounded by entries and by the summed
 * weight of its entries (e.g. the length of the query texts it keys): a
 * client sending many large distinct queries cannot make it hold much.
 */
export class Lru<V> {
  private readonly map = new Map<string, { value: V; weight: number }>();
  private weight = 0;
  constructor(
    private readonly size: number,
    private readonly maxWeight = Number.POSITIVE_INFINITY,
  ) {}
  get(key: string): V | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, entry);
    return entry.value;
  }
  set(key: string, value: V, weight = 0): void {
    if (weight > this.maxWeight) return;
    const previous = this.map.get(key);
    if (previous) {
      this.weight -= previous.weight;
      this.map.delete(key);
    }
    this.map.set(key, { value, weight });
    this.weight += weight;
    while (this.map.size > this.size || this.weight > this.maxWeight) {
      const oldest = this.map.keys().next().value!;
      this.weight -= this.map.get(oldest)!.weight;
      this.map.delete(oldest);
    }
  }
  get entries(): number {
    return this.map.size;
  }
  clear(): void {
    this.map.clear();
    this.weight = 0;
  }
}
