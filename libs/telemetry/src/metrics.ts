import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const PART_RE = /^[a-z][a-z0-9_]*$/;

/** `avcstream_<component>_<noun>_<unit>_total` (counters) or without `_total` (gauges, histograms). */
export function metricName(component: string, noun: string, unit: string, total = true): string {
  for (const [what, part] of [
    ['component', component],
    ['noun', noun],
    ['unit', unit],
  ] as const) {
    if (!PART_RE.test(part))
      throw new TypeError(`metric ${what} must be snake_case, got ${JSON.stringify(part)}`);
  }
  return `avcstream_${component}_${noun}_${unit}${total ? '_total' : ''}`;
}

export interface MetricsOptions {
  component: string;
  /** Also collect process/Node default metrics (default true). */
  defaults?: boolean;
}

export interface Metrics {
  readonly registry: Registry;
  readonly component: string;
  /** Counter `avcstream_<component>_<noun>_<unit>_total`. Labels must be bounded sets. */
  counter<L extends string = never>(
    noun: string,
    unit: string,
    help: string,
    labelNames?: readonly L[],
  ): Counter<L>;
  /** Gauge `avcstream_<component>_<noun>_<unit>`. */
  gauge<L extends string = never>(
    noun: string,
    unit: string,
    help: string,
    labelNames?: readonly L[],
  ): Gauge<L>;
  /** Histogram `avcstream_<component>_<noun>_<unit>`. */
  histogram<L extends string = never>(
    noun: string,
    unit: string,
    help: string,
    buckets: number[],
    labelNames?: readonly L[],
  ): Histogram<L>;
  /** Current value of a counter or gauge by full name and labels (for tests and /metrics consumers). */
  value(name: string, labels?: Record<string, string>): Promise<number>;
}

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  if (options.defaults !== false) collectDefaultMetrics({ register: registry, prefix: 'avcstream_' });
  const { component } = options;
  return {
    registry,
    component,
    counter(noun, unit, help, labelNames = []) {
      return new Counter({
        name: metricName(component, noun, unit),
        help,
        labelNames,
        registers: [registry],
      });
    },
    gauge(noun, unit, help, labelNames = []) {
      return new Gauge({
        name: metricName(component, noun, unit, false),
        help,
        labelNames,
        registers: [registry],
      });
    },
    histogram(noun, unit, help, buckets, labelNames = []) {
      return new Histogram({
        name: metricName(component, noun, unit, false),
        help,
        buckets,
        labelNames,
        registers: [registry],
      });
    },
    async value(name, labels = {}) {
      const metric = registry.getSingleMetric(name);
      if (metric === undefined) return 0;
      const data = await metric.get();
      let sum = 0;
      for (const v of data.values) {
        const ls = v.labels as Record<string, string | number>;
        if (Object.entries(labels).every(([k, val]) => String(ls[k]) === val)) sum += v.value;
      }
      return sum;
    },
  };
}
