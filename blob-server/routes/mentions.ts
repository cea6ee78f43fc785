import express, { type Router } from 'express';
import { atLeast } from '../../web/lib/shared/access-policy.ts';
import { mentionRequest } from '../../web/lib/shared/mentions.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { BadRequest, Forbidden } from '../errors.ts';
import type { AuthService } from '../identity/auth-service.ts';
import type { CaseAccessService } from '../identity/case-access.ts';
import { authOf, requestContext, requireAuth } from '../identity/http.ts';
import type { Notifications } from '../notifications/notifications.ts';
import { RateLimit } from '../requests/rate-limit.ts';
import { caseIdOf } from './cases.ts';
import { parseBody } from './validate.ts';

/** Mention requests one person may send per window: a busy thread, never a flood. */
export const DEFAULT_MENTION_LIMIT = { limit: 60, windowMs: 10 * 60 * 1000 };

/**
 * `POST /api/cases/:id/mentions` `{ userIds, evidenceId?, excerpt }`: a comment in the case
 * document names these people, so tell them. The comment itself travels by sync; this only
 * notifies, and only members of the case, from someone who may write in it.
 */
export function mentionRoutes(options: {
  auth: AuthService;
  cases: CaseAccessService;
  notifications: Notifications;
  audit?: AuditLog;
  limit?: { limit: number; windowMs: number };
}): Router {
  const router = express.Router();
  const signedIn = requireAuth(options.auth);
  const perCaller = new RateLimit({
    ...(options.limit ?? DEFAULT_MENTION_LIMIT),
    what: 'too many mentions sent',
  });

  router.post('/:id/mentions', signedIn, express.json({ limit: '16kb' }), async (req, res) => {
    const caseId = caseIdOf(req.params.id);
    const auth = authOf(res);
    const input = parseBody(mentionRequest, req.body);
    if (!atLeast(await options.cases.levelFor(auth.user, caseId), 'contribute')) {
      throw new Forbidden('only members who may write in this case can mention people in it');
    }
    perCaller.take(auth.user.id);
    const members = await options.cases.members(auth, caseId);
    const recipients: string[] = [];
    for (const userId of new Set(input.userIds)) {
      const member = members.find((m) => m.userId === userId);
      const level =
        member && (await options.cases.levelFor({ id: userId, role: member.role }, caseId));
      if (!level) throw new BadRequest(`user ${userId} is not a member of this case`);
      if (userId !== auth.user.id) recipients.push(userId);
    }
    const link = input.evidenceId
      ? `/cases/${caseId}/evidence/${input.evidenceId}`
      : `/cases/${caseId}`;
    const sent = await options.notifications.notify({
      userIds: recipients,
      kind: 'case.mentioned',
      title: `${auth.user.name} mentioned you`,
      body: input.excerpt,
      caseId,
      link,
      actorId: auth.user.id,
    });
    await options.audit?.record({
      action: 'case.mentioned',
      actor: { userId: auth.user.id, email: auth.user.email },
      target: `case:${caseId}`,
      details: {
        mentioned: recipients,
        ...(input.evidenceId ? { evidenceId: input.evidenceId } : {}),
      },
      ...withoutEmpty(requestContext(req)),
    });
    res.json({ notified: sent.length });
  });

  return router;
}

function withoutEmpty(ctx: { ip: string; userAgent?: string }) {
  return { ip: ctx.ip, ...(ctx.userAgent ? { userAgent: ctx.userAgent } : {}) };
}
