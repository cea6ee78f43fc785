import express, { type Router } from 'express';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AuthService } from '../identity/auth-service.ts';
import { authOf, requireAuth } from '../identity/http.ts';
import { Forbidden } from '../errors.ts';

/**
 * The audit trail's own check, for administrators while the server runs (`npm run audit:verify`
 * needs the server stopped, since LevelDB admits one process): verifies every entry and every
 * signed checkpoint, and can sign a checkpoint on demand.
 */
export function auditRoutes(options: { auth: AuthService; audit: AuditLog }): Router {
  const router = express.Router();
  const signedIn = requireAuth(options.auth);
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

  router.post('/checkpoints', signedIn, administrator, async (_req, res) => {
    const checkpoint = await options.audit.checkpoint();
    res.status(201).json({ checkpoint: checkpoint ?? null });
  });

  return router;
}
