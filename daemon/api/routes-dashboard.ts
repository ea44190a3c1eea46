import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/** Where the page loads uPlot from: served straight from node_modules, never copied into the repo. */
export const DASHBOARD_UPLOT_PREFIX = '/vendor/uplot/';
const UPLOT_FILES = new Set(['/uPlot.iife.min.js', '/uPlot.min.css']);

/**
 * The page holds the API token (in localStorage), so it allows only its own scripts and styles: an
 * injected script could not run to read it. uPlot styles its elements through the CSSOM, which CSP allows.
 */
const PAGE_SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** The page's folder: web/ at the repo root, from the sources (daemon/api/) and from a build (dist/daemon/api/). */
export function dashboardWebDir(): string {
  const candidates = ['../../web/', '../../../web/'].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')));
  if (!found) throw new Error(`the dashboard's web/ folder is missing (looked in ${candidates.join(', ')})`);
  return found;
}

export function uplotDistDir(): string {
  return dirname(createRequire(import.meta.url).resolve('uplot'));
}

export interface DashboardRouteOptions {
  /** Whether a route exists, so the page can leave out what this hub does not serve (no 404s in its console). */
  hasRoute: (method: 'GET', url: string) => boolean;
  webDir?: string;
  uplotDir?: string;
}

/**
 * The live dashboard: `/` and its static files, uPlot's dist files, and `/dashboard.json` (which optional API
 * routes this hub has). None of these need the token; the page asks for it and sends it on every API call.
 */
export const dashboardRoutes: FastifyPluginAsync<DashboardRouteOptions> = async (app, options) => {
  await app.register(fastifyStatic, {
    root: options.webDir ?? dashboardWebDir(),
    prefix: '/',
    wildcard: false,
    decorateReply: false,
    setHeaders: (reply, path) => {
      if (path.endsWith('.html')) for (const [name, value] of Object.entries(PAGE_SECURITY_HEADERS)) reply.header(name, value);
    },
  });
  await app.register(fastifyStatic, {
    root: options.uplotDir ?? uplotDistDir(),
    prefix: DASHBOARD_UPLOT_PREFIX,
    wildcard: false,
    decorateReply: false,
    allowedPath: (pathName) => UPLOT_FILES.has(pathName),
    maxAge: '1d',
  });
  app.get('/dashboard.json', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('cache-control', 'no-cache');
    return { sync: options.hasRoute('GET', '/api/v1/sync') };
  });
};
