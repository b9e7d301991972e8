import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface ExtraRoute {
  method: 'GET' | 'POST';
  url: string;
  handler: () => Promise<{ status: number; body: unknown }> | { status: number; body: unknown };
}

export interface HealthServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  /** `/readyz` answers 200 only when this returns true (sources and sinks connected, not shutting down). */
  isReady: () => boolean;
  /** `/livez` answers 200 unless this returns false (default: always alive). */
  isAlive?: () => boolean;
  extraRoutes?: ExtraRoute[];
}

export interface HealthServer {
  /** Listen; resolves with the bound port (useful with port 0). */
  start(): Promise<{ port: number }>;
  close(): Promise<void>;
  readonly app: FastifyInstance;
}

/** fastify server with `/metrics` (Prometheus text), `/livez` and `/readyz` (503 until ready). */
export function createHealthServer(options: HealthServerOptions): HealthServer {
  const app = Fastify({ logger: false });
  app.get('/metrics', async (_req, reply) => {
    const body = await options.registry.metrics();
    return reply.header('content-type', options.registry.contentType).send(body);
  });
  app.get('/livez', async (_req, reply) => {
    const alive = options.isAlive?.() ?? true;
    return reply.code(alive ? 200 : 503).send({ status: alive ? 'ok' : 'dead' });
  });
  app.get('/readyz', async (_req, reply) => {
    const ready = options.isReady();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
  });
  for (const route of options.extraRoutes ?? []) {
    app.route({
      method: route.method,
      url: route.url,
      handler: async (_req, reply) => {
        const { status, body } = await route.handler();
        return reply.code(status).send(body);
      },
    });
  }
  return {
    app,
    async start() {
      await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : options.port;
      return { port };
    },
    async close() {
      await app.close();
    },
  };
}
