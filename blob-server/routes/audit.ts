import express, { type Router } from 'express';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AuthService } from '../identity/auth-service.ts';
import { authOf, requireAuth, requireAuthForReads } from '../identity/http.ts';
import { BadRequest, Forbidden } from '../errors.ts';
import { CSV_HEADER, csvLine, type AuditQuery } from '../audit/audit-search.ts';

const PAGE = 100;
const MAX_PAGE = 1000;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?$/;

/** The filters from the query string; each must be a short string, times ISO 8601. */
function auditQuery(params: Record<string, unknown>): AuditQuery {
  const query: AuditQuery = {};
  for (const name of ['actor', 'action', 'target', 'from', 'to'] as const) {
    const value = params[name];
    if (value === undefined || value === '') continue;
    if (typeof value !== 'string' || value.length > 200) {
      throw new BadRequest(`the "${name}" filter must be one short text`);
    }
    if ((name === 'from' || name === 'to') && !ISO_TIME.test(value)) {
      throw new BadRequest(
        `"${name}" must be a date or time like 2026-11-25 or 2026-11-25T10:00:00Z`,
      );
    }
    query[name] = value;
  }
  // A bare date as the end of a range means the whole of that day.
  if (query.to && /^\d{4}-\d{2}-\d{2}$/.test(query.to)) query.to = `${query.to}T23:59:59.999Z`;
  return query;
}

/**
 * The audit trail's own check, for administrators while the server runs (`npm run audit:verify`
 * needs the server stopped, since LevelDB admits one process): verifies every entry and every
 * signed checkpoint, and can sign a checkpoint on demand.
 */
export function auditRoutes(options: { auth: AuthService; audit: AuditLog }): Router {
  const router = express.Router();
  const signedIn = requireAuth(options.auth);
  const readers = requireAuthForReads(options.auth);
  const administrator: express.RequestHandler = (_req, res, next) => {
    if (authOf(res).user.role !== 'administrator') {
      throw new Forbidden('only administrators may check the audit trail');
    }
    next();
  };

  router.get('/verify', signedIn, administrator, async (_req, res) => {
    const started = performance.now();
    const result = await options.audit.verify();
    res.json({ ...result, milliseconds: Math.round(performance.now() - started) });
  });

  router.get('/entries', signedIn, administrator, async (req, res) => {
    const query = auditQuery(req.query);
    const limit = Math.min(Number(req.query['limit'] ?? PAGE) || PAGE, MAX_PAGE);
    const before = req.query['before'];
    if (before !== undefined && !/^\d{1,15}$/.test(String(before))) {
      throw new BadRequest('"before" must be an entry number');
    }
    const page = await options.audit.search(query, {
      limit,
      ...(before !== undefined ? { before: Number(before) } : {}),
    });
    res.json(page);
  });

  // A download link the browser follows: the access cookie is accepted here (a read).
  router.get('/entries.csv', readers, administrator, async (req, res) => {
    const query = auditQuery(req.query);
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="exhibit-audit-${stamp}.csv"`);
    res.write(CSV_HEADER);
    for await (const entry of options.audit.matching(query)) {
      if (!res.write(csvLine(entry))) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  });

  router.post('/checkpoints', signedIn, administrator, async (_req, res) => {
    const checkpoint = await options.audit.checkpoint();
    res.status(201).json({ checkpoint: checkpoint ?? null });
  });

  return router;
}
