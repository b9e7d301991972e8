#!/usr/bin/env -S node --max-semi-space-size=4
// Thin launcher: Node >= 24 runs our TypeScript sources directly (type stripping).
// --max-semi-space-size=4 keeps V8's young generation small: the parser's live heap is ~10 MB and
// a 64 MB nursery only inflates RSS (bench/README.md). The compile cache spares the type stripping
// on later starts; it must be on before the first .ts module loads, hence the dynamic import.
import { enableCompileCache } from 'node:module';

enableCompileCache?.();
await import('../src/main.ts');
