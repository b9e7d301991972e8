/**
 * Tracks batches handed to Kafka in read order and tells which file position became safe to checkpoint:
 * the position of the last batch of the contiguous acked prefix. Pure, synchronous.
 */
export interface AckTracker<P> {
  /**
   * Register a batch (in read order) with the position that is safe once it and all before it are acked, or
   * null when the batch does not move the position (a split part of a larger read).
   */
  begin(position: P, bytes: number): number;
  /** Mark a batch acked. Returns the new safe position when the acked prefix advanced, else null. */
  ack(ticket: number): P | null;
  /** Bytes of batches not yet acked (for the high-water mark). */
  readonly unackedBytes: number;
  readonly pending: number;
}

export function createAckTracker<P>(): AckTracker<P> {
  // P may include null: a null position never becomes the safe position.
  const entries = new Map<number, { position: P; bytes: number; acked: boolean }>();
  let nextTicket = 0;
  let head = 0;
  let unacked = 0;
  return {
    begin(position, bytes) {
      const t = nextTicket++;
      entries.set(t, { position, bytes, acked: false });
      unacked += bytes;
      return t;
    },
    ack(ticket) {
      const e = entries.get(ticket);
      if (e === undefined || e.acked) return null;
      e.acked = true;
      unacked -= e.bytes;
      let safe: P | null = null;
      while (head < nextTicket) {
        const h = entries.get(head);
        if (h === undefined || !h.acked) break;
        if (h.position !== null) safe = h.position;
        entries.delete(head);
        head++;
      }
      return safe;
    },
    get unackedBytes() {
      return unacked;
    },
    get pending() {
      return entries.size;
    },
  };
}
