import { describe, expect, it } from 'vitest';
import { createIdResolver, parseIdFile } from './id-names.ts';

describe('id names', () => {
  it('parses passwd/group lines and resolves uid and gid separately', () => {
    const users = parseIdFile('root:x:0:0:root:/root:/bin/bash\napache:x:48:48::/usr/share/httpd:/sbin/nologin\nbad line\n#c:x:9\n');
    const groups = parseIdFile('root:x:0:\nwheel:x:10:alice\n');
    const r = createIdResolver(users, groups);
    expect([r('uid', 0), r('uid', 48), r('gid', 10), r('gid', 48), r('uid', 4294967295)]).toEqual([
      'root',
      'apache',
      'wheel',
      undefined,
      undefined,
    ]);
  });
});
