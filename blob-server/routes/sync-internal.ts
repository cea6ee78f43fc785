import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { decodeDocName, InvalidDocName } from '../../web/lib/shared/doc-names.ts';
import type { SyncAuth } from '../../sync-server/auth.ts';
import { BadRequest, Unauthenticated } from '../errors.ts';
import { parseBody } from './validate.ts';

const admitRequest = z.object({ token: z.string().max(4096).optional(), doc: z.string().max(200) });

/**
 * What a separately run sync-server asks of this server, authenticated by the shared
 * SYNC_SERVICE_TOKEN: admit a connection and list a case's readers. Which files a case holds is never taken
 * from its document (clients write it): only the uploads the API server verified count.
 */
export function syncInternalRoutes(options: { auth: SyncAuth; serviceToken: string }): Router {
  const router = express.Router();
  const expected = Buffer.from(options.serviceToken);
  router.use((req: Request, _res: Response, next: NextFunction) => {
    const given = Buffer.from(/^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new Unauthenticated('this route is for the sync-server, with the service token');
    }
    next();
  });
  router.use(express.json({ limit: '8mb' }));

  router.post('/admit', async (req, res) => {
    const { token, doc } = parseBody(admitRequest, req.body);
    let name;
    try {
      name = decodeDocName(doc);
    } catch (err) {
      if (err instanceof InvalidDocName) throw new BadRequest(err.message);
      throw err;
    }
    const fake = { headers: token ? { authorization: `Bearer ${token}` } : {}, url: '/' };
    const identity = await options.auth.authenticate(fake as never).catch((err: unknown) => {
      throw new Unauthenticated((err as Error).message);
    });
    res.json({
      identity,
      access: await options.auth.access(identity, name),
      index: options.auth.indexFor(identity),
    });
  });

  router.get('/cases/:id/readers', async (req, res) => {
    res.json({ userIds: await options.auth.caseReaders(String(req.params.id)) });
  });

  return router;
}
