import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface SmtpSink {
  host: string;
  port: number;
  mails: ParsedMail[];
  /** Answer the next RCPT TO with this SMTP error (e.g. 550 or 451), once per entry. */
  failNext(code: number, message: string): void;
  close(): Promise<void>;
}

/** nodemailer's smtp-server in process: accepts any mail (auth optional) and keeps it parsed. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const mails: ParsedMail[] = [];
  const failures: Array<{ code: number; message: string }> = [];
  const options: SMTPServerOptions = {
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(_auth, _session, callback) {
      callback(null, { user: 'gateway' });
    },
    onRcptTo(_address, _session, callback) {
      const failure = failures.shift();
      if (failure) {
        const error = Object.assign(new Error(failure.message), { responseCode: failure.code });
        callback(error);
        return;
      }
      callback();
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          mails.push(mail);
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  };
  const server = new SMTPServer(options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address() as { port: number };
  return {
    host: '127.0.0.1',
    port: address.port,
    mails,
    failNext: (code, message) => failures.push({ code, message }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
