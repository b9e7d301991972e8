import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyFormatError } from './errors.ts';
import type { Policy } from './model.ts';
import { portconIndex, portconsCovering, portProtocolName, portProtocolNumber } from './ports.ts';
import { readPolicy } from './read-policy.ts';
import { DEBIAN_POLICY, debianPolicyBytes, runPolicyTests, runSeinfoTests } from './test-policy.ts';

/** The hand-written sample policy committed with the CLI (5 portcon statements). */
const SAMPLE_POLICY = join(import.meta.dirname, '../../../services/cli/sample/policy/policy.33');

/** Every port record as `proto low-high type`, sorted. */
function ours(policy: Policy): string[] {
  const pc = policy.portcons;
  const out: string[] = [];
  for (let i = 0; i < pc.count; i++) {
    const type = policy.types[(pc.type[i] as number) - 1]?.name;
    out.push(`${portProtocolName(pc.protocol[i] as number)} ${pc.low[i]}-${pc.high[i]} ${type}`);
  }
  return out.sort();
}

/** `seinfo FILE --portcon` lines (`portcon tcp 80 system_u:object_r:http_port_t:s0`) in the same form. */
function seinfos(file: string): string[] {
  const text = execFileSync('seinfo', [file, '--portcon'], { encoding: 'utf8' });
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*portcon (\S+) (\d+)(?:-(\d+))? ([^:\s]+):([^:\s]+):([^:\s]+)(?::\S+)?$/.exec(line);
    if (m === null) continue;
    out.push(`${m[1]} ${m[2]}-${m[3] ?? m[2]} ${m[6]}`);
  }
  return out.sort();
}

/** Offset of the first port record with these three fields (u32 LE each), or -1. */
function recordOffset(bytes: Uint8Array, protocol: number, low: number, high: number): number {
  const pattern = new Uint8Array(new Uint32Array([protocol, low, high]).buffer);
  return Buffer.from(bytes).indexOf(pattern);
}

function formatError(bytes: Uint8Array): PolicyFormatError {
  try {
    readPolicy(bytes);
  } catch (err) {
    if (err instanceof PolicyFormatError) return err;
    throw err;
  }
  throw new Error('readPolicy accepted the file');
}

describe('port contexts of the sample policy', () => {
  const policy = readPolicy(new Uint8Array(readFileSync(SAMPLE_POLICY)));

  it('keeps every record in file order', () => {
    expect(policy.portcons.count).toBe(policy.counts.portcon);
    expect(ours(policy)).toEqual([
      'tcp 1024-65535 unreserved_port_t',
      'tcp 22-22 ssh_port_t',
      'tcp 443-443 http_port_t',
      'tcp 80-80 http_port_t',
      'udp 123-123 ntp_port_t',
    ]);
    expect(Object.isFrozen(policy.portcons)).toBe(true);
  });

  it('finds exact records and the records covering a port', () => {
    const tcp = portProtocolNumber('tcp');
    expect(tcp).toBe(6);
    expect(portProtocolNumber('udp')).toBe(17);
    expect(portProtocolNumber('sctp')).toBe(132);
    expect(portProtocolNumber('dccp')).toBe(33);
    expect(portProtocolNumber('icmp')).toBe(-1);
    expect(portProtocolName(33)).toBe('dccp');
    expect(portProtocolName(1)).toBe('1');
    const http = portconIndex(policy, tcp, 80);
    expect(policy.types[(policy.portcons.type[http] as number) - 1]?.name).toBe('http_port_t');
    expect(portconIndex(policy, portProtocolNumber('udp'), 80)).toBe(-1);
    expect(portconIndex(policy, tcp, 8080)).toBe(-1);
    expect(portconIndex(policy, tcp, 1024, 65535)).toBeGreaterThanOrEqual(0);
    expect(portconsCovering(policy, tcp, 8080).length).toBe(1);
    expect(portconsCovering(policy, tcp, 80)).toEqual([http]);
    expect(portconsCovering(policy, tcp, 81)).toEqual([]);
  });
});

describe.runIf(runPolicyTests)('port contexts of the Debian policy', { timeout: 120_000 }, () => {
  const policy = readPolicy(debianPolicyBytes());
  const tcp = portProtocolNumber('tcp');
  const typeOf = (i: number) => policy.types[(policy.portcons.type[i] as number) - 1]?.name;

  it.runIf(runSeinfoTests)('are exactly what seinfo --portcon lists', () => {
    const expected = seinfos(DEBIAN_POLICY);
    expect(expected.length).toBe(479);
    expect(ours(policy)).toEqual(expected);
  });

  it('tells an exact single-port record from a range holding the port', () => {
    // tcp 10023 has its own record (postgrey_port_t): semanage port -a would say "already defined".
    const own = portconIndex(policy, tcp, 10023);
    expect(typeOf(own)).toBe('postgrey_port_t');
    // tcp 81 is only inside reserved_port_t 1-511: a new record.
    expect(portconIndex(policy, tcp, 81)).toBe(-1);
    expect(portconsCovering(policy, tcp, 81).map(typeOf)).toEqual(['reserved_port_t']);
    // tcp 1 is both: the narrower record comes first, as the kernel picks it.
    expect(portconsCovering(policy, tcp, 1).map(typeOf)).toEqual(['inetd_child_port_t', 'reserved_port_t']);
    expect(typeOf(portconIndex(policy, tcp, 1, 511))).toBe('reserved_port_t');
    expect(portconIndex(policy, portProtocolNumber('udp'), 10023)).toBe(-1);
  });

  it('rejects a port record with an out-of-range protocol, port range or type', () => {
    const good = debianPolicyBytes();
    const at = recordOffset(good, 6, 10023, 10023);
    expect(at).toBeGreaterThan(0);
    const cases: Array<[number, number, RegExp]> = [
      [at, 0x100, /protocol 256/],
      [at + 4, 10024, /range 10024-10023/],
      [at + 8, 0x10000, /range 10023-65536/],
      [at + 20, 0, /unknown type 0/],
      [at + 20, 0xffff, /unknown type 65535/],
    ];
    for (const [pos, value, message] of cases) {
      const copy = new Uint8Array(good);
      new DataView(copy.buffer).setUint32(pos, value, true);
      const err = formatError(copy);
      expect(err.message).toMatch(message);
      expect(err.section).toBe('object_contexts');
      expect(err.offset).toBe(pos === at + 8 ? at + 4 : pos);
    }
  });

  it('rejects a port record count the bytes left cannot hold', () => {
    const good = debianPolicyBytes();
    // The list's count (479) and its first record (udp 1-1 inetd_child_port_t).
    const pattern = new Uint8Array(new Uint32Array([479, 17, 1, 1]).buffer);
    const count = Buffer.from(good).indexOf(pattern);
    expect(count).toBeGreaterThan(0);
    const copy = new Uint8Array(good);
    new DataView(copy.buffer).setUint32(count, Math.floor((good.length - count - 4) / 44) + 1, true);
    const err = formatError(copy);
    expect(err.message).toMatch(/port context count/);
    expect(err.offset).toBe(count);
  });
});
