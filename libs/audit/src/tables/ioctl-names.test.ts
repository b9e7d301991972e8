// The generated ioctl name table against ausearch -i itself (Debian auditd), as generate-ioctl.ts built it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ioctlCommandOf } from '../event.ts';
import { IOCTL_NAMES } from './ioctl-names.generated.ts';

const AUSEARCH = ['/usr/sbin/ausearch', '/sbin/ausearch'].find((p) => existsSync(p));
const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
if (AUSEARCH === undefined && !inCi) {
  console.warn(
    '[ioctl names] SKIPPED: the ausearch check needs ausearch (Debian auditd); with CI set it fails',
  );
}

describe('ioctl command names of ausearch -i', () => {
  it('maps the names back to their numbers, and leaves other text alone', () => {
    expect(ioctlCommandOf({ fields: { ioctlcmd: 'TIOCGWINSZ' } })).toBe(0x5413);
    expect(ioctlCommandOf({ fields: { ioctlcmd: 'SIOCGIFHWADDR' } })).toBe(0x8927);
    expect(ioctlCommandOf({ fields: { ioctlcmd: '0x5413' } })).toBe(0x5413);
    for (const v of ['NOT_AN_IOCTL', '__proto__', 'tiocgwinsz', '0x12345', '']) {
      expect(ioctlCommandOf({ fields: { ioctlcmd: v } })).toBeNull();
    }
  });

  it.runIf(AUSEARCH !== undefined || inCi)(
    'equals what ausearch -i prints for each number (and its neighbours)',
    () => {
      expect(AUSEARCH, 'ausearch (Debian auditd) is not installed').toBeDefined();
      const numbers = new Set<number>();
      for (const v of IOCTL_NAMES.values())
        for (const n of [v - 1, v, v + 1]) if (n >= 0 && n <= 0xffff) numbers.add(n);
      const list = [...numbers];
      const dir = mkdtempSync(join(tmpdir(), 'avc-ioctl-'));
      try {
        const log = join(dir, 'audit.log');
        writeFileSync(
          log,
          list
            .map(
              (n, i) =>
                `type=AVC msg=audit(1700000000.000:${i + 1}): avc:  denied  { ioctl } for  pid=1 comm="x" ioctlcmd=0x${n.toString(16)} scontext=u:r:t:s0 tcontext=u:r:t:s0 tclass=chr_file permissive=0\n`,
            )
            .join(''),
        );
        const out = execFileSync(AUSEARCH as string, ['-if', log, '-i'], {
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC' },
        });
        const printed = new Map<number, string>();
        for (const line of out.split('\n')) {
          const m = /:(\d+)\) : avc: .* ioctlcmd=(\S+) /.exec(line);
          if (m) printed.set(list[Number(m[1]) - 1] as number, m[2] as string);
        }
        expect(printed.size).toBe(list.length);
        for (const [n, text] of printed) {
          if (text.startsWith('0x')) expect([...IOCTL_NAMES.values()], text).not.toContain(n);
          else expect(IOCTL_NAMES.get(text), text).toBe(n);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
