import express, { type Router } from 'express';
import { listNotificationsQuery, markReadRequest } from '../../web/lib/shared/notifications.ts';
import type { AuthService } from '../identity/auth-service.ts';
import { authOf, requireAuth } from '../identity/http.ts';
import type { Notifications } from '../notifications/notifications.ts';
import { parseBody } from './validate.ts';

/**
 * The caller's own notifications: `GET /api/notifications?before=&limit=` (newest first, with the
 * unread count) and `POST /api/notifications/read` with `{ ids }` or `{ all: true }`. Nobody
 * reaches another person's: every lookup is under the caller's own id.
 */
export function notificationRoutes(options: {
  auth: AuthService;
  notifications: Notifications;
}): Router {
  const router = express.Router();
  const signedIn = requireAuth(options.auth);

  router.get('/', signedIn, async (req, res) => {
    const query = parseBody(listNotificationsQuery, req.query);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await options.notifications.list(authOf(res).user.id, query));
  });

  router.post('/read', signedIn, express.json({ limit: '16kb' }), async (req, res) => {
    const input = parseBody(markReadRequest, req.body);
    res.json(
      await options.notifications.markRead(authOf(res).user.id, 'all' in input ? 'all' : input.ids),
    );
  });

  return router;
}
