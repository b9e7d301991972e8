// Port context lookups over `Policy.portcons` (portcon statements). A policy has a few hundred records, so
// a linear scan in file order is the index: it is also the kernel's own first-match order.
import { type Policy, PORT_PROTO_DCCP, PORT_PROTO_SCTP, PORT_PROTO_TCP, PORT_PROTO_UDP } from './model.ts';

const PROTOCOL_NUMBERS: ReadonlyMap<string, number> = new Map([
  ['tcp', PORT_PROTO_TCP],
  ['udp', PORT_PROTO_UDP],
  ['dccp', PORT_PROTO_DCCP],
  ['sctp', PORT_PROTO_SCTP],
]);

/** The IP protocol number of `tcp`, `udp`, `dccp` or `sctp` (as portcon and semanage spell them), else -1. */
export function portProtocolNumber(name: string): number {
  return PROTOCOL_NUMBERS.get(name) ?? -1;
}

/** The name of a port context's protocol number as seinfo prints it (`tcp`, …), or the number as text. */
export function portProtocolName(protocol: number): string {
  for (const [name, n] of PROTOCOL_NUMBERS) if (n === protocol) return name;
  return String(protocol);
}

/**
 * Indexes into `policy.portcons` of the records whose range holds `port` for IP protocol `protocol`, in
 * file order: the first is the one the kernel labels the port with.
 */
export function portconsCovering(policy: Policy, protocol: number, port: number): number[] {
  const pc = policy.portcons;
  const out: number[] = [];
  for (let i = 0; i < pc.count; i++) {
    if (pc.protocol[i] === protocol && (pc.low[i] as number) <= port && port <= (pc.high[i] as number)) {
      out.push(i);
    }
  }
  return out;
}

/**
 * The index into `policy.portcons` of the record for exactly `low..high` (one port when `high` is left
 * out) of IP protocol `protocol`, or -1. This is the key `semanage port` matches records by: with such a
 * record `semanage port -a` fails ("already defined") and `-m` modifies it; a port inside a wider range
 * has none, so `-a` adds a narrower record.
 */
export function portconIndex(policy: Policy, protocol: number, low: number, high: number = low): number {
  const pc = policy.portcons;
  for (let i = 0; i < pc.count; i++) {
    if (pc.protocol[i] === protocol && pc.low[i] === low && pc.high[i] === high) return i;
  }
  return -1;
}
