// The policy states and binaries seen on avcstream.policy.v1, and an explainer per policy hash (cached).
import {
  assemblePolicy,
  decodeFileContextsBundle,
  type PolicyChunkMessage,
  type PolicyMessage,
  type PolicyStateMessage,
} from '@avcstream/contracts';
import {
  createExplainer,
  type Explainer,
  type FileContexts,
  fileContextsOf,
} from '@avcstream/selinux-access';
import { readPolicy } from '@avcstream/selinux-policy';

export type PolicyLookup =
  | {
      kind: 'ready';
      explainer: Explainer;
      booleans: Readonly<Record<string, boolean>>;
      state: PolicyStateMessage;
      /**
       * The host's file_contexts set, when its state names one and it loaded (restorecon advice); null
       * otherwise. A set that does not load leaves the policy usable: `fileContextsError` says why.
       */
      fileContexts: FileContexts | null;
      fileContextsError: string | null;
    }
  | { kind: 'pending'; reason: 'state' | 'binary' | 'file_contexts' }
  | { kind: 'error'; message: string };

export interface PolicyStoreOptions<S = unknown> {
  /** Parsed policies kept (each holds a model in memory). Default 4. */
  maxLoaded?: number;
  /** Policy states remembered. Default 100 000 (oldest dropped). */
  maxStates?: number;
  /** Distinct policy binaries whose chunks are kept. Default 32. */
  maxBinaries?: number;
  /** Called when a policy is parsed (or fails to). */
  onLoad?: (sha256: string, ok: boolean, durationMs: number, error?: string) => void;
  /**
   * Called once per failed load with the `source` of every chunk message of that binary applied since the last
   * load (which chunk is bad cannot be told apart), so the caller can count and dead-letter them.
   */
  onInvalid?: (sha256: string, error: string, sources: S[]) => void;
  /**
   * A state id whose wait timed out is not waited for again for this long (a negative cache): later lookups of
   * it return pending at once. The state (or, for a missing binary, a chunk of it) arriving clears the entry.
   * 0 turns it off. Default 600 000.
   */
  missTtlMs?: number;
  /** State ids remembered as missing. Default 10 000 (oldest dropped). */
  maxMisses?: number;
  /** Clock of `missTtlMs`, in ms. Default `Date.now`. */
  now?: () => number;
  /** Called once per `waitFor` that did not join a wait already running for the same id, with how it ended. */
  onWait?: (stateId: string, outcome: WaitOutcome) => void;
}

/**
 * How a `waitFor` ended: `found` (not pending, at once or after waiting), `timeout`, `known_missing` (timed out
 * before and still missing: not waited for again), `aborted`.
 */
export type WaitOutcome = 'found' | 'timeout' | 'known_missing' | 'aborted';

export interface PolicyStore<S = unknown> {
  /**
   * Apply a policy-topic message. `source` (the delivery, say) is handed back to `onInvalid` if the binary it
   * is a chunk of does not load. A chunk for a binary whose load failed clears that error: the next lookup
   * tries again with the new chunk set.
   */
  apply(msg: PolicyMessage, source?: S): void;
  lookup(stateId: string): PolicyLookup;
  /**
   * Resolves once `lookup(stateId)` is no longer pending, or after `timeoutMs`. A state id that timed out within
   * `missTtlMs` and is still pending resolves at once; a call while another wait for the same id runs joins it.
   */
  waitFor(stateId: string, timeoutMs: number, signal?: AbortSignal): Promise<PolicyLookup>;
  stats(): { states: number; binaries: number; loaded: number; fileContexts: number; misses: number };
}

export function createPolicyStore<S = unknown>(options: PolicyStoreOptions<S> = {}): PolicyStore<S> {
  const maxLoaded = options.maxLoaded ?? 4;
  const maxStates = options.maxStates ?? 100_000;
  const maxBinaries = options.maxBinaries ?? 32;
  const missTtlMs = options.missTtlMs ?? 600_000;
  const maxMisses = options.maxMisses ?? 10_000;
  const clock = options.now ?? Date.now;
  /** State ids whose wait timed out → when that stops counting (insertion order = expiry order). */
  const misses = new Map<string, number>();
  const running = new Map<string, Promise<PolicyLookup>>();
  const states = new Map<string, PolicyStateMessage>();
  const chunks = new Map<string, Map<number, PolicyChunkMessage>>();
  const loaded = new Map<string, Explainer | { error: string }>();
  /** file_contexts sets by bundle hash (bounded like `loaded`). */
  const fcLoaded = new Map<string, FileContexts | { error: string }>();
  /** Per binary, the sources of its chunks applied since its last load (bounded like `chunks`). */
  const sources = new Map<string, Map<number, S>>();
  let waiters: Array<() => void> = [];

  const wake = () => {
    const ws = waiters;
    waiters = [];
    for (const w of ws) w();
  };

  /**
   * What the chunks of `sha256` load into, cached in `cache` (an LRU of `maxLoaded`): null while chunks are
   * missing; an error value when they do not reassemble (`what` names them) or `build` fails, and then the
   * sources of its chunks go to onInvalid. `loaded` is told of each load (not of cache hits).
   */
  const loadBlob = <T extends object>(
    sha256: string,
    cache: Map<string, T | { error: string }>,
    what: string,
    build: (bytes: Buffer) => T | { error: string },
    onLoaded?: (result: T | { error: string }, durationMs: number) => void,
  ): T | { error: string } | null => {
    const hit = cache.get(sha256);
    if (hit !== undefined) {
      cache.delete(sha256);
      cache.set(sha256, hit);
      return hit;
    }
    const parts = chunks.get(sha256);
    if (parts === undefined) return null;
    const first = parts.values().next().value;
    if (first === undefined || parts.size < first.count) return null;
    const t0 = Date.now();
    const assembled = assemblePolicy(parts.values());
    const result =
      assembled === null
        ? { error: `${what} chunks do not reassemble to their sha256` }
        : build(assembled.bytes);
    onLoaded?.(result, Date.now() - t0);
    const from = [...(sources.get(sha256)?.values() ?? [])];
    sources.delete(sha256);
    if ('error' in result) options.onInvalid?.(sha256, result.error, from);
    cache.set(sha256, result);
    while (cache.size > maxLoaded) cache.delete(cache.keys().next().value as string);
    return result;
  };

  const explainerFor = (sha256: string): Explainer | { error: string } | null =>
    loadBlob<Explainer>(
      sha256,
      loaded,
      'policy',
      (bytes) => {
        try {
          return createExplainer(readPolicy(bytes));
        } catch (err) {
          return { error: `policy does not parse: ${String((err as Error).message).slice(0, 500)}` };
        }
      },
      (result, ms) =>
        options.onLoad?.(sha256, !('error' in result), ms, 'error' in result ? result.error : undefined),
    );

  /** The file_contexts set of bundle `sha256`: null while chunks are missing; an error value when it does not load. */
  const fileContextsFor = (sha256: string): FileContexts | { error: string } | null =>
    loadBlob<FileContexts>(sha256, fcLoaded, 'file_contexts', (bytes) => {
      const bundle = decodeFileContextsBundle(bytes);
      return bundle.ok
        ? fileContextsOf(bundle.value)
        : { error: `file_contexts bundle invalid: ${bundle.error.message}` };
    });

  const wait = async (stateId: string, timeoutMs: number, signal?: AbortSignal): Promise<PolicyLookup> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = store.lookup(stateId);
      if (r.kind !== 'pending') {
        options.onWait?.(stateId, 'found');
        return r;
      }
      if (signal?.aborted) {
        options.onWait?.(stateId, 'aborted');
        return r;
      }
      if (Date.now() >= deadline) {
        if (missTtlMs > 0) {
          misses.delete(stateId);
          misses.set(stateId, clock() + missTtlMs);
          while (misses.size > maxMisses) misses.delete(misses.keys().next().value as string);
        }
        options.onWait?.(stateId, 'timeout');
        return r;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(250, Math.max(1, deadline - Date.now())));
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  };

  const store: PolicyStore<S> = {
    apply(msg, source) {
      if (msg.kind === 'state') {
        states.delete(msg.stateId);
        states.set(msg.stateId, msg);
        misses.delete(msg.stateId);
        while (states.size > maxStates) states.delete(states.keys().next().value as string);
      } else {
        let parts = chunks.get(msg.sha256);
        if (parts === undefined) {
          parts = new Map();
          chunks.set(msg.sha256, parts);
          while (chunks.size > maxBinaries) {
            const oldest = chunks.keys().next().value as string;
            chunks.delete(oldest);
            sources.delete(oldest);
          }
        }
        parts.set(msg.index, msg);
        for (const id of misses.keys()) {
          const st = states.get(id);
          if (st?.policy.sha256 === msg.sha256 || st?.fileContexts?.sha256 === msg.sha256) misses.delete(id);
        }
        if (source !== undefined) {
          let srcs = sources.get(msg.sha256);
          if (srcs === undefined) {
            srcs = new Map();
            sources.set(msg.sha256, srcs);
          }
          srcs.set(msg.index, source);
        }
        // A new chunk may repair a binary that failed: forget the error, not a good explainer.
        const hit = loaded.get(msg.sha256);
        if (hit !== undefined && 'error' in hit) loaded.delete(msg.sha256);
        const fcHit = fcLoaded.get(msg.sha256);
        if (fcHit !== undefined && 'error' in fcHit) fcLoaded.delete(msg.sha256);
      }
      wake();
    },
    lookup(stateId) {
      const state = states.get(stateId);
      if (state === undefined) return { kind: 'pending', reason: 'state' };
      const ex = explainerFor(state.policy.sha256);
      if (ex === null) return { kind: 'pending', reason: 'binary' };
      if ('error' in ex) return { kind: 'error', message: ex.error };
      const ref = state.fileContexts ?? null;
      if (ref === null) {
        return {
          kind: 'ready',
          explainer: ex,
          booleans: state.booleans,
          state,
          fileContexts: null,
          fileContextsError: null,
        };
      }
      const fc = fileContextsFor(ref.sha256);
      if (fc === null) return { kind: 'pending', reason: 'file_contexts' };
      return 'error' in fc
        ? {
            kind: 'ready',
            explainer: ex,
            booleans: state.booleans,
            state,
            fileContexts: null,
            fileContextsError: fc.error,
          }
        : {
            kind: 'ready',
            explainer: ex,
            booleans: state.booleans,
            state,
            fileContexts: fc,
            fileContextsError: null,
          };
    },
    waitFor(stateId, timeoutMs, signal) {
      const r = store.lookup(stateId);
      if (r.kind !== 'pending') {
        misses.delete(stateId);
        options.onWait?.(stateId, 'found');
        return Promise.resolve(r);
      }
      const until = misses.get(stateId);
      if (until !== undefined) {
        if (clock() < until) {
          options.onWait?.(stateId, 'known_missing');
          return Promise.resolve(r);
        }
        misses.delete(stateId);
      }
      const joined = running.get(stateId);
      if (joined !== undefined) return joined;
      const p = wait(stateId, timeoutMs, signal).finally(() => running.delete(stateId));
      running.set(stateId, p);
      return p;
    },
    stats: () => ({
      states: states.size,
      binaries: chunks.size,
      loaded: loaded.size,
      fileContexts: fcLoaded.size,
      misses: misses.size,
    }),
  };
  return store;
}
