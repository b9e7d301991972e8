#!/usr/bin/env -S node --max-semi-space-size=8
// Thin launcher: Node >= 24 runs our TypeScript sources directly (type stripping).
// --max-semi-space-size=8 keeps V8's young generation small: the parser's live heap is ~10 MB and
// a 64 MB nursery only inflates RSS, while 4 MB scavenges twice as often (~10% slower parse).
// `parse` and the `ingester` stream through a small live heap: --heap-growing-percent=50 lets their old
// generation grow to 1.5x its live size (V8's default is up to 4x) before a full GC, cheap with a ~12 MB
// live heap, and keeps peak RSS flat (~118 MB instead of ~140 MB on 1M lines, bench/README.md). The
// commands whose caches grow with the input (explain, analyzer, run, report) keep V8's default growth:
// with it, explain spends ~20% less CPU per line. The flag is only read when V8 sizes the next full GC,
// so setting it here, before any work, is what the command-line flag does.
// The compile cache spares the type stripping on later starts; it must be on before the first .ts module
// loads, hence the dynamic import.
import { enableCompileCache } from 'node:module';
import { setFlagsFromString } from 'node:v8';

const command = process.argv[2];
if (command === 'parse' || command === 'ingester') setFlagsFromString('--heap-growing-percent=50');
enableCompileCache?.();
await import('../src/main.ts');
