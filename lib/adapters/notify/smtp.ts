import nodemailer from 'nodemailer';

/**
 * Sends notification e-mails over SMTP with nodemailer. The calendar object
 * goes as nodemailer's `icalEvent`: a `text/calendar; method=…` alternative
 * part, which mail programs show with accept and decline buttons, and the
 * same object as the attachment `invite.ics`.
 */
export interface NotificationMail {
  to: { name: string; address: string };
  subject: string;
  text: string;
  html: string;
  /** iCalendar text; its METHOD line (REQUEST, CANCEL …) becomes the part's `method`. */
  ics: string | null;
  /** Message-ID seed: the same delivery always gets the same Message-ID, so a resent mail can be recognised. */
  deliveryId: string;
}

export interface MailSender {
  send(mail: NotificationMail): Promise<void>;
  close(): void;
}

/** An SMTP failure; `permanent` when the server answered with a 5xx reply code. */
export class MailSendError extends Error {
  readonly permanent: boolean;
  readonly responseCode: number | null;

  constructor(message: string, responseCode: number | null, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'MailSendError';
    this.responseCode = responseCode;
    this.permanent = responseCode !== null && responseCode >= 500 && responseCode < 600;
  }
}

export interface SmtpSettings {
  /** `smtp://user:pass@host:587` or `smtps://…:465`; nodemailer reads options such as `?ignoreTLS=true` from the query. */
  url: string;
  /** The From header, such as `"Hệ thống họp trực tuyến" <hop@example.gov.vn>`. */
  from: string;
  /** Limit for connecting, the greeting and each later reply. */
  timeoutMs: number;
}

/** Returns the METHOD property of an iCalendar object (REQUEST when it has none). */
export function icsMethod(ics: string): string {
  const match = /^METHOD:([A-Za-z-]+)\s*$/m.exec(ics);
  return match ? match[1]!.toUpperCase() : 'REQUEST';
}

export function createSmtpSender(settings: SmtpSettings): MailSender {
  // Settings in the URL win over the timeouts given here (nodemailer merges them that way).
  const transport = nodemailer.createTransport(
    { url: settings.url, connectionTimeout: settings.timeoutMs, greetingTimeout: settings.timeoutMs, socketTimeout: settings.timeoutMs },
    { from: settings.from },
  );
  const domain = /@([^>\s]+)>?\s*$/.exec(settings.from)?.[1] ?? 'hop.local';

  return {
    async send(mail) {
      try {
        await transport.sendMail({
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: `<${mail.deliveryId}@${domain}>`,
          ...(mail.ics === null ? {} : { icalEvent: { filename: 'invite.ics', method: icsMethod(mail.ics), content: mail.ics } }),
        });
      } catch (error) {
        const responseCode = typeof (error as { responseCode?: unknown }).responseCode === 'number' ? (error as { responseCode: number }).responseCode : null;
        throw new MailSendError(error instanceof Error ? error.message : String(error), responseCode, { cause: error });
      }
    },
    close() {
      transport.close();
    },
  };
}
