import express, { type Router } from 'express';
import { deviceLogBatch, registerDeviceRequest } from '../../web/lib/shared/device-log.ts';
import type { DeviceCustody } from '../custody/device-custody.ts';
import type { CustodyReports } from '../custody/custody-report.ts';
import type { CaseActivity } from '../custody/case-activity.ts';
import { BadRequest, DeviceLogGap } from '../errors.ts';
import type { AuthService } from '../identity/auth-service.ts';
import { authOf, requestContext, requireAuth } from '../identity/http.ts';
import { paramOf, parseBody } from './validate.ts';

const DEVICE_ID = /^[A-Za-z0-9_-]{43}$/;
const ID = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * A user's devices and their custody logs: `POST /api/devices` registers this browser's key,
 * `GET` lists the caller's devices, `DELETE /api/devices/:id` revokes one, and
 * `POST /api/devices/:id/log` merges signed entries into the audit trail.
 */
export function deviceRoutes(options: { auth: AuthService; devices: DeviceCustody }): Router {
  const router = express.Router();
  const signedIn = requireAuth(options.auth);

  router.post('/', signedIn, express.json({ limit: '8kb' }), async (req, res) => {
    const input = parseBody(registerDeviceRequest, req.body);
    res.json(await options.devices.register(authOf(res), input, requestContext(req)));
  });

  router.get('/', signedIn, async (_req, res) => {
    res.json({ devices: await options.devices.list(authOf(res)) });
  });

  router.delete('/:id', signedIn, async (req, res) => {
    const id = paramOf(req.params.id, DEVICE_ID, 'a device (its key thumbprint)');
    res.json(await options.devices.revoke(authOf(res), id, requestContext(req)));
  });

  router.post('/:id/log', signedIn, express.json({ limit: '2mb' }), async (req, res) => {
    const id = paramOf(req.params.id, DEVICE_ID, 'a device (its key thumbprint)');
    const { entries } = parseBody(deviceLogBatch, req.body);
    try {
      res.json(await options.devices.merge(authOf(res), id, entries, requestContext(req)));
    } catch (err) {
      // The device resends from the entry named: say which in a field it can read.
      if (err instanceof DeviceLogGap) {
        res
          .status(err.status)
          .json({ error: err.code, message: err.message, expected: err.expected });
        return;
      }
      throw err;
    }
  });

  return router;
}

/** `GET /api/cases/:id/evidence/:evidenceId/custody`: the custody report of one item. */
export function custodyRoutes(options: {
  auth: AuthService;
  reports: CustodyReports;
  activity?: CaseActivity;
}): Router {
  const router = express.Router();
  const { activity } = options;
  if (activity) {
    // `GET /api/cases/:id/activity?before=<seq>&limit=<1-100>`: newest first, paged.
    router.get('/:id/activity', requireAuth(options.auth), async (req, res) => {
      const caseId = paramOf(req.params.id, ID, 'a case');
      const limit = Math.min(100, Math.max(1, Number(req.query['limit'] ?? 30) || 30));
      const before = req.query['before'];
      if (before !== undefined && !/^\d{1,15}$/.test(String(before))) {
        throw new BadRequest('before must be an entry number');
      }
      res.setHeader('Cache-Control', 'no-store');
      res.json(
        await activity.list(authOf(res), caseId, {
          limit,
          ...(before !== undefined ? { before: Number(before) } : {}),
        }),
      );
    });
  }
  router.get('/:id/evidence/:evidenceId/custody', requireAuth(options.auth), async (req, res) => {
    const caseId = paramOf(req.params.id, ID, 'a case');
    const evidenceId = paramOf(req.params.evidenceId, ID, 'an evidence item');
    res.setHeader('Cache-Control', 'no-store');
    res.json(await options.reports.report(authOf(res), caseId, evidenceId));
  });
  return router;
}
