import { createTransport } from 'nodemailer';

/** Where and as whom notification mail is sent (SMTP_URL, MAIL_FROM, PUBLIC_URL). */
export interface MailSettings {
  /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465` (TLS from the start). */
  smtpUrl: string;
  /** The From header, e.g. `Exhibit <exhibit@example.org>`. */
  from: string;
  /** How people reach the app; links in mails are made absolute with it. */
  publicUrl: string;
}

export interface MailMessage {
  to: { name: string; address: string };
  title: string;
  body?: string;
  /** A path inside the app. */
  link?: string;
}

export interface Mailer {
  /** Resolves once the SMTP server accepted the message; rejects saying why it did not. */
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** Gives up on an SMTP server that does not answer, rather than holding the mail forever. */
const TIMEOUT_MS = 30_000;

/** Mail through one SMTP server (nodemailer, pooled connections). */
export function smtpMailer(settings: MailSettings): Mailer {
  const transport = createTransport(
    {
      url: settings.smtpUrl,
      pool: true,
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
    },
    { from: settings.from },
  );
  return {
    async send(message) {
      await transport.sendMail({
        to: message.to,
        ...composeMail(message, settings.publicUrl),
      });
    },
    close() {
      transport.close();
    },
  };
}

/** Subject, plain text and a simple HTML version of one notification. */
export function composeMail(
  message: Omit<MailMessage, 'to'>,
  publicUrl: string,
): { subject: string; text: string; html: string } {
  // Relative to PUBLIC_URL as a folder, so a server behind a path prefix keeps it.
  const base = publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`;
  const url = message.link ? new URL(message.link.slice(1), base).href : undefined;
  const footer = 'You receive this because of your account in Exhibit.';
  const text = [message.body, url ? `Open in Exhibit: ${url}` : undefined, `-- \n${footer}`]
    .filter((part) => part !== undefined)
    .join('\n\n');
  const html = [
    `<p><strong>${escapeHtml(message.title)}</strong></p>`,
    message.body ? `<p>${escapeHtml(message.body).replaceAll('\n', '<br>')}</p>` : '',
    url ? `<p><a href="${escapeHtml(url)}">Open in Exhibit</a></p>` : '',
    `<p style="color:#64748b;font-size:small">${footer}</p>`,
  ].join('\n');
  // A title is one line: a newline in a file name must not become a header of its own.
  return { subject: message.title.replace(/[\r\n]+/g, ' '), text, html };
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}
