import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { which } from '../oracle/env.ts';
import { type FileContextsSource, MAX_PATH, parseFileContexts, pcreToJs } from './file-contexts.ts';

const src = (name: string, text: string): FileContextsSource => ({ name, text });
const typeAt = (fc: ReturnType<typeof parseFileContexts>, path: string, tclass = 'file') =>
  fc.lookup(path, tclass)?.type ?? null;

describe('parseFileContexts', () => {
  it('takes the last spec that matches, exact paths after every regular expression', () => {
    const fc = parseFileContexts([
      src(
        'fc',
        [
          '/var/www(/.*)?\tsystem_u:object_r:httpd_sys_content_t:s0',
          '/var/www/exact\tsystem_u:object_r:exact_t:s0',
          '/var/www/html(/.*)?\tsystem_u:object_r:html_t:s0',
          '/var/www/[a-z]+\tsystem_u:object_r:later_regex_t:s0',
        ].join('\n'),
      ),
    ]);
    expect(fc.size).toBe(4);
    expect(typeAt(fc, '/var/www/html/index.html')).toBe('html_t');
    expect(typeAt(fc, '/var/www/other/x')).toBe('httpd_sys_content_t');
    // The later regular expression matches too, but an exact path wins over every one.
    expect(typeAt(fc, '/var/www/exact')).toBe('exact_t');
    expect(typeAt(fc, '/var/www/abc')).toBe('later_regex_t');
    expect(fc.lookup('/var/www/html/a', 'file')).toMatchObject({
      spec: '/var/www/html(/.*)?',
      source: 'fc',
      line: 3,
      context: 'system_u:object_r:html_t:s0',
    });
  });

  it('reads file_contexts, then .homedirs, then .local: the later files win', () => {
    const fc = parseFileContexts([
      src('base', '/srv(/.*)?\tsystem_u:object_r:var_t:s0'),
      src('homedirs', '/srv/home(/.*)?\tsystem_u:object_r:user_home_t:s0'),
      src('local', '/srv(/.*)?\tsystem_u:object_r:local_t:s0'),
    ]);
    expect(typeAt(fc, '/srv/home/a')).toBe('local_t');
  });

  it('applies a spec with a file type only to objects of that type', () => {
    const fc = parseFileContexts([
      src(
        'fc',
        [
          '/etc/localtime\t--\tsystem_u:object_r:locale_t:s0',
          '/etc/localtime\t-l\tsystem_u:object_r:etc_t:s0',
          '/data(/.*)?\tsystem_u:object_r:data_t:s0',
          '/data/[^/]+\t-d\tsystem_u:object_r:data_dir_t:s0',
        ].join('\n'),
      ),
    ]);
    expect(typeAt(fc, '/etc/localtime', 'file')).toBe('locale_t');
    expect(typeAt(fc, '/etc/localtime', 'lnk_file')).toBe('etc_t');
    expect(typeAt(fc, '/data/x', 'dir')).toBe('data_dir_t');
    expect(typeAt(fc, '/data/x', 'file')).toBe('data_t');
    // A class that is no file type (a socket's path): specs of any file type apply.
    expect(typeAt(fc, '/data/x', 'unix_stream_socket')).toBe('data_dir_t');
  });

  it('matches a stem spec on the rest of the path, anchored without a group, as libselinux does', () => {
    const fc = parseFileContexts([
      src(
        'fc',
        [
          '/.*\tsystem_u:object_r:default_t:s0',
          // Stem "/opt": the rest "^/a|/b$" matches "/a..." or "...b" after /opt, never on its own.
          '/opt/a|/b\tsystem_u:object_r:alt_t:s0',
          // No stem (a metacharacter in the first component): matched on the whole path.
          '/(usr|opt)/share(/.*)?\tsystem_u:object_r:share_t:s0',
        ].join('\n'),
      ),
    ]);
    expect(typeAt(fc, '/opt/a/x')).toBe('alt_t');
    expect(typeAt(fc, '/opt/x/b')).toBe('alt_t');
    expect(typeAt(fc, '/b')).toBe('default_t');
    expect(typeAt(fc, '/usr/share/doc')).toBe('share_t');
    expect(typeAt(fc, '/opt/share')).toBe('share_t');
  });

  it('finds matches whose start a quantifier makes optional (the literal-prefix filter)', () => {
    const fc = parseFileContexts([
      src(
        'fc',
        [
          '/.*\tsystem_u:object_r:default_t:s0',
          '/opt/lib?x\tsystem_u:object_r:q_t:s0',
          '/opt/ab*c\tsystem_u:object_r:star_t:s0',
          '/opt/d{0,2}e\tsystem_u:object_r:brace_t:s0',
          '/opt/f\\.g?h\tsystem_u:object_r:esc_t:s0',
          '/opt/\\d+z\tsystem_u:object_r:digit_t:s0',
          '/(opt|srv)/k|/l\tsystem_u:object_r:alt_t:s0',
        ].join('\n'),
      ),
    ]);
    expect(typeAt(fc, '/opt/lix')).toBe('q_t');
    expect(typeAt(fc, '/opt/ac')).toBe('star_t');
    expect(typeAt(fc, '/opt/e')).toBe('brace_t');
    expect(typeAt(fc, '/opt/f.h')).toBe('esc_t');
    expect(typeAt(fc, '/opt/42z')).toBe('digit_t');
    expect(typeAt(fc, '/var/l')).toBe('alt_t');
  });

  it('says no label for <<none>>, a relative path or one longer than PATH_MAX', () => {
    const fc = parseFileContexts([src('fc', '/.*\tsystem_u:object_r:default_t:s0\n/tmp/.*\t<<none>>')]);
    expect(fc.lookup('/tmp/x', 'file')).toBeNull();
    expect(typeAt(fc, '/tmp')).toBe('default_t');
    expect(fc.lookup('notes.txt', 'file')).toBeNull();
    expect(fc.lookup('', 'file')).toBeNull();
    expect(fc.lookup(`/${'a'.repeat(MAX_PATH)}`, 'file')).toBeNull();
    expect(typeAt(fc, `/${'a'.repeat(MAX_PATH - 1)}`)).toBe('default_t');
  });

  it('removes duplicate slashes and applies the aliases of .subs, then .subs_dist', () => {
    const fc = parseFileContexts(
      [
        src(
          'fc',
          [
            '/.*\tsystem_u:object_r:default_t:s0',
            '/usr/lib(/.*)?\tsystem_u:object_r:lib_t:s0',
            '/srv/web(/.*)?\tsystem_u:object_r:web_t:s0',
          ].join('\n'),
        ),
      ],
      {
        subs: src('subs', '# local\n/web /srv/web\n/mylib /lib64\n'),
        subsDist: src('subs_dist', '/lib64 /usr/lib\n/lib /usr/lib\n/root /\n'),
      },
    );
    expect(typeAt(fc, '//usr///lib/libc.so')).toBe('lib_t');
    expect(typeAt(fc, '/lib64/libc.so')).toBe('lib_t');
    expect(typeAt(fc, '/lib64')).toBe('lib_t');
    // An alias matches whole components only.
    expect(typeAt(fc, '/lib64x/libc.so')).toBe('default_t');
    expect(typeAt(fc, '/web/index.html')).toBe('web_t');
    // A local alias, then the distribution's on its result.
    expect(typeAt(fc, '/mylib/x.so')).toBe('lib_t');
    // An alias to "/" keeps one slash.
    expect(typeAt(fc, '/root/usr/lib/x')).toBe('lib_t');
  });

  it('returns bad lines as errors with their place, and keeps the good ones', () => {
    const fc = parseFileContexts([
      src(
        'file_contexts.local',
        [
          '# comment',
          '',
          '/ok(/.*)?\tsystem_u:object_r:ok_t:s0',
          '/bad(\tsystem_u:object_r:bad_t:s0',
          '/x\t-q\tsystem_u:object_r:x_t:s0',
          '/y\ta\tb\tc',
          '/z\tnotacontext',
          '/lonely',
        ].join('\n'),
      ),
    ]);
    expect(fc.size).toBe(1);
    expect(fc.errors.map((e) => [e.source, e.line])).toEqual([
      ['file_contexts.local', 4],
      ['file_contexts.local', 5],
      ['file_contexts.local', 6],
      ['file_contexts.local', 7],
      ['file_contexts.local', 8],
    ]);
    expect(typeAt(fc, '/ok/a')).toBe('ok_t');
  });

  it('looks up a hostile path in bounded time and never throws', () => {
    const fc = parseFileContexts([
      src('fc', '/.*\tsystem_u:object_r:default_t:s0\n/home/[^/]+/.+\tsystem_u:object_r:user_home_t:s0'),
    ]);
    expect(typeAt(fc, `/home/${'a/'.repeat(2000)}`)).toBe('user_home_t');
    expect(typeAt(fc, '/home/\u0000\n\u202e/x')).toBe('user_home_t');
  });
});

describe('PCRE2 as libselinux matches it', () => {
  it('never backtracks exponentially on a crafted path (a stock spec; PCRE2 stops at its match limit)', () => {
    // Without V8's linear-time fallback this lookup takes hours (each dot doubles it).
    const fc = parseFileContexts([
      src(
        'fc',
        '/.*\tsystem_u:object_r:default_t:s0\n/usr/lib/ld-[^/]*\\.so(\\.[^/]*)*\tsystem_u:object_r:ld_so_t:s0',
      ),
    ]);
    expect(typeAt(fc, `/usr/lib/ld-x.so${'.'.repeat(60)}/y`)).toBe('default_t');
    expect(typeAt(fc, '/usr/lib/ld-x.so.2')).toBe('ld_so_t');
  });

  it('matches bytes with DOTALL, and $ before a final newline', () => {
    const fc = parseFileContexts([
      src(
        'fc',
        [
          '/.*\tsystem_u:object_r:default_t:s0',
          '/var/www(/.*)?\tsystem_u:object_r:www_t:s0',
          '/srv/a.b\tsystem_u:object_r:dot_t:s0',
          '/srv/x\tsystem_u:object_r:x_t:s0',
          '/srv/é+\tsystem_u:object_r:e_t:s0',
        ].join('\n'),
      ),
    ]);
    expect(typeAt(fc, '/var/www/html/a\nb')).toBe('www_t');
    expect(typeAt(fc, '/srv/a-b')).toBe('dot_t');
    // é is two bytes: `.` matches one.
    expect(typeAt(fc, '/srv/aéb')).toBe('default_t');
    expect(typeAt(fc, '/srv/x\n')).toBe('x_t');
    // `+` repeats the last byte of é, as PCRE2 without UTF reads it.
    expect(typeAt(fc, '/srv/é\u00a9\u00a9'.replace(/\u00a9/g, ''))).toBe('e_t');
  });

  it('translates \\s, POSIX classes and a leading ] and refuses what JavaScript reads otherwise', () => {
    expect(pcreToJs('/a\\sb')).toEqual({ source: '/a[\\t\\n\\v\\f\\r ]b' });
    expect(pcreToJs('/[[:digit:]]+')).toEqual({ source: '/[0-9]+' });
    expect(pcreToJs('/[]z]')).toEqual({ source: '/[\\]z]' });
    expect(pcreToJs('/[^]z]')).toEqual({ source: '/[^\\]z]' });
    expect(pcreToJs('/\\x{41}')).toEqual({ source: '/\\x41' });
    for (const bad of ['/\\Ax', '/x\\Z', '/(?i)x', '/[[:nope:]]', '/[a', '/x\\']) {
      expect('error' in pcreToJs(bad), bad).toBe(true);
    }
    const fc = parseFileContexts([
      src(
        'fc',
        '/.*\tsystem_u:object_r:default_t:s0\n/a\\sb\tsystem_u:object_r:s_t:s0\n/(?i)x\tsystem_u:object_r:x_t:s0',
      ),
    ]);
    expect(typeAt(fc, '/a b')).toBe('s_t');
    // JavaScript's \s would match a no-break space; PCRE2's does not.
    expect(typeAt(fc, '/a\u00a0b')).toBe('default_t');
    expect(fc.errors.map((e) => e.line)).toEqual([3]);
  });

  it('reads customizable_types, and skips the path of an unlinked file', () => {
    const fc = parseFileContexts(
      [src('fc', '/.*\tsystem_u:object_r:default_t:s0')],
      {},
      src('customizable_types', '# c\npublic_content_t\nswapfile_t\n'),
    );
    expect([...fc.customizable]).toEqual(['public_content_t', 'swapfile_t']);
    expect(fc.lookup('/srv/x (deleted)', 'file')).toBeNull();
  });
});

/** libselinux's own lookup (selabel_lookup_raw through ctypes): any bytes, newlines included. */
const LIBSELINUX_LOOKUP = `
import ctypes, json, sys
lib = ctypes.CDLL('libselinux.so.1', use_errno=True)
lib.selabel_open.restype = ctypes.c_void_p
lib.selabel_open.argtypes = [ctypes.c_uint, ctypes.c_void_p, ctypes.c_uint]
lib.selabel_lookup_raw.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_char_p, ctypes.c_int]
h = lib.selabel_open(0, None, 0)
if not h: sys.exit('selabel_open failed')
modes = {'file': 0o100000, 'dir': 0o040000, 'lnk_file': 0o120000, 'chr_file': 0o020000}
for line in sys.stdin:
    cls, path = json.loads(line)
    con = ctypes.c_char_p()
    r = lib.selabel_lookup_raw(h, ctypes.byref(con), path.encode('utf8'), modes[cls])
    print('<<none>>' if r < 0 else con.value.decode())
`;

// Differential: matchpathcon (libselinux, Debian's selinux-utils) on Debian's file_contexts.
const FC_DIR = '/etc/selinux/default/contexts/files';
const haveOracle = existsSync(`${FC_DIR}/file_contexts`) && which('matchpathcon') !== null;
const inCi = Boolean(process.env.CI);
if (!haveOracle && !inCi) {
  console.warn(
    `SKIPPED: matchpathcon or ${FC_DIR}/file_contexts is absent (install selinux-utils and selinux-policy-default); set CI=1 to make this fail`,
  );
}

/** Paths that exercise the specs: each spec with its metacharacters stripped, with and without a tail. */
function samplePaths(specs: string): string[] {
  const out = new Set<string>();
  for (const line of specs.split('\n')) {
    const re = line.trim().split(/\s+/)[0] ?? '';
    if (!re.startsWith('/')) continue;
    const plain = re
      .replace(/\[\^\/\]\*|\[\^\/\]\+/g, 'n')
      .replace(/\[([^\]])[^\]]*\]/g, '$1')
      .replace(/\(([^|()]*)\|[^()]*\)/g, '$1')
      .replace(/\\(.)/g, '$1')
      .replace(/[()?*+^$]/g, '')
      .replace(/\.(?=[/]|$)/g, 'x')
      .replace(/\/+$/, '');
    if (plain === '') continue;
    out.add(plain);
    out.add(`${plain}/sub/file.txt`);
    out.add(`${plain}x`);
  }
  return [...out].filter((p) => p.startsWith('/') && !/\s/.test(p));
}

describe.runIf(haveOracle || inCi)('parseFileContexts against matchpathcon on Debian file_contexts', () => {
  it('gives every sample path the context matchpathcon gives, for files, directories and links', () => {
    const read = (name: string) => {
      const p = `${FC_DIR}/${name}`;
      return existsSync(p) ? src(name, readFileSync(p, 'utf8')) : undefined;
    };
    const specs = ['file_contexts', 'file_contexts.homedirs', 'file_contexts.local']
      .map(read)
      .filter((s): s is FileContextsSource => s !== undefined);
    const fc = parseFileContexts(specs, {
      subs: read('file_contexts.subs'),
      subsDist: read('file_contexts.subs_dist'),
    });
    expect(fc.errors).toEqual([]);
    expect(fc.size).toBeGreaterThan(4000);
    const paths = [
      ...samplePaths(specs.map((s) => s.text).join('\n')),
      ...readdirSync('/etc').map((n) => `/etc/${n}`),
      '/bin/bash',
      '/lib64/ld-linux-x86-64.so.2',
      '/var/run/sshd.pid',
      '/home/alice/public_html/index.html',
      '/home/alice/.ssh/authorized_keys',
      '/root/.bashrc',
      '//var//www/html',
    ];
    expect(paths.length).toBeGreaterThan(10_000);
    let compared = 0;
    for (const [mode, tclass] of [
      ['file', 'file'],
      ['dir', 'dir'],
      ['lnk_file', 'lnk_file'],
    ] as const) {
      const expected = new Map<string, string>();
      // matchpathcon prints "PATH\tCONTEXT" per argument, in order; in slices to stay under ARG_MAX.
      for (let i = 0; i < paths.length; i += 2000) {
        const slice = paths.slice(i, i + 2000);
        const outText = execFileSync('matchpathcon', ['-m', mode, ...slice], {
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        });
        const lines = outText.trimEnd().split('\n');
        expect(lines.length).toBe(slice.length);
        lines.forEach((l, k) => {
          expected.set(slice[k] as string, l.slice(l.lastIndexOf('\t') + 1));
        });
      }
      const mismatches: string[] = [];
      for (const p of paths) {
        const ours = fc.lookup(p, tclass)?.context ?? '<<none>>';
        const theirs = expected.get(p);
        compared++;
        if (ours !== theirs) mismatches.push(`${mode} ${p}: ours ${ours}, matchpathcon ${theirs}`);
      }
      expect(mismatches.slice(0, 20)).toEqual([]);
    }
    expect(compared).toBeGreaterThan(30_000);
  }, 120_000);
});

const havePython =
  spawnSync('/usr/bin/python3', ['-c', 'import ctypes; ctypes.CDLL("libselinux.so.1")']).status === 0;
describe.runIf((haveOracle && havePython) || inCi)(
  'parseFileContexts against libselinux on hostile paths',
  () => {
    it('gives the context selabel_lookup gives for paths with newlines, non-ASCII bytes and runs of dots', () => {
      const read = (name: string) => src(name, readFileSync(`${FC_DIR}/${name}`, 'utf8'));
      const fc = parseFileContexts([read('file_contexts'), read('file_contexts.homedirs')], {
        subsDist: read('file_contexts.subs_dist'),
      });
      const bases = [
        '/var/www/html/a',
        '/home/alice/public_html/x',
        '/usr/lib/ld-x.so',
        '/dev/usb/tty',
        '/etc/shadow',
        '/srv/a',
      ];
      const tails = ['', '\n', '\nb', '\r', '\u2028', 'é', '\u00a0b', ' b', `.so${'.'.repeat(20)}/y`, '\t'];
      const cases: Array<[string, string]> = [];
      for (const b of bases)
        for (const t of tails) for (const c of ['file', 'dir', 'chr_file']) cases.push([c, b + t]);
      const out = execFileSync('/usr/bin/python3', ['-c', LIBSELINUX_LOOKUP], {
        input: cases.map((c) => JSON.stringify(c)).join('\n'),
        encoding: 'utf8',
      })
        .trimEnd()
        .split('\n');
      expect(out.length).toBe(cases.length);
      const mismatches = cases
        .map(([c, p], i) => [c, p, fc.lookup(p, c)?.context ?? '<<none>>', out[i]] as const)
        .filter(([, , ours, theirs]) => ours !== theirs)
        .map(([c, p, ours, theirs]) => `${c} ${JSON.stringify(p)}: ours ${ours}, libselinux ${theirs}`);
      expect(mismatches).toEqual([]);
    });
  },
);
