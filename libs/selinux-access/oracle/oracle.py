#!/usr/bin/python3 -Es
"""Reference oracle for the differential tests of @avcstream/selinux-access.

Runs under Debian's /usr/bin/python3 with the `selinux` (libselinux/libsepol bindings,
package python3-selinux, pulled in by policycoreutils-python-utils) and `setools` modules.
One process per batch: the tests call it once per policy, never once per denial.

Commands (JSON on stdout):
  gen POLICY SEED N            N random AVC denials built from the policy's real types,
                               classes, permissions, roles, users and rules, each with
                               audit2why's answer (selinux.audit2why.analyze).
  analyze POLICY               stdin: JSON list of [scontext, tcontext, tclass, [perms]];
                               stdout: list of [code, data] from audit2why.
  gen-plain POLICY SEED N      the same denials without audit2why's answers (for the benchmark).
  blast POLICY LIMIT           stdin: JSON list of boolean names; for each, the allow rules that
                               flipping it (from the policy defaults) would enable: their number
                               (avtab entries, attributes unexpanded) and the distinct
                               (source type, target type, class) triples they cover, attributes
                               expanded (null when the expansion exceeds LIMIT pairs).
  query POLICY SEED N          N random (source, target, class) triples (types, attributes,
                               conditional rules included), each with the sesearch-style rule
                               lines of allow/auditallow/dontaudit rules matched indirectly.
                               The first few are re-run through setools.TERuleQuery (the
                               sesearch engine itself) and must agree with the indexed search.

audit2why result codes (libsepol): 0 ALLOW, 1 DONTAUDIT, 2 TERULE, 3 BOOLEAN, 4 CONSTRAINT,
5 RBAC, 6 BOUNDS, -2 BADSCON, -3 BADTCON, -4 BADTCLASS, -5 BADPERM, -6 BADCOMPUTE, -7 NOPOLICY.
"""

import json
import os
import random
import sys

import selinux.audit2why as a2w
import setools


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def analyze_all(path, items):
    a2w.init(path)
    out = []
    try:
        for scon, tcon, tclass, perms in items:
            code, data = a2w.analyze(scon, tcon, tclass, list(perms))
            if code == 3:
                data = [[name, int(val)] for name, val in data]
            elif code != 4:
                data = None
            out.append([code, data])
    finally:
        a2w.finish()
    return out


def silence_libsepol():
    # libsepol prints one line per invalid context on fd 2; thousands of them are noise.
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(2)
    os.dup2(devnull, 2)
    os.close(devnull)
    return saved


def restore_stderr(saved):
    os.dup2(saved, 2)
    os.close(saved)


class Model:
    def __init__(self, path):
        self.p = p = setools.SELinuxPolicy(path)
        self.mls = p.mls
        self.types = sorted(str(t) for t in p.types())
        self.attrs = sorted(str(t) for t in p.typeattributes())
        self.attr_members = {str(at): sorted(str(t) for t in at.expand()) for at in p.typeattributes()}
        self.classes = {}
        for c in p.classes():
            perms = set(c.perms)
            try:
                if c.common is not None:
                    perms |= set(c.common.perms)
            except setools.exception.NoCommon:
                pass
            self.classes[str(c)] = sorted(perms)
        self.class_names = sorted(self.classes)
        self.type_roles = {}
        self.role_types = {}
        for r in sorted(p.roles(), key=str):
            if str(r) == 'object_r':
                continue
            self.role_types[str(r)] = {str(t) for t in r.types()}
            for t in sorted(self.role_types[str(r)]):
                self.type_roles.setdefault(str(t), []).append(str(r))
        self.role_users = {}
        self.user_range = {}
        for u in sorted(p.users(), key=str):
            for r in u.roles:
                self.role_users.setdefault(str(r), []).append(str(u))
            self.user_range[str(u)] = str(u.mls_range) if self.mls else ''
        # MLS levels: sensitivities in dominance order, categories by value.
        self.sens = [str(l.sensitivity) for l in p.levels()] if self.mls else []
        self.cats = sorted((str(c) for c in p.categories()), key=lambda c: (len(c), c)) if self.mls else []
        self.domains = sorted(set(self.attr_members.get('domain', [])) & set(self.type_roles)) or sorted(self.type_roles)
        self.rules = []  # (ruletype, source, target, class, perms, conditional-or-None)
        for r in p.terules():
            rt = str(r.ruletype)
            if rt not in ('allow', 'auditallow', 'dontaudit'):
                continue
            try:
                cond = str(r.conditional)
            except setools.exception.RuleNotConditional:
                cond = None
            self.rules.append((rt, str(r.source), str(r.target), str(r.tclass), sorted(r.perms), cond, r))

    def expand(self, name):
        return self.attr_members[name] if name in self.attr_members else [name]


LEVELS_SRC = ['s0', 's0', 's0', 's0-s0:c0.c1023', 's0:c1,c5', 's0:c3.c7', 's0-s0:c2']
LEVELS_TGT = ['s0', 's0', 's0', 's0:c1', 's0:c5,c10', 's0-s0:c0.c1023', 's0:c1,c5']


def gen_denials(m, seed, n):
    rng = random.Random(seed)
    allow_u = [r for r in m.rules if r[0] == 'allow' and r[5] is None]
    allow_c = [r for r in m.rules if r[0] == 'allow' and r[5] is not None]
    dontaudit = [r for r in m.rules if r[0] == 'dontaudit']
    relabel_classes = {'file', 'dir', 'lnk_file', 'chr_file', 'blk_file', 'sock_file', 'fifo_file'}
    relabel = [r for r in allow_u if r[3] in relabel_classes and set(r[4]) & {'create', 'relabelfrom', 'relabelto'}]
    transitions = [r for r in allow_u if r[3] == 'process' and 'transition' in r[4]]
    mcs_types = set(m.attr_members.get('mcs_constrained_type', []))
    mcs_rules = [r for r in allow_u if set(m.expand(r[1])) & mcs_types]
    changers = set()
    for a in ('can_change_process_role', 'can_system_change', 'process_uncond_exempt'):
        changers |= set(m.attr_members.get(a, []))
    role_changers = [r for r in transitions if set(m.expand(r[1])) & changers]
    common_classes = [c for c in ('file', 'dir', 'lnk_file', 'sock_file', 'process', 'capability', 'tcp_socket',
                                  'udp_socket', 'unix_stream_socket', 'chr_file', 'fd', 'filesystem', 'dbus')
                      if c in m.classes]

    multi = len(m.sens) > 1

    def rand_level(min_sens=0):
        si = rng.randrange(min_sens, len(m.sens))
        x = rng.random()
        if x < 0.4 or not m.cats:
            return si, m.sens[si], set()
        if x < 0.7:
            cs = sorted(rng.sample(range(len(m.cats)), rng.randint(1, 2)))
            return si, m.sens[si] + ':' + ','.join(m.cats[c] for c in cs), set(cs)
        a, b = sorted(rng.sample(range(len(m.cats)), 2))
        return si, f'{m.sens[si]}:{m.cats[a]}.{m.cats[b]}', set(range(a, b + 1))

    def rand_range():
        # a valid range most of the time (high dominates low), sometimes just one level
        si, low, lcats = rand_level()
        if rng.random() < 0.4:
            return low
        hi = rng.randrange(si, len(m.sens))
        if rng.random() < 0.5 or not m.cats:
            return f'{low}-{m.sens[hi]}:{m.cats[0]}.{m.cats[-1]}' if m.cats else f'{low}-{m.sens[hi]}'
        return f'{low}-{m.sens[hi]}'

    LS = [rand_range() for _ in range(40)] if multi else LEVELS_SRC
    LT = [rand_range() for _ in range(40)] if multi else LEVELS_TGT

    def ctx(user, role, typ, level):
        return f'{user}:{role}:{typ}' + (f':{level}' if level is not None else '')

    def subject(t, level=None):
        roles = [r for r in m.type_roles.get(t, []) if r in m.role_users]
        if not roles:
            role, user = 'system_r', 'system_u'
        else:
            role = rng.choice(roles)
            users = m.role_users.get(role) or ['system_u']
            user = rng.choice(users)
        if level is None and m.mls:
            level = 's0' if m.user_range.get(user, 's0') == 's0' else rng.choice(LS)
        return ctx(user, role, t, level)

    def obj(t, user='system_u', level=None):
        if level is None and m.mls:
            level = rng.choice(LT)
        return ctx(user, 'object_r', t, level)

    def concrete(name, prefer_domain=False):
        members = m.expand(name)
        if not members:
            return None
        if prefer_domain:
            doms = [t for t in members if t in m.type_roles]
            if doms:
                return rng.choice(doms)
        return rng.choice(members)

    def from_rule(rule, kind, nperm=2):
        s = concrete(rule[1], prefer_domain=True)
        t = concrete(rule[2])
        if s is None or t is None:
            return None
        perms = rng.sample(rule[4], min(len(rule[4]), rng.randint(1, nperm)))
        return dict(kind=kind, scontext=subject(s), tcontext=obj(t) if rule[3] != 'process' else subject(t),
                    tclass=rule[3], perms=sorted(perms))

    out = []
    while len(out) < n:
        x = rng.random()
        d = None
        if x < 0.30:  # random TE: mostly missing rules, some dontaudit, some allowed
            s = rng.choice(m.domains)
            c = rng.choice(common_classes)
            t = rng.choice(m.domains) if c in ('process', 'fd', 'capability', 'dbus') and rng.random() < 0.8 else rng.choice(m.types)
            if c == 'capability':
                t = s
            perms = rng.sample(m.classes[c], min(len(m.classes[c]), rng.randint(1, 3)))
            tcon = subject(t) if c in ('process', 'fd', 'capability', 'dbus') else obj(t)
            d = dict(kind='te', scontext=subject(s), tcontext=tcon, tclass=c, perms=sorted(perms))
        elif x < 0.55:  # boolean-gated rules
            d = from_rule(rng.choice(allow_c), 'boolean')
        elif x < 0.67:  # unconditional allow rules (ALLOWED, or MLS constraints with random levels)
            d = from_rule(rng.choice(allow_u), 'allow', 3)
        elif x < 0.74:  # dontaudit rules
            d = from_rule(rng.choice(dontaudit), 'dontaudit')
        elif x < 0.82:  # user-identity constraint on relabelling / creating
            r = rng.choice(relabel)
            s = concrete(r[1], prefer_domain=True)
            t = concrete(r[2])
            if s is not None and t is not None:
                perms = sorted(set(r[4]) & {'create', 'relabelfrom', 'relabelto'})
                su = subject(s)
                tu = rng.choice([u for u in sorted(m.user_range) if u != su.split(':')[0]])
                d = dict(kind='constraint', scontext=su, tcontext=obj(t, user=tu), tclass=r[3],
                         perms=rng.sample(perms, rng.randint(1, len(perms))))
        elif x < 0.87 and m.mls:  # MCS: categories the subject does not hold
            r = rng.choice(mcs_rules) if mcs_rules and rng.random() < 0.7 else rng.choice(allow_u)
            d = from_rule(r, 'mls', 2)
            if d is not None and r in mcs_rules:
                st = rng.choice(sorted(set(m.expand(r[1])) & mcs_types))
                parts = d['scontext'].split(':', 3)
                d['scontext'] = subject(st, level='s0')
            if d is not None:
                parts = d['scontext'].split(':', 3)
                d['scontext'] = ':'.join(parts[:3] + ['s0:c1'])
                tparts = d['tcontext'].split(':', 3)
                d['tcontext'] = ':'.join(tparts[:3] + [rng.choice(['s0:c2', 's0:c1,c2', 's0-s0:c0.c1023'])])
        elif x < 0.91:  # role changes on process transitions
            r = rng.choice(role_changers) if role_changers and rng.random() < 0.6 else rng.choice(transitions)
            s = concrete(r[1], prefer_domain=True)
            t = concrete(r[2], prefer_domain=True)
            if s is not None and t is not None:
                d = dict(kind='rbac', scontext=subject(s), tcontext=subject(t), tclass='process',
                         perms=['transition'])
        elif x < 0.99:  # invalid contexts
            s = rng.choice(m.domains)
            t = rng.choice(m.types)
            scon, tcon = subject(s), obj(t)
            how = rng.randrange(8)
            if how == 0:
                tcon = obj(rng.choice(['container_file_t', 'nosuch_t', 'httpd_sys_rw_content_t']))
            elif how == 1:
                scon = subject(rng.choice(['nginx_t', 'spc_t', 'container_t']))
            elif how == 2:
                scon = ctx('system_u', 'system_r', rng.choice(m.attrs), 's0' if m.mls else None)
            elif how == 3:
                scon = ctx('system_u', 'user_r', s, 's0' if m.mls else None)
            elif how == 4:
                scon = ctx('nobody_u', 'system_r', s, 's0' if m.mls else None)
            elif how == 5 and m.mls:
                tcon = obj(t, level=rng.choice(['s1', 's0:c1024', 's0:c9.c3', 's0-s1']))
            elif how == 6 and m.mls:
                scon = ctx('user_u', 'user_r', rng.choice(m.attr_members.get('unpriv_userdomain', m.domains) or m.domains), 's0:c5')
            else:
                # a role that exists but is not authorized for the type
                roles = [r for r in sorted(m.role_types) if s not in m.role_types[r]]
                if roles:
                    role = rng.choice(roles)
                    users = m.role_users.get(role) or ['system_u']
                    scon = ctx(rng.choice(users), role, s, 's0' if m.mls else None)
            d = dict(kind='invalid', scontext=scon, tcontext=tcon, tclass=rng.choice(common_classes),
                     perms=['getattr'])
            d['perms'] = [rng.choice(m.classes[d['tclass']])]
        else:  # unknown class or permission
            s = rng.choice(m.domains)
            if rng.random() < 0.5:
                d = dict(kind='unknown', scontext=subject(s), tcontext=subject(s), tclass='nosuch_class', perms=['read'])
            else:
                d = dict(kind='unknown', scontext=subject(s), tcontext=obj(rng.choice(m.types)), tclass='file',
                         perms=['read', 'nosuch_perm'])
        if d is not None:
            out.append(d)
    return out


def cmd_gen(path, seed, n):
    m = Model(path)
    denials = gen_denials(m, seed, n)
    saved = silence_libsepol()
    try:
        res = analyze_all(path, [(d['scontext'], d['tcontext'], d['tclass'], d['perms']) for d in denials])
    finally:
        restore_stderr(saved)
    for d, (code, data) in zip(denials, res):
        d['code'] = code
        d['data'] = data
    return {'policy': path, 'seed': seed, 'mls': m.mls, 'denials': denials}


def cmd_query(path, seed, n, exact_checks=4):
    m = Model(path)
    rng = random.Random(seed)
    by_class = {}
    for r in m.rules:
        by_class.setdefault(r[3], []).append(r)
    expanded = {}

    def exp(name):
        e = expanded.get(name)
        if e is None:
            e = expanded[name] = frozenset(m.expand(name))
        return e

    cond_rules = [r for r in m.rules if r[5] is not None]
    attrs_nonempty = [a for a in m.attrs if m.attr_members[a]]
    triples = []
    while len(triples) < n:
        x = rng.random()
        if x < 0.4:  # from a conditional rule (a type of it, or the names written in it)
            r = rng.choice(cond_rules)
            s = r[1] if rng.random() < 0.5 else rng.choice(m.expand(r[1]) or [r[1]])
            t = r[2] if rng.random() < 0.5 else rng.choice(m.expand(r[2]) or [r[2]])
            c = r[3]
        elif x < 0.8:  # from an unconditional rule
            r = rng.choice(m.rules)
            s = rng.choice(m.expand(r[1]) or [r[1]])
            t = r[2] if rng.random() < 0.3 else rng.choice(m.expand(r[2]) or [r[2]])
            c = r[3]
        else:  # random types or attributes
            s = rng.choice(m.domains) if rng.random() < 0.7 else rng.choice(attrs_nonempty)
            t = rng.choice(m.types) if rng.random() < 0.7 else rng.choice(attrs_nonempty)
            c = rng.choice(m.class_names)
        triples.append((s, t, c))
    out = []
    for s, t, c in triples:
        es, et = exp(s), exp(t)
        lines = sorted(str(r[6]) for r in by_class.get(c, []) if exp(r[1]) & es and exp(r[2]) & et)
        out.append({'source': s, 'target': t, 'tclass': c, 'rules': lines})
    # The indexed search above must equal setools' own TERuleQuery (what sesearch runs).
    for q in [q for q in out if q['source'] in m.type_roles][:exact_checks]:
        tq = setools.TERuleQuery(m.p, ruletype=['allow', 'auditallow', 'dontaudit'], source=q['source'],
                                 target=q['target'], tclass=[q['tclass']])
        exact = sorted(str(r) for r in tq.results())
        if exact != q['rules']:
            raise SystemExit(f'oracle self-check failed for {q["source"]} {q["target"]} {q["tclass"]}')
    return {'policy': path, 'seed': seed, 'triples': out}


def cmd_blast(path, names, limit):
    m = Model(path)
    state = {str(b): bool(b.state) for b in m.p.bools()}
    out = {}
    for name in names:
        flipped = dict(state)
        flipped[name] = not state[name]
        rules = 0
        work = 0
        triples = set()
        for rt, src, tgt, cls, perms, cond, r in m.rules:
            if rt != 'allow' or cond is None or name not in {str(b) for b in r.conditional.booleans}:
                continue
            c = r.conditional
            before = c.evaluate(**{str(b): state[str(b)] for b in c.booleans})
            after = c.evaluate(**{str(b): flipped[str(b)] for b in c.booleans})
            branch = bool(r.conditional_block)
            if after == branch and before != branch:
                rules += 1
                ss, ts = m.expand(src), m.expand(tgt)
                work += len(ss) * len(ts)
                if triples is not None and work <= limit:
                    triples.update((s, t, cls) for s in ss for t in ts)
                else:
                    triples = None
        out[name] = {'rules': rules, 'triples': None if triples is None else len(triples)}
    return out


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    cmd, path = argv[1], argv[2]
    if cmd == 'gen':
        res = cmd_gen(path, int(argv[3]), int(argv[4]))
    elif cmd == 'gen-plain':
        m = Model(path)
        res = {'policy': path, 'seed': int(argv[3]), 'mls': m.mls, 'denials': gen_denials(m, int(argv[3]), int(argv[4]))}
    elif cmd == 'analyze':
        items = json.load(sys.stdin)
        saved = silence_libsepol()
        try:
            res = analyze_all(path, items)
        finally:
            restore_stderr(saved)
    elif cmd == 'blast':
        res = cmd_blast(path, json.load(sys.stdin), int(argv[3]))
    elif cmd == 'query':
        res = cmd_query(path, int(argv[3]), int(argv[4]))
    else:
        raise SystemExit(__doc__)
    json.dump(res, sys.stdout, separators=(',', ':'))


if __name__ == '__main__':
    main(sys.argv)
