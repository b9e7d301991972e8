import type { ExplanationLike } from '@avcstream/alerts';
import { createExplainer, defaultLabelAt, type FileContexts, readBooleans } from '@avcstream/selinux-access';
import { readPolicy } from '@avcstream/selinux-policy';
import { readFileContexts, readPolicyFile } from '../policy-file.ts';

export interface DenialKey {
  scontext: string;
  tcontext: string;
  tclass: string;
  perms: string[];
  permissive?: boolean | null;
  /** The port of a name_bind / name_connect denial (`Denial.port`), or null. */
  port?: number | null;
  /**
   * The AVC's own `path=` (the object the kernel checked; not a path rebuilt from PATH records, which may
   * name a child being created): its file_contexts default label may make restorecon the fix.
   */
  path?: string | null;
}

export type ExplainFn = (d: DenialKey) => ExplanationLike | null;

export interface LoadedPolicy {
  explain: ExplainFn;
  /** What was loaded, for the log. */
  policyPath: string;
  policyBytes: number;
  booleans: number;
  /** The file_contexts read, or null. */
  fileContexts: string | null;
  /** Its lines that were skipped (the first ones), as file:line: problem. */
  fileContextsErrors: { count: number; first: string | null };
}

/** The booleans file or directory could not be read or parsed; `cause` holds why. */
export class BooleansLoadError extends Error {
  readonly code = 'AVC_ERR_CLI_BOOLEANS_UNREADABLE';
  readonly path: string;
  constructor(path: string, cause: unknown) {
    super(`cannot read booleans ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'BooleansLoadError';
    this.path = path;
  }
}

/** Largest policy file read (the kernel's are 2-10 MB). */
const MAX_POLICY_BYTES = 64 * 1024 * 1024;

/**
 * Load the binary policy and boolean values, and return a cached explain function. The cache is keyed by the
 * full denial and bounded.
 */
export function loadExplainer(
  policyPath: string,
  booleansPath: string | null,
  cacheSize = 10_000,
  fileContextsPath: string | null = null,
): LoadedPolicy {
  // Bounded whatever the file is (a FIFO or a device has size 0); PolicyTooLargeError past the bound.
  const bytes = readPolicyFile(policyPath, MAX_POLICY_BYTES);
  const size = bytes.length;
  const policy = readPolicy(bytes);
  let booleans: Record<string, boolean> | undefined;
  try {
    booleans = booleansPath === null ? undefined : readBooleans(booleansPath);
  } catch (err) {
    throw new BooleansLoadError(booleansPath as string, err);
  }
  const explainer = createExplainer(policy, booleans === undefined ? {} : { booleans });
  // Read errors surface here (the caller reports them); bad lines are skipped by the lookup.
  const fc: FileContexts | null = fileContextsPath === null ? null : readFileContexts(fileContextsPath);
  const cache = new Map<string, ExplanationLike | null>();
  const explain: ExplainFn = (d) => {
    const dl = defaultLabelAt(fc, d.path, d.tclass, d.tcontext);
    const key = `${d.scontext}\u0000${d.tcontext}\u0000${d.tclass}\u0000${[...d.perms].sort().join(' ')}\u0000${d.permissive}\u0000${d.port ?? ''}\u0000${dl === null ? '' : `${dl.type}\u0001${dl.spec}`}`;
    const hit = cache.get(key);
    if (hit !== undefined || cache.has(key)) return hit ?? null;
    let ex: ExplanationLike | null;
    try {
      ex = explainer.explain({
        scontext: d.scontext,
        tcontext: d.tcontext,
        tclass: d.tclass,
        perms: d.perms,
        permissive: d.permissive ?? null,
        port: d.port ?? null,
        defaultLabel: dl,
      });
    } catch {
      ex = null;
    }
    cache.set(key, ex);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value as string);
    return ex;
  };
  return {
    explain,
    policyPath,
    policyBytes: size,
    booleans: booleans === undefined ? 0 : Object.keys(booleans).length,
    fileContexts: fileContextsPath,
    // Parsed now: a daemon logs its skipped lines at start, not at the first denial.
    fileContextsErrors:
      fc === null || fc.errors.length === 0
        ? { count: 0, first: null }
        : {
            count: fc.errors.length,
            first: `${fc.errors[0]?.source}:${fc.errors[0]?.line}: ${fc.errors[0]?.message}`,
          },
  };
}
