import { createAuditDecoder } from '@avcstream/audit';
import { decodeDeadLetterMessage } from '@avcstream/contracts';
import { describe, expect, it } from 'vitest';
import { encodeParseError } from './encode.ts';

const file = { path: '/var/log/audit/audit.log', dev: 2049, ino: 131, fp: 'f', fpLen: 1024, base: 100 };

describe('encodeParseError', () => {
  it('dead-letters an over-long line with its real length and truncated: true', () => {
    const line = Buffer.from(`type=CWD msg=audit(1.001:3): cwd="${'a'.repeat(1_126_400)}"\n`);
    const decoder = createAuditDecoder();
    const errors = [];
    for (let i = 0; i < line.length; i += 65_536)
      errors.push(...decoder.write(line.subarray(i, i + 65_536)).errors);
    errors.push(...decoder.end().errors);
    expect(errors).toHaveLength(1);
    const out = encodeParseError(errors[0]!, { host: 'web01', file, now: new Date(0) });
    expect(out.topic).toBe('deadletter');
    const dl = decodeDeadLetterMessage(out.value);
    if (!dl.ok) throw new Error(dl.error.message);
    expect(dl.value).toMatchObject({
      reason: { code: 'AVC_ERR_AUDIT_LINE_TOO_LONG' },
      rawBytes: line.length - 1,
      truncated: true,
      source: { kind: 'file', offset: 100, line: 1 },
    });
    expect(Buffer.from(dl.value.raw, 'base64')).toEqual(line.subarray(0, 4096));
  });
});
