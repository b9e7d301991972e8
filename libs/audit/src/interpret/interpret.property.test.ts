import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpretRecord } from './interpret.ts';
import { describeMode } from './mode.ts';
import { decodeSockaddr, formatIpv6 } from './sockaddr.ts';

const KEYS = [
  'arch',
  'syscall',
  'exit',
  'success',
  'proctitle',
  'mode',
  'saddr',
  'auid',
  'uid',
  'gid',
  'ses',
  'argc',
  'a0',
  'a1',
  'x',
];

describe('interpretation never throws on arbitrary input', () => {
  it('interpretRecord', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('SYSCALL', 'SOCKADDR', 'EXECVE', 'PATH', 'PROCTITLE', 'AVC', 'X'),
        fc.dictionary(
          fc.constantFrom(...KEYS),
          fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-fA-F-]{0,40}$/)),
        ),
        (type, fields) => {
          const resolveIds = (_k: 'uid' | 'gid', id: number) => (id % 2 === 0 ? `u${id}` : undefined);
          expect(typeof interpretRecord(type, fields, { resolveIds })).toBe('object');
        },
      ),
      { numRuns: 2000 },
    );
  });
  it('decodeSockaddr and describeMode', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 130 }), fc.string(), (bytes, s) => {
        decodeSockaddr(bytes);
        decodeSockaddr(Buffer.from(bytes).toString('hex'));
        decodeSockaddr(s);
        describeMode(s);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('formatIpv6 agrees with the WHATWG URL serializer (RFC 5952 compression)', () => {
  it('for random and zero-heavy addresses', () => {
    const word = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), (words) => {
        const b = Buffer.alloc(16);
        for (let i = 0; i < 8; i++) b.writeUInt16BE(words[i]!, 2 * i);
        const mapped = words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff;
        fc.pre(!mapped); // URL prints ::ffff:7f00:1 where we print ::ffff:127.0.0.1
        const full = words.map((w) => w.toString(16)).join(':');
        const ref = new URL(`http://[${full}]/`).hostname.slice(1, -1);
        expect(formatIpv6(b)).toBe(ref);
      }),
      { numRuns: 3000 },
    );
  });
});
